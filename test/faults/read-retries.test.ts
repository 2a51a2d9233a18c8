// Reads retry, writes never, on loopback sockets with the scriptable upstream: a GET meeting a
// reset, a 502/503/504 or a 429 with a Retry-After that fits is tried again (at most
// UPSTREAM_READ_RETRIES times); a timeout, a 500 or a 4xx is not; and the POST is sent exactly
// once under every fault, retries on or off.

import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { startGateway } from '../support/gateway.js';
import type { TestGateway } from '../support/gateway.js';
import { challengeBody, startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream, ScriptedResponse } from '../support/scriptable-upstream.js';
import { addChallengeHistory } from '../support/operations.js';

const TIMEOUT_MS = 500;
const RETRIES = 2;
const env = {
  UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS),
  UPSTREAM_READ_RETRIES: String(RETRIES),
  UPSTREAM_BREAKER_FAILURES: '0', // this file counts retries, not the breaker
};
// A gateway per test: the retry budget is the gateway's, and one test's retries must not spend the next one's.
let upstream: ScriptableUpstream;
let gw: TestGateway;
beforeAll(async () => {
  upstream = await startScriptableUpstream();
});
afterAll(() => upstream.close());
beforeEach(async () => {
  upstream.reset();
  gw = await startGateway({ upstreamUrl: upstream.url, env });
});
afterEach(() => gw.close());

const ok: ScriptedResponse = { status: 200, body: challengeBody(5) };
const gets = () => upstream.requests.filter((r) => r.method === 'GET').length;
const posts = () => upstream.requests.filter((r) => r.method === 'POST').length;
const readChallenge = () => gw.graphql({ query: '{ challenge(id: "5") { id } }' });

describe('a GET', () => {
  test.each<[string, ScriptedResponse]>([
    ['a reset before the answer', { reset: 'before-response' }],
    ['a 502', { status: 502, body: 'bad gateway' }],
    ['a 503', { status: 503 }],
    ['a 504', { status: 504 }],
    ['a 429 with Retry-After: 0', { status: 429, headers: { 'retry-after': '0' } }],
  ])('after %s is tried again and answers', async (_, fault) => {
    upstream.queue(fault, fault);
    upstream.respondWith(ok);
    const res = await readChallenge();
    expect(res.body).toEqual({ data: { challenge: { id: '5' } } });
    expect(gets()).toBe(3);
  });

  test('_entities reads retry too', async () => {
    upstream.queue({ status: 503 });
    upstream.respondWith(ok);
    const res = await gw.graphql({ query: '{ _entities(representations: [{ __typename: "Challenge", id: "5" }]) { ... on Challenge { id } } }' });
    expect(res.body).toEqual({ data: { _entities: [{ id: '5' }] } });
    expect(gets()).toBe(2);
  });

  test('at most UPSTREAM_READ_RETRIES times: the last failure is the answer', async () => {
    upstream.respondWith({ status: 503 });
    const res = await readChallenge();
    expect(res.body.errors[0].extensions.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(gets()).toBe(1 + RETRIES);
  });

  test.each<[string, ScriptedResponse, string | null]>([
    ['a timeout', { delayMs: TIMEOUT_MS * 3, ...ok }, 'UPSTREAM_TIMEOUT'],
    ['a 500', { status: 500 }, 'UPSTREAM_UNAVAILABLE'],
    ['a 429 without Retry-After', { status: 429 }, 'RATE_LIMITED'],
    ['a 429 whose Retry-After does not fit the read', { status: 429, headers: { 'retry-after': '3600' } }, 'RATE_LIMITED'],
    ['a 401', { status: 401, body: { message: 'Unauthorized.' } }, 'UNAUTHENTICATED'],
    ['a 404', { status: 404, body: 'Not found' }, null],
  ])('after %s is not tried again', async (_, fault, code) => {
    upstream.respondWith(fault);
    const res = await readChallenge();
    if (code === null) expect(res.body).toEqual({ data: { challenge: null } });
    else expect(res.body.errors[0].extensions.code).toBe(code);
    expect(gets()).toBe(1);
  });

  test('the retry budget: a failing upstream gets at most a share of the calls more, not RETRIES times each', async () => {
    upstream.respondWith({ status: 503 });
    const reads = 60;
    const ids = Array.from({ length: reads }, (_, i) => `c${i}: challenge(id: "${i + 1}") { id }`);
    // Several requests of 10 reads each (CHALLENGE_LOAD_CONCURRENCY allows them; aliases within the limit).
    for (let i = 0; i < reads; i += 10) await gw.graphql({ query: `{ ${ids.slice(i, i + 10).join(' ')} }` });
    const retries = gets() - reads;
    // Budget: 10 + 10% of calls; without it this would be 2 × 60.
    expect(retries).toBeGreaterThan(0);
    expect(retries).toBeLessThanOrEqual(10 + Math.ceil(0.1 * gets()));
    const metrics = await (await fetch(new URL('/metrics', gw.url))).text();
    expect(metrics).toMatch(/^gateway_upstream_read_retries_total\{result="budget_spent"\} [1-9]/m);
  });
});

describe('the POST is never retried', () => {
  test.each<[string, ScriptedResponse]>([
    ['a reset after it was written', { reset: 'before-response' }],
    ['a reset mid-answer', { status: 200, body: { id: 1 }, reset: 'mid-body' }],
    ['a 502', { status: 502 }],
    ['a 503', { status: 503, headers: { 'retry-after': '0' } }],
    ['a 504', { status: 504 }],
    ['a 429 with Retry-After: 0', { status: 429, headers: { 'retry-after': '0' } }],
    ['a timeout', { delayMs: TIMEOUT_MS * 3, status: 200 }],
  ])('%s: exactly one POST', async (_, fault) => {
    upstream.respondWith(fault);
    const res = await addChallengeHistory(gw);
    expect(res.body.errors).toHaveLength(1);
    // Give a wrongly scheduled retry the time to show up.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(posts()).toBe(1);
  });

  test('a reset before anything was written: one connection, no second try, outcome known', async () => {
    const connections: Socket[] = [];
    const server = createServer((socket) => {
      connections.push(socket);
      socket.destroy(); // closed as it opens: the request is never written whole
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const resetting = await startGateway({ upstreamUrl: `http://127.0.0.1:${port}/api/v2`, env });
    try {
      const res = await addChallengeHistory(resetting);
      expect(res.body.errors[0].extensions.code).toBe('UPSTREAM_UNAVAILABLE');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(connections).toHaveLength(1);
    } finally {
      await resetting.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('retries stay within one read deadline (UPSTREAM_TIMEOUT_MS from the first try)', () => {
  const MANY = 10;
  async function timedRead(timeoutMs: number): Promise<{ elapsed: number; code: string }> {
    const own = await startGateway({ upstreamUrl: upstream.url, env: { ...env, UPSTREAM_TIMEOUT_MS: String(timeoutMs), UPSTREAM_READ_RETRIES: String(MANY) } });
    try {
      const started = performance.now();
      const res = await own.graphql({ query: '{ challenge(id: "5") { id } }' });
      return { elapsed: performance.now() - started, code: res.body.errors?.[0]?.extensions?.code };
    } finally {
      await own.close();
    }
  }

  test('a reset on every GET: the field fails within the deadline plus a small margin, with at most UPSTREAM_READ_RETRIES + 1 GETs', async () => {
    const timeoutMs = 300;
    upstream.respondWith({ reset: 'before-response' });
    const { elapsed, code } = await timedRead(timeoutMs);
    expect(code).toBe('UPSTREAM_UNAVAILABLE');
    expect(gets()).toBeGreaterThan(1);
    expect(gets()).toBeLessThanOrEqual(MANY + 1);
    expect(elapsed).toBeLessThan(timeoutMs * 1.5);
  });

  test("a 429 with Retry-After: 1 that fits the deadline: the read's own retry comes after the caller's block and is sent", async () => {
    upstream.queue({ status: 429, headers: { 'retry-after': '1' } });
    upstream.respondWith(ok);
    const own = await startGateway({ upstreamUrl: upstream.url, env: { ...env, UPSTREAM_TIMEOUT_MS: '3000' } });
    try {
      const res = await own.graphql({ query: '{ challenge(id: "5") { id } }' });
      expect(res.body).toEqual({ data: { challenge: { id: '5' } } });
      expect(gets()).toBe(2);
    } finally {
      await own.close();
    }
  });

  test('a retry after a late 503 gets only what is left of the deadline, not a whole one', async () => {
    const timeoutMs = 1_000;
    // The first GET answers 503 at 60 % of the deadline; the retry meets an upstream that does not answer.
    upstream.queue({ status: 503, delayMs: timeoutMs * 0.6 });
    upstream.respondWith({ delayMs: timeoutMs * 5, ...ok });
    const { elapsed, code } = await timedRead(timeoutMs);
    expect(code).toBe('UPSTREAM_TIMEOUT');
    expect(gets()).toBe(2);
    // Before: the retry had a whole deadline of its own (about 1.6 × UPSTREAM_TIMEOUT_MS in all).
    expect(elapsed).toBeLessThan(timeoutMs * 1.3);
  });
});
