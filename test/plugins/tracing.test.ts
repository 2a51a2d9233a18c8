// W3C trace context reaches the upstream; OTLP spans are exported when an endpoint is configured.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { MAX_LOG_FIELD_CHARS } from '../../src/telemetry/logging.js';
import { startGateway } from '../support/gateway.js';
import type { TestGateway } from '../support/gateway.js';
import { attribute, startOtlpReceiver } from '../support/otlp-receiver.js';
import type { OtlpReceiver } from '../support/otlp-receiver.js';
import { challengeHistoryBody, startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream } from '../support/scriptable-upstream.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${CALLER_SPAN_ID}-01`;
const MUTATION = `mutation Traced { addChallengeHistory(ambassadorId: "7", input: { points: 1, score: 1 }) { __typename } }`;

let upstream: ScriptableUpstream;
let receiver: OtlpReceiver;
beforeAll(async () => {
  upstream = await startScriptableUpstream();
  receiver = await startOtlpReceiver();
});
afterAll(async () => {
  await upstream.close();
  await receiver.close();
});

async function withGateway(env: Record<string, string>, run: (gw: TestGateway) => Promise<void>): Promise<void> {
  const gw = await startGateway({ upstreamUrl: upstream.url, env });
  try {
    await run(gw);
  } finally {
    await gw.close();
  }
}

test('with export off, the incoming traceparent and tracestate reach the upstream unchanged; an invalid one does not', async () => {
  upstream.reset();
  await withGateway({}, async (gw) => {
    expect(gw.gateway.tracing).toBeNull();
    await gw.graphql({ query: MUTATION }, { headers: { traceparent: TRACEPARENT, tracestate: 'vendor=abc' } });
    await gw.graphql({ query: MUTATION }, { headers: { traceparent: '00-zz-nothex-01' } });
    await gw.graphql({ query: MUTATION });
  });
  expect(upstream.requests[0]?.headers.traceparent).toBe(TRACEPARENT);
  expect(upstream.requests[0]?.headers.tracestate).toBe('vendor=abc');
  expect(upstream.requests[1]?.headers.traceparent).toBeUndefined();
  expect(upstream.requests[2]?.headers.traceparent).toBeUndefined();
  expect(receiver.spans).toHaveLength(0);
});

test('with OTEL_EXPORTER_OTLP_ENDPOINT, the request and upstream spans are exported, in the caller trace, parented as called', async () => {
  upstream.reset();
  await withGateway({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'gateway-under-test' }, async (gw) => {
    const res = await gw.graphql({ query: MUTATION, operationName: 'Traced' }, { headers: { traceparent: TRACEPARENT } });
    expect(res.body.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');
    await gw.gateway.tracing!.forceFlush();
  });

  const sent = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(upstream.requests[0]?.headers.traceparent));
  expect(sent?.[1]).toBe(TRACE_ID);

  const server = receiver.spans.find((span) => span.kind === 2);
  const client = receiver.spans.find((span) => span.kind === 3);
  expect(server).toMatchObject({ traceId: TRACE_ID, parentSpanId: CALLER_SPAN_ID, name: 'mutation Traced', serviceName: 'gateway-under-test' });
  expect(attribute(server!, 'graphql.operation.name')).toBe('Traced');
  expect(attribute(server!, 'graphql.result.type')).toBe('AddChallengeHistorySuccess');
  expect(client).toMatchObject({ traceId: TRACE_ID, parentSpanId: server!.spanId, name: 'POST /manager/ambassadors/{id}/challenge-histories' });
  expect(Number(attribute(client!, 'http.response.status_code'))).toBe(200);
  // The upstream is told the gateway's client span is its parent.
  expect(sent?.[2]).toBe(client!.spanId);
});

test('each upstream call gets its own CLIENT span, also when one request reads several challenges', async () => {
  upstream.reset();
  upstream.respondWith((request) => ({
    status: 200,
    body: { ...(challengeHistoryBody().challenge as object), id: Number(request.url.split('/').pop()) },
  }));
  receiver.spans.length = 0;
  await withGateway({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }, async (gw) => {
    const res = await gw.graphql({ query: '{ a: challenge(id: "1") { id } b: challenge(id: "2") { id } }' }, { headers: { traceparent: TRACEPARENT } });
    expect(res.body.data).toEqual({ a: { id: '1' }, b: { id: '2' } });
    await gw.gateway.tracing!.forceFlush();
  });
  const clients = receiver.spans.filter((span) => span.kind === 3);
  expect(clients.map((span) => span.name)).toEqual(['GET /manager/challenges/{id}', 'GET /manager/challenges/{id}']);
  const parents = upstream.requests.map((r) => String(r.headers.traceparent).split('-')[2]).sort();
  expect(parents).toEqual(clients.map((span) => span.spanId).sort());
  expect(new Set(parents).size).toBe(2);
});

test('a 500 KB operationName reaches the exported span cut to the log fields\' bound, marked as cut', async () => {
  upstream.reset();
  const name = `Op${'x'.repeat(500_000)}`;
  await withGateway({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }, async (gw) => {
    const res = await gw.graphql({ query: `query ${name} { __typename }`, operationName: name }, { token: null });
    expect(res.body).toEqual({ data: { __typename: 'Query' } });
    await gw.gateway.tracing!.forceFlush();
  });
  const span = receiver.spans.find((s) => String(attribute(s, 'graphql.operation.name') ?? '').startsWith('Opxxx'));
  expect(span).toBeDefined();
  const bounded = `${name.slice(0, MAX_LOG_FIELD_CHARS)}…[cut ${name.length - MAX_LOG_FIELD_CHARS} chars]`;
  expect(attribute(span!, 'graphql.operation.name')).toBe(bounded);
  expect(span!.name).toBe(`query ${bounded}`);
});
