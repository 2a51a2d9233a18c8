// Every way the upstream can fail, injected for real on loopback sockets: each gets its
// documented error, the POST is sent once and never retried, the token goes nowhere else, and
// the next request works.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { startGateway, TEST_TOKEN, useGatewayOn } from '../support/gateway.js';
import type { TestGateway } from '../support/gateway.js';
import { challengeHistoryBody, startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream, ScriptedResponse } from '../support/scriptable-upstream.js';
import { addChallengeHistory, eventually, gate } from '../support/operations.js';

const TIMEOUT_MS = 1000; // roomy: a loaded 2-core machine must not turn normal answers into timeouts
const MAX_RESPONSE_BYTES = 64 * 1024;
const FIFTY_MB = 50 * 1024 * 1024;

const { upstream, gw } = useGatewayOn(startScriptableUpstream, {
  UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS),
  UPSTREAM_MAX_RESPONSE_BYTES: String(MAX_RESPONSE_BYTES),
});
/** A second loopback server standing for "another host": it must never hear from the gateway. */
let otherHost: { origin: string; hits: { url: string; authorization: string | undefined }[]; close(): Promise<void> };

beforeAll(async () => {
  otherHost = await startOtherHost();
});
beforeEach(() => upstream.reset());
afterAll(() => otherHost.close());

async function startOtherHost(): Promise<typeof otherHost> {
  const hits: { url: string; authorization: string | undefined }[] = [];
  const server = createServer((req, res) => {
    hits.push({ url: req.url ?? '', authorization: req.headers.authorization });
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The answer after a fault: the process is up and the same gateway records the next history. */
async function expectNextRequestWorks(target: TestGateway = gw, fresh: ScriptableUpstream = upstream): Promise<void> {
  fresh.respondWith({ status: 200, body: challengeHistoryBody({ id: 4242 }) });
  const res = await addChallengeHistory(target);
  expect(res.body.data?.addChallengeHistory).toEqual({ __typename: 'AddChallengeHistorySuccess', challengeHistory: { id: '4242' } });
  expect((await fetch(new URL('/health', target.url))).status).toBe(200);
}

type Expected =
  | { code: string; outcomeUnknown: boolean; retryAfter?: number }
  | { typename: 'AmbassadorNotFoundError' | 'ValidationError' };

async function expectFault(response: ScriptedResponse, expected: Expected, token = TEST_TOKEN): Promise<void> {
  upstream.respondWith(response);
  const res = await addChallengeHistory(gw, '7', { token });
  expect(res.status).toBe(200);
  if ('typename' in expected) {
    // A documented refusal: a typed result, nothing was recorded.
    expect(res.body.data.addChallengeHistory.__typename).toBe(expected.typename);
    expect(res.body.errors).toBeUndefined();
  } else {
    expect(res.body.data).toBeNull();
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0].extensions).toEqual(expected);
  }
  expect(upstream.requests.filter((r) => r.method === 'POST')).toHaveLength(1); // never retried
  expect(JSON.stringify(res.body)).not.toContain(token);
  await expectNextRequestWorks();
}

const unknown = (code: string) => ({ code, outcomeUnknown: true });

describe('transport faults', () => {
  test.each<[string, ScriptedResponse, Expected]>([
    ['reset before the response', { reset: 'before-response' }, unknown('UPSTREAM_UNAVAILABLE')],
    ['reset half-way through the body', { reset: 'mid-body', body: challengeHistoryBody() }, unknown('UPSTREAM_UNAVAILABLE')],
  ])('%s', async (_label, response, expected) => expectFault(response, expected));

  test('connection refused: UPSTREAM_UNAVAILABLE, outcome known (nothing was sent), process stays up', async () => {
    const closed = await startScriptableUpstream();
    const url = closed.url;
    await closed.close();
    const refused = await startGateway({ upstreamUrl: url });
    try {
      const res = await addChallengeHistory(refused);
      expect(res.body.errors[0].extensions).toEqual({ code: 'UPSTREAM_UNAVAILABLE', outcomeUnknown: false });
      expect((await fetch(new URL('/health', refused.url))).status).toBe(200);
    } finally {
      await refused.close();
    }
  });

  test('a DNS name that does not resolve: UPSTREAM_UNAVAILABLE, outcome known, process stays up', async () => {
    // .invalid never resolves (RFC 6761), so nothing leaves the machine.
    const unresolvable = await startGateway({ upstreamUrl: 'http://challenge-upstream.invalid/api/v2' });
    try {
      const res = await addChallengeHistory(unresolvable);
      expect(res.body.errors[0].extensions).toEqual({ code: 'UPSTREAM_UNAVAILABLE', outcomeUnknown: false });
      expect(res.body.errors[0].message).not.toContain('invalid');
      expect((await fetch(new URL('/health', unresolvable.url))).status).toBe(200);
    } finally {
      await unresolvable.close();
    }
  });

  test('slower than UPSTREAM_TIMEOUT_MS: UPSTREAM_TIMEOUT close to the deadline, and the socket is closed', async () => {
    const slow = await startScriptableUpstream();
    const timed = await startGateway({ upstreamUrl: slow.url, env: { UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS) } });
    try {
      slow.respondWith({ delayMs: 5_000, body: challengeHistoryBody() });
      const started = performance.now();
      const res = await addChallengeHistory(timed);
      const elapsed = performance.now() - started;
      expect(res.body.errors[0].extensions).toEqual(unknown('UPSTREAM_TIMEOUT'));
      // Generous window on a shared machine; the point is "at the deadline, not at 5 s".
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
      expect(elapsed).toBeLessThan(TIMEOUT_MS + 1_500);
      // The connection that carried the abandoned call is closed, not left waiting for the answer.
      await eventually(() => !slow.requests[0]!.socketOpen(), 1_000);
      await expectNextRequestWorks(timed, slow);
    } finally {
      await timed.close();
      await slow.close();
    }
  });
});

describe('statuses outside the documented answers', () => {
  test.each<[string, ScriptedResponse, Expected]>([
    ['500', { status: 500, body: 'Internal Server Error' }, unknown('UPSTREAM_UNAVAILABLE')],
    ['502', { status: 502, body: '<html>Bad Gateway</html>' }, unknown('UPSTREAM_UNAVAILABLE')],
    ['503', { status: 503 }, unknown('UPSTREAM_UNAVAILABLE')],
    ['504', { status: 504, body: { message: 'timeout' } }, unknown('UPSTREAM_UNAVAILABLE')],
    ['429 without Retry-After', { status: 429 }, { code: 'RATE_LIMITED', outcomeUnknown: false }],
    ['429 with Retry-After', { status: 429, headers: { 'retry-after': '17' } }, { code: 'RATE_LIMITED', outcomeUnknown: false, retryAfter: 17 }],
    ['429 with Retry-After: 1.5 (not delta-seconds)', { status: 429, headers: { 'retry-after': '1.5' } }, { code: 'RATE_LIMITED', outcomeUnknown: false }],
    ['429 with a 20-digit Retry-After: capped at a day', { status: 429, headers: { 'retry-after': '9'.repeat(20) } }, { code: 'RATE_LIMITED', outcomeUnknown: false, retryAfter: 86_400 }],
    ['429 with a Retry-After date years ahead: capped at a day', { status: 429, headers: { 'retry-after': 'Fri, 01 Jan 2100 00:00:00 GMT' } }, { code: 'RATE_LIMITED', outcomeUnknown: false, retryAfter: 86_400 }],
  // A caller answered 429 with Retry-After is refused locally until then: each case its own caller,
  // so no case (nor expectNextRequestWorks, with TEST_TOKEN) meets another's block.
  ])('%s', async (label, response, expected) => expectFault(response, expected, `status-case-${label.replace(/\W+/g, '-')}-0123456789`));
});

describe('a 200 the gateway cannot use', () => {
  test.each<[string, ScriptedResponse]>([
    ['HTML', { status: 200, body: '<!doctype html><p>maintenance</p>', headers: { 'content-type': 'text/html' } }],
    ['truncated JSON', { status: 200, body: '{"id": 42, "points": ' }],
    ['null', { status: 200, body: 'null', headers: { 'content-type': 'application/json' } }],
    ['an array', { status: 200, body: [challengeHistoryBody()] }],
  ])('%s: BAD_UPSTREAM_RESPONSE, outcome unknown', async (_label, response) =>
    expectFault(response, unknown('BAD_UPSTREAM_RESPONSE')),
  );

  test.each<[string, Record<string, number>]>([
    ['streamed without a length', {}],
    ['announced by Content-Length', { 'content-length': FIFTY_MB }],
  ])('a 50 MB body %s: only about UPSTREAM_MAX_RESPONSE_BYTES is read', async (_label, headers) => {
    await expectFault({ status: 200, streamBytes: FIFTY_MB, headers }, unknown('BAD_UPSTREAM_RESPONSE'));
    // What the upstream managed to write is the bound plus socket buffers, far from 50 MB.
    expect(upstream.bytesWritten()).toBeLessThan(16 * 1024 * 1024);
  });
});

describe('redirects are never followed', () => {
  test.each([
    ['to another host (302)', 302, () => `${otherHost.origin}/steal`],
    ['to another host, method-preserving (307)', 307, () => `${otherHost.origin}/steal`],
    ['to the same host (301)', 301, () => `${upstream.url.href}/manager/ambassadors/7/challenge-histories-moved`],
    ['to the same host, method-preserving (308)', 308, () => `${upstream.url.pathname}/elsewhere`],
  ])('%s: BAD_UPSTREAM_RESPONSE, the token goes nowhere else', async (_label, status, location) => {
    await expectFault({ status, headers: { location: location() } }, unknown('BAD_UPSTREAM_RESPONSE'));
    expect(otherHost.hits).toEqual([]);
    // The one POST before the check; the follow-up success request is the only other one.
    expect(upstream.requests.map((r) => r.url)).toEqual([
      '/api/v2/manager/ambassadors/7/challenge-histories',
      '/api/v2/manager/ambassadors/7/challenge-histories',
    ]);
  });
});

describe('documented refusals with bodies that are not JSON', () => {
  test.each<[string, ScriptedResponse, Expected]>([
    ['401 with HTML', { status: 401, body: '<html>login</html>' }, { code: 'UNAUTHENTICATED', outcomeUnknown: false }],
    ['401 empty', { status: 401 }, { code: 'UNAUTHENTICATED', outcomeUnknown: false }],
    ['403 with text', { status: 403, body: 'Forbidden' }, { code: 'FORBIDDEN', outcomeUnknown: false }],
    ['403 empty', { status: 403 }, { code: 'FORBIDDEN', outcomeUnknown: false }],
    ['404 with HTML', { status: 404, body: '<h1>Not Found</h1>' }, { typename: 'AmbassadorNotFoundError' }],
    ['404 empty', { status: 404 }, { typename: 'AmbassadorNotFoundError' }],
    ['422 with text', { status: 422, body: 'Unprocessable' }, { typename: 'ValidationError' }],
    ['422 empty', { status: 422 }, { typename: 'ValidationError' }],
  ])('%s', async (_label, response, expected) => expectFault(response, expected));
});

test('a slow upstream does not block requests the gateway can answer itself', async () => {
  const slow = await startScriptableUpstream();
  const small = await startGateway({ upstreamUrl: slow.url, env: { UPSTREAM_CONNECTIONS: '2', UPSTREAM_TIMEOUT_MS: '10000' } });
  try {
    const answer = gate(); // every upstream call hangs until the test opens it
    slow.respondWith(async () => {
      await answer.opened;
      return { status: 200, body: challengeHistoryBody() };
    });
    let slowDone = 0;
    const hanging = Array.from({ length: 4 }, () => addChallengeHistory(small).then((r) => ((slowDone += 1), r)));
    await eventually(() => slow.requests.length === 2); // the pool is full; two more wait for a connection

    const invalidId = await addChallengeHistory(small, 'not-a-number');
    const typename = await small.graphql({ query: '{ __typename }' });
    const health = await fetch(new URL('/health', small.url));

    expect(slowDone).toBe(0); // answered while every upstream call still hangs
    expect(invalidId.body.data.addChallengeHistory.__typename).toBe('ValidationError');
    expect(typename.body.data).toEqual({ __typename: 'Query' });
    expect(health.status).toBe(200);
    answer.open();
    for (const res of await Promise.all(hanging)) {
      expect(res.body.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');
    }
  } finally {
    await small.close();
    await slow.close();
  }
});
