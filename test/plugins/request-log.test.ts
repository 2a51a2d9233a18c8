// The one JSON log line per request, and the request id that ties client, gateway and upstream.

import { beforeEach, expect, test } from 'vitest';
import { MAX_LOG_FIELD_CHARS } from '../../src/logging.js';
import { TEST_TOKEN, useGatewayOn } from '../support/gateway.js';
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
