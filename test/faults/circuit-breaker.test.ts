// The upstream circuit breaker through the whole gateway, on loopback: a failing upstream opens
// it and the next calls are answered at once, unsent (circuitOpen, outcomeUnknown: false); 4xx
// answers never open it; half-open lets a read through first and an answer closes it; every
// transition is one log line and the state is a metric.

import { beforeEach, describe, expect, test } from 'vitest';
import { startStalledListener } from '../support/stalled-listener.js';
import { TEST_TOKEN, useGatewayOn } from '../support/gateway.js';
import { challengeById, challengeHistoryBody, startScriptableUpstream } from '../support/scriptable-upstream.js';
import { addChallengeHistory, eventually } from '../support/operations.js';

const TIMEOUT_MS = 400;
const OPEN_MS = 600;
const env = {
  UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS),
  UPSTREAM_BREAKER_FAILURES: '3',
  UPSTREAM_BREAKER_WINDOW_MS: '10000',
  UPSTREAM_BREAKER_OPEN_MS: String(OPEN_MS),
  UPSTREAM_READ_RETRIES: '0',
};

const posts = (requests: { method: string }[]) => requests.filter((r) => r.method === 'POST').length;
const READ = { query: '{ challenge(id: "5") { id } }' };

describe('a failing upstream', () => {
  const { upstream, gw } = useGatewayOn(startScriptableUpstream, env);
  beforeEach(async () => {
    upstream.reset();
    // Each test starts closed: let any open period pass and close it with one answered read.
    await new Promise((resolve) => setTimeout(resolve, OPEN_MS + 20));
    upstream.respondWith(challengeById());
    await gw.graphql(READ);
    upstream.reset();
    gw.logs.length = 0;
  });

  test('three timeouts open it: the next award is answered at once, unsent, circuitOpen and outcomeUnknown false', async () => {
    upstream.respondWith({ delayMs: 5 * TIMEOUT_MS, status: 200 });
    let slowest = 0;
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const res = await addChallengeHistory(gw);
      slowest = Math.max(slowest, performance.now() - started);
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'UPSTREAM_TIMEOUT', outcomeUnknown: true });
    }
    expect(posts(upstream.requests)).toBe(3);

    const started = performance.now();
    const res = await addChallengeHistory(gw);
    const refusedIn = performance.now() - started;
    expect(res.body.errors[0].extensions).toEqual({ code: 'UPSTREAM_UNAVAILABLE', outcomeUnknown: false, circuitOpen: true, retryAfter: 1 });
    expect(res.body.errors[0].message).toContain('sent nothing');
    expect(posts(upstream.requests)).toBe(3); // refused before it was sent
    // A ratio within this run: far below one deadline, which each call before it waited.
    expect(refusedIn).toBeLessThan(slowest / 4);
    expect(JSON.stringify(res.body)).not.toContain(TEST_TOKEN);

    // Reads are refused too, unsent.
    const read = await gw.graphql(READ);
    expect(read.body.errors[0].extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', circuitOpen: true });
    expect(upstream.requests.filter((r) => r.method === 'GET')).toHaveLength(0);

    const metrics = await (await fetch(new URL('/metrics', gw.url))).text();
    expect(metrics).toMatch(/^gateway_upstream_circuit_state 2$/m);
    const lines = gw.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => String(l.msg).startsWith('upstream circuit'));
    expect(lines).toEqual([expect.objectContaining({ level: 'warn', msg: 'upstream circuit open: calls refused unsent', from: 'closed', to: 'open', failures: 3 })]);
  });

  test('5xx answers open it; once the open period ends, a read is the trial and an answer closes it', async () => {
    upstream.respondWith({ status: 503, body: 'down' });
    for (let i = 0; i < 3; i++) await addChallengeHistory(gw);
    expect((await addChallengeHistory(gw)).body.errors[0].extensions.circuitOpen).toBe(true);
    expect(posts(upstream.requests)).toBe(3);

    await new Promise((resolve) => setTimeout(resolve, OPEN_MS + 20));
    upstream.respondWith(challengeById({ status: 200, body: challengeHistoryBody({ id: 9 }) }));
    // Half-open: the write waits for a read to test the upstream...
    expect((await addChallengeHistory(gw)).body.errors[0].extensions.circuitOpen).toBe(true);
    expect(posts(upstream.requests)).toBe(3);
    // ...the read goes through, is answered, and closes it.
    expect((await gw.graphql(READ)).body).toEqual({ data: { challenge: { id: '5' } } });
    const res = await addChallengeHistory(gw);
    expect(res.body.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');
    expect(posts(upstream.requests)).toBe(4);
    const transitions = gw.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => String(l.msg).startsWith('upstream circuit'));
    expect(transitions.map((l) => l.to)).toEqual(['open', 'half_open', 'closed']);
  });

  test('a keyed award refused while open keeps its key free: the same key is sent once the circuit closes', async () => {
    const KEYED = `mutation ($key: String!) { addChallengeHistory(ambassadorId: "7", input: { points: 1, score: 1, idempotencyKey: $key }) {
      __typename ... on AddChallengeHistorySuccess { replayed challengeHistory { id } } } }`;
    const key = `breaker-${Date.now()}`;
    upstream.respondWith({ status: 503 });
    for (let i = 0; i < 3; i++) await addChallengeHistory(gw);
    const refused = await gw.graphql({ query: KEYED, variables: { key } });
    expect(refused.body.errors[0].extensions).toMatchObject({ circuitOpen: true, outcomeUnknown: false });
    expect(posts(upstream.requests)).toBe(3);

    await new Promise((resolve) => setTimeout(resolve, OPEN_MS + 20));
    upstream.respondWith(challengeById({ status: 201, body: challengeHistoryBody({ id: 77 }) }));
    await gw.graphql(READ); // the trial read closes it
    const sent = await gw.graphql({ query: KEYED, variables: { key } });
    expect(sent.body.data.addChallengeHistory).toEqual({ __typename: 'AddChallengeHistorySuccess', replayed: false, challengeHistory: { id: '77' } });
    expect(posts(upstream.requests)).toBe(4);
  });

  test('4xx answers never open it: every award is sent', async () => {
    upstream.respondWith({ status: 422, body: { message: 'bad', errors: { points: ['bad'] } } });
    for (let i = 0; i < 6; i++) await addChallengeHistory(gw);
    upstream.respondWith({ status: 401, body: { message: 'Unauthorized.' } });
    for (let i = 0; i < 6; i++) await addChallengeHistory(gw);
    expect(posts(upstream.requests)).toBe(12);
    expect(gw.logs.some((line) => line.includes('upstream circuit'))).toBe(false);
  });
});

describe('an upstream whose connects never complete', () => {
  const { gw } = useGatewayOn(startStalledListener, env);

  test('after three connect timeouts, awards are answered within milliseconds, unsent, outcomeUnknown false', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await addChallengeHistory(gw);
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'UPSTREAM_TIMEOUT', outcomeUnknown: false });
    }
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 20 }, () => addChallengeHistory(gw)));
    const elapsed = performance.now() - started;
    for (const res of results) {
      expect(res.body.errors[0].extensions).toEqual({ code: 'UPSTREAM_UNAVAILABLE', outcomeUnknown: false, circuitOpen: true, retryAfter: 1 });
    }
    expect(elapsed).toBeLessThan(TIMEOUT_MS); // twenty answers in less than one connect deadline
    await eventually(() => gw.logs.some((line) => line.includes('"to":"open"')));
  });
});

describe('calls queued for a connection when the circuit opens', () => {
  const { upstream, gw } = useGatewayOn(startScriptableUpstream, { ...env, UPSTREAM_CONNECTIONS: '2', UPSTREAM_BREAKER_FAILURES: '2' });

  test('are refused unsent too: only the calls that had a connection reach the upstream', async () => {
    upstream.respondWith({ delayMs: 3 * TIMEOUT_MS, status: 200 });
    const results = await Promise.all(Array.from({ length: 10 }, () => addChallengeHistory(gw)));
    const codes = results.map((res) => res.body.errors[0].extensions);
    // The two first time out one after the other: the slot the first frees goes to a third call
    // before the second failure opens the circuit. Every call after that is refused unsent.
    const sent = posts(upstream.requests);
    expect(sent).toBeLessThanOrEqual(3);
    expect(codes.filter((e) => e.code === 'UPSTREAM_TIMEOUT' && e.outcomeUnknown === true)).toHaveLength(sent);
    expect(codes.filter((e) => e.circuitOpen === true && e.outcomeUnknown === false)).toHaveLength(10 - sent);
  });
});
