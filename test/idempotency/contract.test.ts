// Every line of the idempotency-key contract, against every store (memory, a real redis-server, a
// 3-master Redis Cluster, a Sentinel group), over real sockets: what the client got, and how many
// POSTs the upstream received. Each topology starts once for the file.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { startGateway } from '../support/gateway.js';
import type { TestGateway } from '../support/gateway.js';
import { challengeHistoryBody, startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream, ScriptedResponse } from '../support/scriptable-upstream.js';
import { eventually } from '../support/operations.js';
import { AWARD, STORES, codedError, holdAwards, keyedAdd, keyedAddServed, newKey, redisAvailable, startKeyedGateway } from './keyed.js';

const posts = (upstream: ScriptableUpstream) => upstream.requests.filter((r) => r.method === 'POST').length;

describe.each(STORES)('$name store', (store) => {
  let upstream: ScriptableUpstream;
  let gw: TestGateway;
  beforeAll(async () => {
    if (store.name !== 'memory' && !redisAvailable) return;
    await store.start();
    upstream = await startScriptableUpstream();
    gw = await startKeyedGateway(upstream.url, store.env());
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
    await store.stop();
  });
  beforeEach((context) => {
    if (store.name !== 'memory' && !redisAvailable) context.skip();
    upstream.reset();
  });

  test('a repeat after a success answers the same record, replayed, with no new POST; the key is never sent upstream', async () => {
    const key = newKey();
    const first = await keyedAdd(gw, key);
    const repeat = await keyedAdd(gw, key);
    expect(first.body.data.addChallengeHistory).toMatchObject({ __typename: 'AddChallengeHistorySuccess', replayed: false });
    expect(repeat.body.data.addChallengeHistory).toEqual({ ...first.body.data.addChallengeHistory, replayed: true });
    expect(repeat.body.data.addChallengeHistory.challengeHistory.id).toBe('42');
    expect(posts(upstream)).toBe(1);
    expect(upstream.requests[0]!.json).toEqual({ points: 42, score: 12.5, message: 'well done', challenge_id: 3 });
    expect(upstream.requests[0]!.body).not.toContain(key);
    // The record is where this store keeps it (a gateway on the wrong store would pass the lines above).
    if (store.name !== 'memory') expect(await store.storedKeys()).toBeGreaterThan(0);
  });

  test.each<[string, ScriptedResponse, string]>([
    ['a timeout', { delayMs: 3000 }, 'UPSTREAM_TIMEOUT'],
    ['a 500', { status: 500, body: 'oops' }, 'UPSTREAM_UNAVAILABLE'],
    ['a reset after sending', { reset: 'before-response' }, 'UPSTREAM_UNAVAILABLE'],
    ['an unusable 2xx', { status: 200, body: '<html>' }, 'BAD_UPSTREAM_RESPONSE'],
  ])('a repeat after %s answers the same code, outcomeUnknown and replayed, and is never sent again', async (_, response, code) => {
    upstream.respondWith(response);
    const key = newKey();
    const first = await keyedAdd(gw, key);
    expect(codedError(first)).toEqual({ code, outcomeUnknown: true });
    const repeat = await keyedAdd(gw, key);
    expect(codedError(repeat)).toEqual({ code, outcomeUnknown: true, replayed: true });
    expect(repeat.body.errors[0].message).toMatch(/may .*recorded.*check whether the award exists before using a new key/is);
    expect(posts(upstream)).toBe(1);
  });

  test.each<[string, ScriptedResponse, string]>([
    ['404', { status: 404 }, 'AmbassadorNotFoundError'],
    ['422', { status: 422, body: { message: 'no', errors: { points: ['bad'] } } }, 'ValidationError'],
    ['401', { status: 401 }, 'UNAUTHENTICATED'],
    ['429 without Retry-After', { status: 429 }, 'RATE_LIMITED'],
  ])('nothing is recorded after a %s: the repeat is sent, and the fixed request succeeds with the same key', async (_, response, answer) => {
    upstream.queue(response, response);
    const key = newKey();
    for (const attempt of [await keyedAdd(gw, key), await keyedAdd(gw, key)]) {
      const result = attempt.body.data?.addChallengeHistory;
      expect(result?.__typename ?? codedError(attempt)?.code).toBe(answer);
      expect(codedError(attempt)?.replayed).toBeUndefined();
    }
    const fixed = await keyedAdd(gw, key);
    expect(fixed.body.data.addChallengeHistory).toMatchObject({ __typename: 'AddChallengeHistorySuccess', replayed: false });
    expect(posts(upstream)).toBe(3);
  });

  test('nothing is recorded after a 429 with Retry-After: a repeat within it is refused unsent, the key left free; after it the repeat is sent and succeeds', async () => {
    const token = `retry-after-${store.name}-token-0123456789`;
    upstream.queue({ status: 429, headers: { 'retry-after': '1' } });
    const key = newKey();
    const first = await keyedAdd(gw, key, { token });
    expect(codedError(first)).toEqual({ code: 'RATE_LIMITED', outcomeUnknown: false, retryAfter: 1 });
    // Within Retry-After: the gateway refuses it itself, nothing sent, nothing recorded.
    const repeat = await keyedAdd(gw, key, { token });
    expect(codedError(repeat)).toEqual({ code: 'RATE_LIMITED', outcomeUnknown: false, limitedBy: 'gateway', retryAfter: 1 });
    expect(posts(upstream)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const fixed = await keyedAdd(gw, key, { token });
    expect(fixed.body.data.addChallengeHistory).toMatchObject({ __typename: 'AddChallengeHistorySuccess', replayed: false });
    expect(posts(upstream)).toBe(2);
  });

  test('nothing is recorded after a call never sent (connection refused): the key stays free', async () => {
    const closed = await startScriptableUpstream();
    await closed.close();
    const refused = await startGateway({ upstreamUrl: closed.url, env: store.env() });
    try {
      const key = newKey();
      const first = await keyedAdd(refused, key);
      expect(codedError(first)).toEqual({ code: 'UPSTREAM_UNAVAILABLE', outcomeUnknown: false });
      // A record would make other arguments IDEMPOTENCY_KEY_REUSED; a free key runs (and is refused) again.
      const other = await keyedAdd(refused, key, { input: { points: 1 } });
      expect(codedError(other)).toEqual({ code: 'UPSTREAM_UNAVAILABLE', outcomeUnknown: false });
    } finally {
      await refused.close();
    }
  });

  test('the same key with other arguments is IDEMPOTENCY_KEY_REUSED, with no upstream call', async () => {
    const key = newKey();
    await keyedAddServed(gw, key);
    const variants: Parameters<typeof keyedAdd>[2][] = [
      { ambassadorId: '8' },
      { input: { points: 43 } },
      { input: { score: 1 } },
      { input: { message: 'other' } },
      { input: { challengeId: '4' } },
    ];
    for (const variant of variants) {
      expect(codedError(await keyedAdd(gw, key, variant))).toEqual({ code: 'IDEMPOTENCY_KEY_REUSED', outcomeUnknown: false });
    }
    // Compared after normalisation: ID 7 sent as a number and challengeId 3 as a number are the same award.
    const normalised = await keyedAdd(gw, key, { ambassadorId: 7, input: { challengeId: 3 } });
    expect(normalised.body.data.addChallengeHistory.replayed).toBe(true);
    expect(posts(upstream)).toBe(1);
  });

  test('the same key with another token is refused, with no upstream call and nothing of the first answer', async () => {
    const key = newKey();
    upstream.respondWith({ status: 201, body: challengeHistoryBody({ id: 90210, message: 'secret note' }) });
    await keyedAddServed(gw, key);
    const other = await keyedAdd(gw, key, { token: 'another-tenant-token' });
    expect(codedError(other)).toEqual({ code: 'IDEMPOTENCY_KEY_REUSED', outcomeUnknown: false });
    expect(other.body.data).toBeNull();
    expect(JSON.stringify(other.body)).not.toMatch(/90210|secret note|Ada/);
    expect(posts(upstream)).toBe(1);
  });

  test('50 concurrent requests with one key: exactly one POST, 50 equal answers', async () => {
    const answer = holdAwards(upstream, challengeHistoryBody({ id: 777 }));
    const key = newKey();
    const pending = Array.from({ length: 50 }, () => keyedAdd(gw, key));
    // The first is in flight (the others are waiting for it, or arrive after it settled: a replay either way).
    await eventually(() => upstream.requests.length === 1);
    answer.open();
    const results = (await Promise.all(pending)).map((r) => r.body.data.addChallengeHistory);
    expect(posts(upstream)).toBe(1);
    expect(results.filter((r) => r.replayed === false)).toHaveLength(1);
    for (const result of results) expect({ ...result, replayed: null }).toEqual({ ...results[0], replayed: null });
    expect(results[0].challengeHistory.id).toBe('777');
  });

  test('a batch: each item\'s key on its own; two items with one key and the same arguments are one award', async () => {
    let n = 0;
    upstream.respondWith(() => ({ status: 201, body: challengeHistoryBody({ id: 500 + n++ }) }));
    const [shared, own] = [newKey(), newKey()];
    const item = (key: string | null, ambassadorId = '7') => ({ ambassadorId, input: { ...AWARD, ...(key ? { idempotencyKey: key } : {}) } });
    const res = await gw.graphql({
      query: /* GraphQL */ `
        mutation Batch($items: [AddChallengeHistoryItemInput!]!) {
          addChallengeHistories(items: $items) {
            __typename
            ... on AddChallengeHistorySuccess { replayed challengeHistory { id } }
          }
        }
      `,
      variables: { items: [item(shared), item(shared), item(own, '8'), item(null)] },
    });
    const results = res.body.data.addChallengeHistories;
    expect(posts(upstream)).toBe(3);
    expect(results[0].challengeHistory.id).toBe(results[1].challengeHistory.id);
    expect([results[0].replayed, results[1].replayed].sort()).toEqual([false, true]);
    expect(results[2]).toMatchObject({ replayed: false });
    expect(results[3]).toMatchObject({ replayed: false });
    expect(new Set(results.map((r: { challengeHistory: { id: string } }) => r.challengeHistory.id)).size).toBe(3);
  });

  test.each([
    ['empty', ''],
    ['with a space', 'a key'],
    ['256 characters', 'k'.repeat(256)],
    ['not ASCII', 'clé'],
    ['a control character', 'a\tb'],
  ])('a key %s is a ValidationError at input.idempotencyKey, before any upstream call', async (_, key) => {
    const res = await keyedAdd(gw, key);
    expect(res.body.data.addChallengeHistory).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ field: 'idempotencyKey', path: ['input', 'idempotencyKey'] }],
    });
    expect(upstream.requests).toHaveLength(0);
  });

  test('a key of 255 printable characters is accepted', async () => {
    const key = `${newKey()}!~`.padEnd(255, 'x');
    expect((await keyedAdd(gw, key)).body.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');
  });
});

test('the memory store: full, a new key is IDEMPOTENCY_STORE_UNAVAILABLE (nothing sent) and no record is evicted', async () => {
  const upstream = await startScriptableUpstream();
  const gw = await startKeyedGateway(upstream.url, { IDEMPOTENCY_MAX_KEYS: '2', IDEMPOTENCY_MAX_KEYS_PER_TOKEN: '2' });
  try {
    // A recorded success first: the caller's later claims no longer count in the pool of unproven callers.
    expect((await keyedAdd(gw, 'a')).body.data.addChallengeHistory.replayed).toBe(false);
    const answer = holdAwards(upstream);
    const inFlight = keyedAdd(gw, 'b');
    await eventually(() => upstream.requests.length === 2);
    const refused = await keyedAdd(gw, 'c');
    expect(codedError(refused)).toEqual({ code: 'IDEMPOTENCY_STORE_UNAVAILABLE', outcomeUnknown: false });
    // Requests without a key are unaffected.
    upstream.queue({ status: 201, body: challengeHistoryBody() });
    expect((await keyedAdd(gw, null)).body.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');
    answer.open();
    await inFlight;
    const posted = upstream.requests.length;
    // Still full once 'b' settled: 'c' is refused again, unsent; 'a' and 'b' replay until their TTL.
    expect(codedError(await keyedAdd(gw, 'c'))?.code).toBe('IDEMPOTENCY_STORE_UNAVAILABLE');
    expect((await keyedAdd(gw, 'a')).body.data.addChallengeHistory.replayed).toBe(true);
    expect((await keyedAdd(gw, 'b')).body.data.addChallengeHistory.replayed).toBe(true);
    expect(upstream.requests.length).toBe(posted);
    const metrics = await fetch(new URL('/metrics', gw.url)).then((r) => r.text());
    expect(metrics).toMatch(/gateway_idempotency_store_unavailable_total\{reason="full"\} 2/);
  } finally {
    await gw.close();
    await upstream.close();
  }
});
