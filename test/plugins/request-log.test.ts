// The one JSON log line per request, and the request id that ties client, gateway and upstream.

import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { beforeEach, describe, expect, test } from 'vitest';
import { MAX_LOG_FIELD_CHARS } from '../../src/telemetry/logging.js';
import { TEST_TOKEN, startGateway, useGatewayOn } from '../support/gateway.js';
import { startScriptableUpstream } from '../support/scriptable-upstream.js';

const MUTATION = `mutation Record($id: ID!) {
  addChallengeHistory(ambassadorId: $id, input: { points: 42, score: 12.5, challengeId: "3" }) {
    __typename
    ... on Error { message }
  }
}`;

const { upstream, gw } = useGatewayOn(startScriptableUpstream);
beforeEach(() => {
  upstream.reset();
  gw.logs.length = 0;
});

function requestLines(): Record<string, unknown>[] {
  return gw.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.msg === 'request');
}

test('a success: one line with operation, result type, upstream status and durations; the id goes upstream and back', async () => {
  const res = await gw.graphql(
    { query: MUTATION, variables: { id: '7' }, operationName: 'Record' },
    { headers: { 'x-request-id': 'req-abc.123' } },
  );
  expect(res.body.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');
  expect(res.headers.get('x-request-id')).toBe('req-abc.123');
  expect(upstream.requests[0]?.headers['x-request-id']).toBe('req-abc.123');

  const lines = requestLines();
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({
    level: 'info',
    requestId: 'req-abc.123',
    method: 'POST',
    path: '/graphql',
    status: 200,
    operationName: 'Record',
    operationType: 'mutation',
    rootFields: 'addChallengeHistory',
    resultType: 'AddChallengeHistorySuccess',
    errorCode: null,
    upstreamCalls: 1,
    upstreamStatus: 200,
  });
  expect(lines[0]!.durationMs).toBeTypeOf('number');
  expect(lines[0]!.upstreamDurationMs).toBeTypeOf('number');
  expect(lines[0]!.durationMs as number).toBeGreaterThanOrEqual(lines[0]!.upstreamDurationMs as number);
});

test('a typed refusal logs its __typename and the upstream status', async () => {
  upstream.respondWith({ status: 404, body: { message: 'Not found' } });
  await gw.graphql({ query: MUTATION, variables: { id: '999' } });
  expect(requestLines()[0]).toMatchObject({ resultType: 'AmbassadorNotFoundError', errorCode: null, upstreamStatus: 404 });
});

test('an error logs its code; with no upstream call the upstream fields are null', async () => {
  await gw.graphql({ query: MUTATION, variables: { id: '7' } }, { token: null });
  expect(requestLines()[0]).toMatchObject({ errorCode: 'UNAUTHENTICATED', upstreamCalls: 0, upstreamStatus: null, upstreamDurationMs: null });
  expect(upstream.requests).toHaveLength(0);
});

test('without a usable x-request-id one is made, returned and forwarded', async () => {
  const res = await gw.graphql({ query: MUTATION, variables: { id: '7' } }, { headers: { 'x-request-id': 'has spaces; and more' } });
  const id = res.headers.get('x-request-id');
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  expect(upstream.requests[0]?.headers['x-request-id']).toBe(id);
  expect(requestLines()[0]?.requestId).toBe(id);
});

test('the token is in no log line, whatever happens', async () => {
  upstream.queue({ status: 200 }, { status: 401 }, { status: 500, body: { message: `echo Bearer ${TEST_TOKEN}` } });
  for (let i = 0; i < 3; i += 1) await gw.graphql({ query: MUTATION, variables: { id: '7' } });
  await gw.graphql({ query: '{ nope }' });
  expect(gw.logs.length).toBeGreaterThanOrEqual(4);
  for (const line of gw.logs) expect(line).not.toContain(TEST_TOKEN);
});

test('a 1 MB operationName is logged within its bound, marked as cut (issue 18: one line of 1,000,383 characters)', async () => {
  const name = `Op${'x'.repeat(1_000_000)}`;
  // Both anonymous: one names an operation the document does not have (400), one the document's own.
  const refused = await gw.graphql({ query: '{ __typename }', operationName: name }, { token: null });
  expect(refused.status).toBe(400);
  // The name twice (document and operationName) within MAX_REQUEST_BODY_BYTES: half a megabyte each.
  const half = name.slice(0, 500_000);
  const served = await gw.graphql({ query: `query ${half} { __typename }`, operationName: half }, { token: null });
  expect(served.body).toEqual({ data: { __typename: 'Query' } });

  const lines = gw.logs.filter((line) => line.includes('"msg":"request"'));
  expect(lines).toHaveLength(2);
  lines.forEach((line, i) => {
    expect(line.length).toBeLessThan(MAX_LOG_FIELD_CHARS + 1000);
    const sent = [name, half][i]!;
    expect((JSON.parse(line) as { operationName: string }).operationName).toBe(`${sent.slice(0, MAX_LOG_FIELD_CHARS)}…[cut ${sent.length - MAX_LOG_FIELD_CHARS} chars]`);
  });
  expect(gw.logs.join('').length).toBeLessThan(20_000);
});

describe('a failed upstream call logs its cause', () => {
  test('reset, a 5xx with its body excerpt (bounded), and the excerpt never carries the token', async () => {
    upstream.queue(
      { reset: 'before-response' },
      { status: 503, body: `<html>${'maintenance '.repeat(100)} Bearer ${TEST_TOKEN}</html>` },
      { status: 502, body: `proxy said: ${TEST_TOKEN}` },
    );
    for (let i = 0; i < 3; i += 1) await gw.graphql({ query: MUTATION, variables: { id: '7' } });
    const failures = requestLines().map((line) => line.upstreamFailure as string);
    expect(failures[0]).toMatch(/^reset \((ECONNRESET|UND_ERR_SOCKET)\)/);
    expect(failures[1]).toMatch(/^status 503: <html>maintenance maintenance/);
    expect(failures[1]!.length).toBeLessThan(230);
    expect(failures[2]).toBe('status 502: proxy said: [token]');
    for (const line of gw.logs) expect(line).not.toContain(TEST_TOKEN);
  });

  test('a success logs no failure', async () => {
    await gw.graphql({ query: MUTATION, variables: { id: '7' } });
    expect(requestLines()[0]).toMatchObject({ upstreamStatus: 200, upstreamFailure: null });
  });

  test('nothing listening: refused; a TLS handshake that fails: tls; a stalled answer: timeout', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const refused = await startGateway({ upstreamUrl: `http://127.0.0.1:${port}/api/v2` });
    try {
      await refused.graphql({ query: MUTATION, variables: { id: '7' } });
      const line = refused.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'request');
      expect(line).toMatchObject({ errorCode: 'UPSTREAM_UNAVAILABLE', upstreamStatus: null, upstreamFailure: expect.stringMatching(/^refused \(ECONNREFUSED\)/) });
    } finally {
      await refused.close();
    }
    // https:// to a plain-HTTP server: the TLS handshake fails.
    const tls = await startGateway({ upstreamUrl: `https://127.0.0.1:${new URL(upstream.origin).port}/api/v2` });
    try {
      await tls.graphql({ query: MUTATION, variables: { id: '7' } });
      const line = tls.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'request');
      expect(line).toMatchObject({ errorCode: 'UPSTREAM_UNAVAILABLE', upstreamFailure: expect.stringMatching(/^tls \(/) });
    } finally {
      await tls.close();
    }
    const slow = await startGateway({ upstreamUrl: upstream.url, env: { UPSTREAM_TIMEOUT_MS: '200' } });
    try {
      upstream.respondWith({ delayMs: 1000, status: 200 });
      await slow.graphql({ query: MUTATION, variables: { id: '7' } });
      const line = slow.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'request');
      expect(line).toMatchObject({ errorCode: 'UPSTREAM_TIMEOUT', upstreamFailure: expect.stringMatching(/^timeout/) });
    } finally {
      await slow.close();
    }
  });
});
