// Keeps docs/clients.md's snippets runnable as written: every code block is marked
// `<!-- clients-example: NAME -->` and runs against the sandbox upstream behind a gateway on a
// free loopback port (its http://127.0.0.1:4000 replaced by the gateway's origin): the GraphQL
// operation is sent, each `ts` block is written to a file beside a copy of possible-types.json and
// run with tsx, each `sh` block runs in sh with the real curl; what a `ts` or `sh` block prints must
// be the `text` block after it. The snippets that send an idempotency key run a second time through
// a connection that loses the award's first answer: their retry must answer `replayed: true`, with
// one upstream POST and the same Idempotency-Key on both attempts.

import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { startSandboxUpstream } from '../../src/sandbox/index.js';
import { useGatewayOn } from '../support/gateway.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const DOCS_ORIGIN = 'http://127.0.0.1:4000';
const CLIENTS = readFileSync(join(ROOT, 'docs/clients.md'), 'utf8');
// Under the repository (gitignored), so the snippets' imports resolve to its node_modules.
const RUN_DIR = join(ROOT, 'test/artifacts/clients-docs');

interface Snippet {
  name: string;
  language: string;
  code: string;
  /** The `text` block right after it: what it prints. */
  output: string | null;
}

const BLOCK = /(?:<!-- clients-example: ([\w-]+) -->\n)?```(\w*)\n([\s\S]*?)\n```\n(?:```text\n([\s\S]*?)\n```\n)?/g;

function snippets(markdown: string): Snippet[] {
  return [...markdown.matchAll(BLOCK)].map(([, name, language, code, output]) => ({ name: name ?? '', language: language!, code: code!, output: output ?? null }));
}

const all = snippets(CLIENTS);

/** Values that differ between runs: the sandbox's history ids. */
const masked = (text: string) => text.replace(/challenge history \d+/g, 'challenge history <id>').replace(/\r/g, '').trimEnd();

function runTs(name: string, code: string, origin: string): Promise<string> {
  mkdirSync(RUN_DIR, { recursive: true });
  copyFileSync(join(ROOT, 'src/generated/possible-types.json'), join(RUN_DIR, 'possible-types.json'));
  const file = join(RUN_DIR, `${name}.ts`);
  writeFileSync(file, code.replaceAll(DOCS_ORIGIN, origin));
  return promisify(execFile)(process.execPath, ['--import', 'tsx', file], { cwd: RUN_DIR, timeout: 30_000 }).then(({ stdout }) => stdout);
}

function runSh(code: string, origin: string): Promise<string> {
  const env = { PATH: process.env.PATH, GATEWAY_URL: `${origin}/graphql` };
  // What it prints, whatever its exit code (the typed example exits 2 on a refusal).
  return promisify(execFile)('/bin/sh', ['-c', code.replaceAll(DOCS_ORIGIN, origin)], { cwd: ROOT, env, timeout: 60_000 }).then(
    ({ stdout }) => stdout,
    (error: { stdout?: string }) => {
      if (error.stdout === undefined) throw error;
      return error.stdout;
    },
  );
}

/** A forwarder to the gateway that loses the first successful award's answer (the connection is cut after the gateway answered). */
async function startLossyProxy(target: URL) {
  const keys: string[] = [];
  let lost = false;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([name]) => !['host', 'connection', 'content-length', 'keep-alive'].includes(name)) as [string, string][],
      );
      const answer = await fetch(new URL(req.url!, target), { method: req.method, headers, body: req.method === 'POST' ? Buffer.concat(chunks) : undefined });
      const body = await answer.text();
      const key = req.headers['idempotency-key'];
      if (typeof key === 'string') keys.push(key);
      if (!lost && key !== undefined && body.includes('AddChallengeHistorySuccess')) {
        lost = true;
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    keys,
    lost: () => lost,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('every code block of docs/clients.md is a marked example, of a language the test runs', () => {
  expect(all.filter((snippet) => snippet.name === '').map((snippet) => snippet.code.slice(0, 60))).toEqual([]);
  expect(all.map((snippet) => `${snippet.name}:${snippet.language}`)).toEqual(['operation:graphql', 'header:sh', 'apollo:ts', 'urql:ts', 'typed:sh']);
  for (const snippet of all.filter((s) => s.language !== 'graphql')) expect(snippet.output, `${snippet.name} shows what it prints`).not.toBeNull();
  // The snippets stand alone: nothing they use is left to the reader.
  for (const snippet of all.filter((s) => s.language === 'ts')) {
    expect(snippet.code).toMatch(/const token = /);
    expect(snippet.code).not.toMatch(/crypto-hash|createHash/);
  }
});

describe.skipIf(!existsSync('/usr/bin/curl'))('each example, against the sandbox', () => {
  const { upstream: sandbox, gw } = useGatewayOn(startSandboxUpstream);
  const byName = (name: string) => all.find((snippet) => snippet.name === name)!;

  test('operation: the document runs and answers a success', async () => {
    const response = await gw.graphql(
      { query: byName('operation').code, variables: { ambassadorId: '1', input: { points: 1, score: 1, challengeId: '1' } } },
      { token: 'sandbox-manager-token' },
    );
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data.addChallengeHistory).toMatchObject({ __typename: 'AddChallengeHistorySuccess', replayed: false });
  });

  test.each(['header', 'apollo', 'urql', 'typed'])('%s prints what the page shows', async (name) => {
    const snippet = byName(name);
    const before = sandbox.histories.length;
    const printed = snippet.language === 'ts' ? await runTs(name, snippet.code, gw.url.origin) : await runSh(snippet.code, gw.url.origin);
    expect(masked(printed)).toBe(masked(snippet.output!));
    if (name !== 'typed') expect(sandbox.histories.length - before, 'one award recorded').toBe(1);
  });

  test.each(['apollo', 'urql'])('%s: an answer lost once is retried with the same key and replayed: one POST upstream', async (name) => {
    const snippet = byName(name);
    const proxy = await startLossyProxy(gw.url);
    try {
      const before = sandbox.histories.length;
      const printed = await runTs(`${name}-lossy`, snippet.code, proxy.origin);
      expect(proxy.lost()).toBe(true);
      expect(masked(printed)).toBe(masked(snippet.output!).replace('replayed: false', 'replayed: true'));
      expect(sandbox.histories.length - before).toBe(1);
      // Both attempts carried the one key, in the draft's quoted form.
      expect(proxy.keys.length).toBeGreaterThanOrEqual(2);
      expect(new Set(proxy.keys).size).toBe(1);
      expect(proxy.keys[0]).toMatch(/^"[0-9a-f-]{36}"$/);
    } finally {
      await proxy.close();
    }
  });
});
