// The fast lane (src/lane/fast-lane.ts) answers exactly what Yoga answers. Each case sends the same
// request twice: the first time its document is new, so Yoga answers (and admits it); the second
// time the fast lane does. Both answers must be equal — status, headers, body — and so must what
// the upstream received, the request log and the metrics. Request errors and deviating bodies
// must reach Yoga both times. With spans exported, both paths export the same spans.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { expect, test } from 'vitest';
import type { GatewayContext } from '../../src/schema/context.js';
import { Admissions, withFastLane } from '../../src/lane/fast-lane.js';
import { laneSafe } from '../../src/lane/safety.js';
import { ERROR_MASKING } from '../../src/errors/masking.js';
import { Lifecycle } from '../../src/app/lifecycle.js';
import { createLogger, yogaLogger } from '../../src/telemetry/logging.js';
import { requestMetrics } from '../../src/plugins/metrics.js';
import { requestIdHeader, requestLog } from '../../src/plugins/request-log.js';
import { requestFacts, useRequestObservers } from '../../src/plugins/request-telemetry.js';
import { subgraphSchema } from '../../src/schema/index.js';
import { GatewayMetrics } from '../../src/telemetry/metrics.js';
import { startGateway, TEST_TOKEN, useGatewayOn } from '../support/gateway.js';
import { startOtlpReceiver } from '../support/otlp-receiver.js';
import { challengeById, challengeHistoryBody, startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { Responder, ScriptedResponse } from '../support/scriptable-upstream.js';

const RESULT = `__typename
  ... on AddChallengeHistorySuccess {
    challengeHistory { id points score message createdAt ambassador { id fullName username } challenge { id title nbWins titles { lang content } } }
  }
  ... on AmbassadorNotFoundError { message ambassadorId }
  ... on ValidationError { message fieldErrors { field path messages } }`;
const SINGLE = `mutation Award($id: ID!, $input: AddChallengeHistoryInput!) { addChallengeHistory(ambassadorId: $id, input: $input) { ${RESULT} } }`;
const BATCH = `mutation Batch($items: [AddChallengeHistoryItemInput!]!) { addChallengeHistories(items: $items) { ${RESULT} } }`;
const INPUT = { points: 100, score: 87.5, message: 'Great first sale!', challengeId: '1' };

const { upstream, gw } = useGatewayOn(startScriptableUpstream, { UPSTREAM_TIMEOUT_MS: '1000' });

interface Case {
  name: string;
  /** The request body as sent (a comment makes its document new to the gateway). */
  body: string;
  headers?: Record<string, string>;
  upstream?: ScriptedResponse | Responder;
  /** Whether the second request is the fast lane's (false: both are Yoga's). */
  fast: boolean;
}

const graphql = (name: string, query: string, variables: unknown, operationName?: string) =>
  JSON.stringify({ query: `# ${name}\n${query}`, variables, ...(operationName ? { operationName } : {}) });

const CASES: Case[] = [
  { name: 'success', body: graphql('success', SINGLE, { id: '1', input: INPUT }, 'Award'), upstream: challengeById(), fast: true },
  {
    name: 'typed error: AmbassadorNotFoundError',
    body: graphql('not found', SINGLE, { id: '999', input: INPUT }),
    upstream: { status: 404, body: 'Not found' },
    fast: true,
  },
  {
    name: 'typed error: ValidationError',
    body: graphql('invalid', SINGLE, { id: '1', input: INPUT }),
    upstream: { status: 422, body: { message: 'invalid', errors: { points: ['The points field must be at least 0.'] } } },
    fast: true,
  },
  { name: 'coded error, outcome unknown (500)', body: graphql('500', SINGLE, { id: '1', input: INPUT }), upstream: { status: 500 }, fast: true },
  {
    name: 'coded error, outcome unknown (timeout)',
    body: graphql('timeout', SINGLE, { id: '1', input: INPUT }),
    upstream: { delayMs: 1300, body: challengeHistoryBody() },
    fast: true,
  },
  { name: 'no token', body: graphql('no token', SINGLE, { id: '1', input: INPUT }), headers: { authorization: '' }, fast: true },
  {
    name: 'batch mutation with one failing item',
    body: graphql('batch', BATCH, { items: [{ ambassadorId: '1', input: INPUT }, { ambassadorId: '2', input: INPUT }] }),
    upstream: (request) => (request.url.includes('/ambassadors/2/') ? { status: 503 } : challengeById()(request)),
    fast: true,
  },
  {
    name: 'challenge query, traceparent and application/json accepted',
    body: graphql('challenge', 'query C($id: ID!) { challenge(id: $id) { id title nbWins titles { lang content } } }', { id: '7' }),
    headers: { accept: 'application/json', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    upstream: challengeById(),
    fast: true,
  },
  { name: 'request error: variables that do not coerce', body: graphql('bad variables', SINGLE, { id: '1', input: { points: 'x' } }), fast: false },
  { name: 'request error: missing variables', body: graphql('no variables', SINGLE, undefined), fast: false },
  { name: 'an unknown body key', body: JSON.stringify({ query: '# unknown key\n{ __typename }', other: 1 }), fast: false },
  { name: 'extensions', body: JSON.stringify({ query: '# extensions\n{ __typename }', extensions: {} }), fast: false },
  { name: 'a batch array', body: JSON.stringify([{ query: '# array\n{ __typename }' }]), fast: false },
  { name: 'a JSON string', body: JSON.stringify('# string'), fast: false },
  { name: 'malformed JSON', body: '{"query": ', fast: false },
  { name: 'variables as a string', body: JSON.stringify({ query: '# string variables\n{ __typename }', variables: '{}' }), fast: false },
  { name: 'an origin (CORS is Yoga’s)', body: graphql('origin', '{ __typename }', undefined), headers: { origin: 'https://elsewhere.example' }, fast: false },
  // The success case's document, admitted by then: only the gate keeps it from the lane.
  { name: 'text/plain (CSRF prevention is the plugin’s)', body: graphql('success', SINGLE, { id: '1', input: INPUT }, 'Award'), headers: { 'content-type': 'text/plain' }, fast: false },
  { name: 'multipart accepted', body: graphql('multipart', '{ __typename }', undefined), headers: { accept: 'multipart/mixed' }, fast: false },
];

/** Everything one request produced: the answer, what the upstream received, the log and the metrics. */
async function observe(c: Case) {
  upstream.reset();
  upstream.respondWith(c.upstream ?? challengeById());
  gw.logs.length = 0;
  const registry = gw.gateway.metrics.registry;
  registry.resetMetrics();
  const response = await fetch(gw.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      authorization: `Bearer ${TEST_TOKEN}`,
      'x-request-id': `case-${CASES.indexOf(c)}`,
      ...c.headers,
    },
    body: c.body,
  });
  const body = await response.text();
  const headers = Object.fromEntries([...response.headers].filter(([name]) => name !== 'date'));
  const metrics = (await registry.metrics())
    .split('\n')
    .filter((line) => /^gateway_(graphql|upstream)_request_duration_seconds_count/.test(line));
  const fastLane = (await registry.getSingleMetric('gateway_fast_lane_requests_total')!.get()).values[0]?.value ?? 0;
  return {
    answer: { status: response.status, headers, body },
    upstream: upstream.requests.map(({ method, url, headers: { host: _host, ...sent }, body: text }) => ({ method, url, sent, text })),
    // Yoga's own debug lines trace its internal steps, which the fast lane skips: info and above.
    logs: gw.logs.flatMap((line) => {
      const { time: _time, durationMs: _d, upstreamDurationMs: _u, ...fields } = JSON.parse(line) as Record<string, unknown>;
      return fields.level === 'debug' ? [] : [fields];
    }),
    metrics,
    fastLane,
  };
}

test.each(CASES)('$name: the same answer, upstream requests, log line and metrics from both paths', async (c) => {
  const first = await observe(c);
  const second = await observe(c);
  expect(first.fastLane).toBe(0);
  expect(second.fastLane).toBe(c.fast ? 1 : 0);
  const { fastLane: _f1, ...yoga } = first;
  const { fastLane: _f2, ...other } = second;
  expect(other).toEqual(yoga);
});

test('the cases exercise what they claim', async () => {
  const success = JSON.parse((await observe(CASES[0]!)).answer.body) as { data: { addChallengeHistory: { __typename: string } } };
  expect(success.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');
  const coded = await observe(CASES[3]!);
  expect(JSON.parse(coded.answer.body)).toMatchObject({ errors: [{ extensions: { code: 'UPSTREAM_UNAVAILABLE', outcomeUnknown: true } }] });
  expect(coded.upstream).toHaveLength(1);
  const badVariables = await observe(CASES.find((c) => c.name.startsWith('request error: variables'))!);
  expect(badVariables.answer.status).toBe(400);
  expect(badVariables.answer.headers['content-type']).toBe('application/graphql-response+json; charset=utf-8');
  expect(badVariables.upstream).toHaveLength(0);
  // Variable coercion errors carry a code on both paths (the lane hands them to Yoga, which codes them).
  for (const name of ['request error: variables', 'request error: missing variables']) {
    const { answer } = await observe(CASES.find((c) => c.name.startsWith(name))!);
    const { errors } = JSON.parse(answer.body) as { errors: { message: string; extensions?: { code?: string } }[] };
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) expect(error, error.message).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  }
});

test('spans: the fast lane exports the same SERVER and CLIENT spans, parented the same, as Yoga', async () => {
  const receiver = await startOtlpReceiver();
  const traced = await startGateway({ upstreamUrl: upstream.url, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
  const callerSpanId = '00f067aa0ba902b7';
  try {
    const c = CASES.find((x) => x.name.startsWith('batch'))!;
    const spansOf = async () => {
      upstream.reset();
      upstream.respondWith(challengeById());
      receiver.spans.length = 0;
      const res = await fetch(traced.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${TEST_TOKEN}`,
          'x-request-id': 'traced-batch',
          traceparent: `00-4bf92f3577b34da6a3ce929d0e0e4736-${callerSpanId}-01`,
        },
        body: c.body.replace('# batch', '# traced batch'),
      });
      expect(res.status).toBe(200);
      await traced.gateway.tracing!.forceFlush();
      const server = receiver.spans.find((span) => span.kind === 2)!;
      // Each upstream call names its own CLIENT span as its parent.
      const clientIds = receiver.spans.filter((span) => span.kind === 3).map((span) => span.spanId);
      expect(upstream.requests.map((r) => String(r.headers.traceparent).split('-')[2]).sort()).toEqual(clientIds.sort());
      return receiver.spans
        .map(({ name, kind, traceId, parentSpanId, status, attributes }) => ({
          name,
          kind,
          traceId,
          parent: parentSpanId === callerSpanId ? 'caller' : parentSpanId === server.spanId ? 'server' : parentSpanId,
          status,
          attributes: [...attributes].sort((a, b) => a.key.localeCompare(b.key)),
        }))
        .sort((a, b) => a.kind - b.kind || a.name.localeCompare(b.name));
    };
    const yoga = await spansOf();
    const before = (await traced.gateway.metrics.registry.getSingleMetric('gateway_fast_lane_requests_total')!.get()).values[0]!.value;
    const fast = await spansOf();
    const after = (await traced.gateway.metrics.registry.getSingleMetric('gateway_fast_lane_requests_total')!.get()).values[0]!.value;
    expect(after - before).toBe(1);
    expect(yoga.length).toBeGreaterThanOrEqual(3); // the request's, and one per upstream call
    expect(fast).toEqual(yoga);
  } finally {
    await traced.close();
    await receiver.close();
  }
});

test('a 1 MB body the fast lane reads but does not serve costs Yoga no more CPU than one it reads itself', async () => {
  // Invalid JSON (the string never closes): the lane reads it, cannot serve it, and hands it over.
  const body = `{"query": "${'x'.repeat(1_000_000 - 12)}`;
  const send = (path: string) =>
    fetch(new URL(path, gw.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(async (res) => ({
      status: res.status,
      body: await res.text(),
    }));
  const cpuOf = async (path: string) => {
    const start = process.cpuUsage();
    for (let i = 0; i < 5; i += 1) expect(await send(path)).toEqual({ status: 400, body: expect.stringContaining('POST body sent invalid JSON') });
    const { user, system } = process.cpuUsage(start);
    return user + system;
  };
  await cpuOf('/graphql'); // warm both paths up
  await cpuOf('/graphql?x');
  let lane = 0;
  let yoga = 0;
  for (let round = 0; round < 2; round += 1) {
    lane += await cpuOf('/graphql'); // the lane's entry
    yoga += await cpuOf('/graphql?x'); // Yoga's path
  }
  expect(lane / yoga).toBeLessThan(2);
});

test('the error path: a throw outside execution is answered, logged and observed as Yoga does it', async () => {
  // Nothing in the gateway throws there today, so this gateway is assembled by hand around a
  // context factory that throws for one token; the rest is the gateway's own pieces.
  const logs: string[] = [];
  const logger = createLogger({ write: (line) => logs.push(line) });
  const metrics = new GatewayMetrics();
  const admissions = new Admissions();
  const ends: string[] = [];
  const plugins = [
    useRequestObservers([requestFacts(subgraphSchema), requestIdHeader, requestLog(logger), requestMetrics(metrics), { onEnd: (t, end) => ends.push(`${t.id} ${end.status}`) }]),
    laneSafe(admissions.plugin(), 'it admits documents to the lane'),
  ];
  const contextOf = (authorization: string | null): GatewayContext => {
    if (authorization === 'Bearer broken') throw new Error('the context could not be built');
    return {} as GatewayContext;
  };
  const yoga = createYoga<Record<string, never>, GatewayContext>({
    schema: subgraphSchema,
    logging: yogaLogger(logger),
    maskedErrors: { isDev: false },
    context: ({ request }) => contextOf(request.headers.get('authorization')),
    plugins,
  });
  const lane = withFastLane({ yoga, plugins, schema: subgraphSchema, admissions, contextOf, lifecycle: new Lifecycle(), logger, metrics, maxRequestBodyBytes: 1 << 20, maxResponseBytes: 1 << 20 });
  expect((await lane.status).on).toBe(true);
  const server = createServer(lane.handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const send = async (path: string, authorization: string, id: string) => {
    logs.length = 0;
    metrics.registry.resetMetrics();
    const response = await fetch(url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization, 'x-request-id': id },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    return {
      answer: { status: response.status, type: response.headers.get('content-type'), id: response.headers.get('x-request-id'), body: await response.text() },
      logs: logs.map((line) => {
        const { time: _time, durationMs: _d, requestId: _id, ...fields } = JSON.parse(line) as Record<string, unknown>;
        return fields;
      }),
      metrics: (await metrics.registry.metrics()).split('\n').filter((line) => line.startsWith('gateway_graphql_request_duration_seconds_count')),
      lane: (await metrics.fastLaneRequests.get()).values[0]?.value ?? 0,
    };
  };
  try {
    expect((await send('/graphql', 'Bearer fine', 'admit')).answer.status).toBe(200); // Yoga admits the document
    const byLane = await send('/graphql', 'Bearer broken', 'lane');
    const byYoga = await send('/graphql?yoga', 'Bearer broken', 'yoga'); // a query string: Yoga's path
    expect([byLane.lane, byYoga.lane]).toEqual([1, 0]);
    expect(byLane.answer).toEqual({ ...byYoga.answer, id: 'lane' });
    expect(byYoga.answer).toMatchObject({ status: 500, id: 'yoga', body: '{"errors":[{"message":"Unexpected error.","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}' });
    expect(byLane.logs).toEqual(byYoga.logs);
    expect(byYoga.logs).toContainEqual(expect.objectContaining({ level: 'error', msg: 'the context could not be built' }));
    expect(byYoga.logs).toContainEqual(expect.objectContaining({ msg: 'request', status: 500, errorCode: 'INTERNAL_SERVER_ERROR' }));
    expect(byLane.metrics).toEqual(byYoga.metrics);
    expect(byYoga.metrics).toEqual([expect.stringContaining('outcome="INTERNAL_SERVER_ERROR"} 1')]);
    expect(ends).toEqual(['admit 200', 'lane 500', 'yoga 500']);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test("one mask on both paths: the gateway's masking given to Yoga's maskedErrors and to the lane hides a resolver's error alike, detail-free even in development", async () => {
  const schema = buildSchema('type Query { boom: String! }');
  schema.getQueryType()!.getFields().boom!.resolve = () => {
    throw new Error('secret detail');
  };
  const logs: string[] = [];
  const logger = createLogger({ write: (line) => logs.push(line) });
  const metrics = new GatewayMetrics();
  const admissions = new Admissions();
  const plugins = [laneSafe(admissions.plugin(), 'it admits documents to the lane')];
  const yoga = createYoga<Record<string, never>, GatewayContext>({ schema, logging: yogaLogger(logger), maskedErrors: ERROR_MASKING, plugins });
  const lane = withFastLane({ yoga, plugins, schema, admissions, contextOf: () => ({}) as GatewayContext, lifecycle: new Lifecycle(), logger, metrics, maxRequestBodyBytes: 1 << 20, maxResponseBytes: 1 << 20, masking: ERROR_MASKING });
  expect((await lane.status).on).toBe(true);
  const server = createServer(lane.handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'development'; // Yoga's default mask would add the original error there
  const send = async (path: string) => {
    logs.length = 0;
    const response = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ query: '{ boom }' }) });
    const hidden = logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.level === 'error').map((entry) => entry.msg);
    return { status: response.status, body: await response.text(), hidden };
  };
  try {
    const admitting = await send('/graphql');
    const byLane = await send('/graphql');
    const byYoga = await send('/graphql?yoga');
    expect((await metrics.fastLaneRequests.get()).values[0]?.value).toBe(1);
    expect(byYoga).toEqual({
      status: 200,
      body: '{"errors":[{"message":"Unexpected error.","locations":[{"line":1,"column":3}],"path":["boom"],"extensions":{"code":"INTERNAL_SERVER_ERROR"}}],"data":null}',
      hidden: ['secret detail'],
    });
    expect(byLane).toEqual(byYoga);
    expect(admitting).toEqual(byYoga);
  } finally {
    process.env.NODE_ENV = nodeEnv;
    await new Promise((resolve) => server.close(resolve));
  }
});

test('the admissions are bounded: 1,000 documents, the least recently used forgotten first', async () => {
  const admissions = new Admissions();
  const yoga = createYoga({ schema: buildSchema('type Query { n(i: Int): Int }'), logging: false, plugins: [admissions.plugin()] });
  const query = (i: number) => `{ n(i: ${i}) }`;
  const execute = async (i: number) => {
    const response = await yoga.fetch('http://localhost/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: query(i) }) });
    expect(response.status).toBe(200);
  };
  for (let i = 0; i < 1000; i += 1) await execute(i);
  expect(admissions.documentFor(query(0), null)).toBeDefined(); // used now: the most recent
  await execute(1000); // one over the bound: the least recently used, document 1, goes
  expect(admissions.documentFor(query(1), null)).toBeUndefined();
  expect([0, 2, 999, 1000].map((i) => admissions.documentFor(query(i), null) !== undefined)).toEqual([true, true, true, true]);
  expect(admissions.mediaTypeFor(undefined)).toBe('application/json');
});
