// Keeps the examples of docs/federation.md, docs/operations.md, docs/architecture.md and
// docs/performance.md true (README's run in readme-examples.test.ts, clients.md's in
// clients-examples.test.ts). Every fenced block of those pages is accounted for here: run, or
// judged not an example, with the reason.
//
// - federation.md `compose.ts`: run as written with tsx, beside a copy of subgraph.graphql and the
//   leaderboard subgraph's SDL; it must write supergraph.graphql with both subgraphs.
// - federation.md `gateway.config.ts`: `@graphql-hive/gateway` (the CLI package) is not installed,
//   so the block is imported with that name resolved to a stand-in exporting `defineConfig = (c) => c`
//   (what the real one does), and the config it defines is given, as it is, to
//   `@graphql-hive/gateway-runtime` (the runtime the CLI runs) with the composed supergraph (its
//   routing URLs pointed at a real gateway and a real leaderboard subgraph): a request through it
//   must reach the upstream with the caller's token and x-request-id, and the leaderboard without.
// - federation.md `yaml` (Apollo Router headers): parsed; its header names must be the ones the
//   gateway reads, and sent under those names they must reach the upstream.
// - operations.md `json`: the same request (mutation `Award`, addChallengeHistories of 3 items)
//   sent to a gateway; its real log line must have the documented keys in the documented order
//   and the documented values wherever they do not vary between runs.
// - architecture.md: the layout tree and the request-flow diagram are pictures of the code, not
//   something to run; the three `ts` blocks are a recipe for a hypothetical endpoint
//   (`Query.ambassador`, which does not exist), so they cannot run or compile as they are; what
//   they rely on in src/ (files, types, helpers, the Endpoint fields) is checked to exist instead.
// - performance.md: one block, the printed figures of a load-test run (40 s, measured on a given
//   machine): results, not an example; operations.md's load-test section is what describes it.

import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import type { GatewayRuntime } from '@graphql-hive/gateway-runtime';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ROUTER_SECRET_HEADER } from '../../src/plugins/service-sdl-guard.js';
import { LEADERBOARD_SDL, startLeaderboardSubgraph } from '../federation/leaderboard-subgraph.js';
import type { LeaderboardSubgraph } from '../federation/leaderboard-subgraph.js';
import { postGraphQL, TEST_TOKEN, useGatewayOn } from '../support/gateway.js';
import { challengeById, startScriptableUpstream } from '../support/scriptable-upstream.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const doc = (name: string) => readFileSync(join(ROOT, 'docs', name), 'utf8');
// Under the repository (gitignored), so the blocks' imports resolve to its node_modules.
const RUN_DIR = join(ROOT, 'test/artifacts/federation-docs');

interface Block {
  language: string;
  code: string;
}

/** Every fenced block of a page, indented ones (in list items) included, with their indentation removed. */
function blocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^( *)```(\w*)\n([\s\S]*?)\n\1```$/gm)].map(([, indent, language, code]) => ({
    language: language!,
    code: code!
      .split('\n')
      .map((line) => line.slice(indent!.length))
      .join('\n'),
  }));
}

const federation = blocks(doc('federation.md'));
const composeBlock = federation.find((b) => b.language === 'ts' && b.code.startsWith('// compose.ts'));
const configBlock = federation.find((b) => b.language === 'ts' && b.code.startsWith('// gateway.config.ts'));
const routerYaml = federation.find((b) => b.language === 'yaml');

test('every fenced block of these pages is one this file runs or has judged', () => {
  expect(federation.map((b) => `${b.language}:${b.code.split('\n')[0]}`)).toEqual([
    'ts:// compose.ts: writes supergraph.graphql from this subgraph and yours',
    'ts:// gateway.config.ts, for `npx hive-gateway supergraph`',
    'yaml:headers:',
  ]);
  // The request log line, then the keyed load test's printed figures (Sentinel, one server, Cluster).
  expect(blocks(doc('operations.md')).map((b) => b.language)).toEqual(['json', 'text', 'text', 'text']);
  // Layout tree, request-flow diagram, then the add-an-endpoint recipe.
  expect(blocks(doc('architecture.md')).map((b) => b.language)).toEqual(['', '', 'ts', 'ts', 'ts']);
  // The load test's printed figures.
  expect(blocks(doc('performance.md')).map((b) => b.language)).toEqual(['']);
});

const { upstream, gw } = useGatewayOn(startScriptableUpstream);

describe('federation.md', () => {
  let supergraph = '';
  let leaderboard: LeaderboardSubgraph;
  let router: GatewayRuntime;
  let routerServer: Server;
  let routerUrl: URL;
  let gatewayConfig: { supergraph: unknown; propagateHeaders: { fromClientToSubgraphs: (payload: { request: Request; subgraphName: string }) => Record<string, string | null> } };

  beforeAll(async () => {
    rmSync(RUN_DIR, { recursive: true, force: true });
    mkdirSync(RUN_DIR, { recursive: true });
    // compose.ts, as the reader runs it: in a folder with both subgraphs' SDL.
    copyFileSync(join(ROOT, 'subgraph.graphql'), join(RUN_DIR, 'subgraph.graphql'));
    writeFileSync(join(RUN_DIR, 'leaderboard.graphql'), LEADERBOARD_SDL);
    writeFileSync(join(RUN_DIR, 'compose.ts'), composeBlock!.code);
    await promisify(execFile)(process.execPath, ['--import', 'tsx', 'compose.ts'], { cwd: RUN_DIR, timeout: 30_000 });
    supergraph = readFileSync(join(RUN_DIR, 'supergraph.graphql'), 'utf8');

    // gateway.config.ts, with `@graphql-hive/gateway` resolved to the stand-in beside it.
    const standIn = join(RUN_DIR, 'node_modules/@graphql-hive/gateway');
    mkdirSync(standIn, { recursive: true });
    writeFileSync(join(standIn, 'package.json'), JSON.stringify({ name: '@graphql-hive/gateway', type: 'module', main: 'index.js' }));
    writeFileSync(join(standIn, 'index.js'), 'export const defineConfig = (config) => config;\n');
    writeFileSync(join(RUN_DIR, 'gateway.config.ts'), configBlock!.code);
    ({ gatewayConfig } = await import(pathToFileURL(join(RUN_DIR, 'gateway.config.ts')).href));

    leaderboard = await startLeaderboardSubgraph();
    // The supergraph compose.ts wrote, its routing URLs pointed at the running subgraphs.
    const routed = supergraph
      .replace('http://challenge-gateway:4000/graphql', gw.url.href)
      .replace('http://leaderboard:4001/graphql', leaderboard.url.href);
    router = createGatewayRuntime({ ...gatewayConfig, supergraph: routed, logging: false } as Parameters<typeof createGatewayRuntime>[0]);
    routerServer = createServer(router);
    await new Promise<void>((resolve) => routerServer.listen(0, '127.0.0.1', resolve));
    routerUrl = new URL(`http://127.0.0.1:${(routerServer.address() as AddressInfo).port}/graphql`);
  });
  afterAll(async () => {
    if (routerServer) {
      await new Promise<void>((resolve) => {
        routerServer.close(() => resolve());
        routerServer.closeAllConnections();
      });
    }
    await router?.dispose();
    await leaderboard?.close();
  });

  test('compose.ts writes a supergraph with both subgraphs and their routing URLs', () => {
    expect(supergraph).toContain('@join__graph(name: "challenges", url: "http://challenge-gateway:4000/graphql")');
    expect(supergraph).toContain('@join__graph(name: "leaderboard", url: "http://leaderboard:4001/graphql")');
  });

  test('gateway.config.ts: the supergraph compose.ts writes, and the header rule for the challenges subgraph only', async () => {
    expect(gatewayConfig.supergraph).toBe('./supergraph.graphql');
    const request = new Request('http://router/graphql', {
      headers: { authorization: 'Bearer t', 'x-request-id': 'r-1', cookie: 'c=1', 'x-other': 'o' },
    });
    const { fromClientToSubgraphs } = gatewayConfig.propagateHeaders;
    expect(fromClientToSubgraphs({ request, subgraphName: 'challenges' })).toEqual({ authorization: 'Bearer t', 'x-request-id': 'r-1' });
    expect(fromClientToSubgraphs({ request, subgraphName: 'leaderboard' })).toEqual({});
  });

  test('gateway.config.ts in Hive Gateway\'s runtime: the token and x-request-id reach the upstream, the token not the leaderboard', async () => {
    upstream.reset();
    upstream.respondWith(challengeById());
    leaderboard.requests.length = 0;
    const res = await postGraphQL(routerUrl, { query: '{ challenge(id: "5") { id title leaderboardPosition } }' }, { headers: { 'x-request-id': 'docs-router-1' } });
    expect(res.body).toEqual({ data: { challenge: { id: '5', title: 'Challenge 5', leaderboardPosition: 50 } } });
    expect(upstream.requests.map((r) => [r.method, r.url, r.headers.authorization, r.headers['x-request-id']])).toEqual([
      ['GET', '/api/v2/manager/challenges/5', `Bearer ${TEST_TOKEN}`, 'docs-router-1'],
    ]);
    expect(leaderboard.requests.length).toBeGreaterThan(0);
    // Not the token. (x-request-id does reach it: Hive Gateway's runtime forwards its request id to
    // every subgraph on its own, whatever the header rule says.)
    for (const headers of leaderboard.requests) expect(headers).not.toHaveProperty('authorization');
  });

  test('router.yaml: the subgraph compose.ts names, and the headers the gateway reads', async () => {
    const config = parseYaml(routerYaml!.code) as {
      headers: { subgraphs: Record<string, { request: Array<{ propagate?: { named: string }; insert?: { name: string; value: string } }> }> };
    };
    expect(Object.keys(config.headers.subgraphs)).toEqual(['challenges']);
    expect(supergraph).toContain('@join__graph(name: "challenges"');
    const rules = config.headers.subgraphs.challenges!.request;
    const propagated = rules.flatMap((rule) => (rule.propagate ? [rule.propagate.named] : []));
    expect(propagated).toEqual(['authorization', 'x-request-id']);
    expect(rules.flatMap((rule) => (rule.insert ? [rule.insert.name] : []))).toEqual([ROUTER_SECRET_HEADER]);
    expect(rules).toHaveLength(3);

    // Sent under the names the yaml propagates, they reach the upstream (the gateway reads them).
    upstream.reset();
    upstream.respondWith(challengeById());
    const headers = Object.fromEntries(propagated.map((name) => [name, name === 'authorization' ? `Bearer ${TEST_TOKEN}` : 'docs-yaml-1']));
    const res = await gw.graphql({ query: '{ challenge(id: "2") { id } }' }, { token: null, headers });
    expect(res.body).toEqual({ data: { challenge: { id: '2' } } });
    expect(upstream.requests[0]!.headers.authorization).toBe(`Bearer ${TEST_TOKEN}`);
    expect(upstream.requests[0]!.headers['x-request-id']).toBe('docs-yaml-1');
  });
});

describe('operations.md', () => {
  test('the request log line: the documented keys, in order, and its deterministic values', async () => {
    const documented = JSON.parse(blocks(doc('operations.md'))[0]!.code) as Record<string, unknown>;
    expect(documented).toMatchObject({ operationName: 'Award', rootFields: 'addChallengeHistories', upstreamCalls: 3 });
    upstream.reset();
    upstream.respondWith(challengeById());
    const item = (ambassadorId: string) => ({ ambassadorId, input: { points: 10, score: 1, challengeId: '3' } });
    const res = await gw.graphql({
      operationName: 'Award',
      query: 'mutation Award($items: [AddChallengeHistoryItemInput!]!) { addChallengeHistories(items: $items) { __typename } }',
      variables: { items: [item('1'), item('2'), item('3')] },
    });
    expect(res.status).toBe(200);
    expect(upstream.requests.filter((r) => r.method === 'POST')).toHaveLength(3);

    const line = gw.logs
      .map((raw) => JSON.parse(raw) as Record<string, unknown>)
      .find((entry) => entry.msg === 'request' && entry.operationName === 'Award');
    expect(line, 'the request was logged').toBeDefined();
    expect(Object.keys(line!)).toEqual(Object.keys(documented));
    const deterministic = ['level', 'msg', 'traceId', 'method', 'path', 'status', 'operationName', 'operationType', 'rootFields', 'resultType', 'errorCode', 'upstreamCalls', 'upstreamStatus', 'upstreamFailure'];
    const pick = (entry: Record<string, unknown>) => Object.fromEntries(deterministic.map((key) => [key, entry[key]]));
    expect(pick(line!)).toEqual(pick(documented));
    // The values that vary have the documented shapes.
    expect(line!.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(documented.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    for (const key of ['time', 'durationMs', 'upstreamDurationMs']) expect(typeof line![key], key).toBe(typeof documented[key]);
  });
});

describe('architecture.md', () => {
  test('what the add-an-endpoint recipe relies on exists in src/', () => {
    const page = doc('architecture.md');
    const recipe = page.slice(page.indexOf('## How to add an endpoint'));
    // The files it names.
    for (const file of new Set(Array.from(recipe.matchAll(/`(src\/[\w/.-]+\.ts)`/g), ([, path]) => path!))) {
      expect(existsSync(join(ROOT, file)), file).toBe(true);
    }
    const source = (file: string) => readFileSync(join(ROOT, 'src', file), 'utf8');
    // Endpoint's fields the first block fills in.
    expect(source('upstream/endpoint.ts')).toMatch(/export interface Endpoint<Route extends string, Input, Result>/);
    for (const field of ['method', 'route', 'decode', 'record', 'notFound']) expect(source('upstream/endpoint.ts')).toMatch(new RegExp(`\\b${field}\\??:`));
    // UpstreamApi.reader, the resolver helpers.
    expect(source('datasource/api.ts')).toMatch(/private reader</);
    expect(source('datasource/api.ts')).toMatch(/this\.reader\(CHALLENGE/);
    expect(source('schema/ids.ts')).toMatch(/export function upstreamIdArgument\(/);
    expect(source('schema/challenge.ts')).toMatch(/builder\.queryField\(/);
  });
});
