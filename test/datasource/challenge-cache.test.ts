// The token-scoped read cache (CHALLENGE_CACHE_TTL_S) on loopback: repeated reads cost one GET
// per TTL per caller; one token's answer never reaches another; errors and nulls are never kept;
// identical reads in flight across requests share one GET (same caller only); a successful award
// invalidates the challenge for every caller; with Redis, instances share entries and invalidation.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { ReadCache } from '../../src/datasource/read-cache.js';
import { startGateway, useGatewayOn } from '../support/gateway.js';
import type { TestGateway } from '../support/gateway.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { challengeBody, challengeHistoryBody, startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { RecordedRequest, ScriptableUpstream, ScriptedResponse } from '../support/scriptable-upstream.js';
import { addChallengeHistory } from '../support/operations.js';
import { redisAvailable } from '../idempotency/keyed.js';

const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789';
const READ = '{ challenge(id: "5") { id title } }';

/** Each token sees its own title, so an answer served to the wrong token shows. */
function perToken(request: RecordedRequest): ScriptedResponse {
  if (request.method === 'POST') return { status: 201, body: challengeHistoryBody({ challenge: { ...(challengeHistoryBody().challenge as object), id: 5 } }) };
  const who = String(request.headers.authorization).slice('Bearer '.length, 'Bearer '.length + 5);
  return { status: 200, body: challengeBody(5, { titles: [{ id_i18n_content: 1, lang: 'en_GB', content: `for ${who}` }] }) };
}

const gets = (upstream: ScriptableUpstream, token?: string) =>
  upstream.requests.filter((r) => r.method === 'GET' && (token === undefined || r.headers.authorization === `Bearer ${token}`)).length;
const read = (gw: TestGateway, token: string, query = READ) => gw.graphql({ query }, { token });

describe('on, in memory', () => {
  const { upstream, gw } = useGatewayOn(startScriptableUpstream, { CHALLENGE_CACHE_TTL_S: '60', UPSTREAM_READ_RETRIES: '0' });
  beforeEach(() => {
    upstream.reset();
    upstream.respondWith(perToken);
  });

  test('repeated reads cost one GET per caller; another token gets its own answer, never the first one', async () => {
    // An id of its own: earlier tests' entries do not count.
    const query = '{ challenge(id: "11") { id title } }';
    for (let i = 0; i < 3; i++) expect((await read(gw, ALICE, query)).body.data.challenge.title).toBe('for alice');
    expect(gets(upstream, ALICE)).toBe(1);
    for (let i = 0; i < 3; i++) expect((await read(gw, BOB, query)).body.data.challenge.title).toBe('for bob-t');
    expect(gets(upstream, BOB)).toBe(1);
    // _entities reads the same entries.
    const entity = await gw.graphql({ query: '{ _entities(representations: [{ __typename: "Challenge", id: "11" }]) { ... on Challenge { title } } }' }, { token: ALICE });
    expect(entity.body.data._entities).toEqual([{ title: 'for alice' }]);
    expect(gets(upstream)).toBe(2);
    const metrics = await (await fetch(new URL('/metrics', gw.url))).text();
    expect(metrics).toMatch(/^gateway_challenge_cache_reads_total\{result="hit"\} [1-9]/m);
  });

  test('never keeps an error or a null: the next read goes upstream', async () => {
    const query = '{ challenge(id: "12") { id title } }';
    upstream.queue({ status: 503 }, { status: 404, body: 'Not found' });
    expect((await read(gw, ALICE, query)).body.errors[0].extensions.code).toBe('UPSTREAM_UNAVAILABLE');
    expect((await read(gw, ALICE, query)).body.data.challenge).toBeNull();
    expect((await read(gw, ALICE, query)).body.data.challenge.title).toBe('for alice');
    expect((await read(gw, ALICE, query)).body.data.challenge.title).toBe('for alice');
    expect(gets(upstream)).toBe(3);
  });

  test('identical reads in flight across requests share one GET, per caller only', async () => {
    const query = '{ challenge(id: "13") { id title } }';
    upstream.respondWith(async (request) => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      return perToken(request);
    });
    const answers = await Promise.all([...Array.from({ length: 5 }, () => read(gw, ALICE, query)), ...Array.from({ length: 5 }, () => read(gw, BOB, query))]);
    expect(answers.slice(0, 5).every((res) => res.body.data.challenge.title === 'for alice')).toBe(true);
    expect(answers.slice(5).every((res) => res.body.data.challenge.title === 'for bob-t')).toBe(true);
    expect(gets(upstream, ALICE)).toBe(1);
    expect(gets(upstream, BOB)).toBe(1);
  });

  test("a successful award invalidates the challenge for every caller; a refused one does not", async () => {
    await read(gw, ALICE);
    await read(gw, BOB);
    const before = gets(upstream);
    upstream.queue({ status: 422, body: { message: 'no', errors: { points: ['bad'] } } });
    await addChallengeHistory(gw, '7', { token: BOB }); // refused: nothing changed
    await read(gw, ALICE);
    expect(gets(upstream)).toBe(before);
    const award = await gw.graphql(
      { query: 'mutation { addChallengeHistory(ambassadorId: "7", input: { points: 1, score: 1, challengeId: "5" }) { __typename } }' },
      { token: BOB },
    );
    expect(award.body.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');
    await read(gw, ALICE);
    await read(gw, BOB);
    expect(gets(upstream)).toBe(before + 2);
  });
});

describe('off (the default)', () => {
  const { upstream, gw } = useGatewayOn(startScriptableUpstream);
  test('every read is a GET', async () => {
    upstream.respondWith(perToken);
    for (let i = 0; i < 3; i++) await read(gw, ALICE);
    expect(gets(upstream)).toBe(3);
  });
});

describe('ReadCache in memory', () => {
  test('bounded in bytes: the least recently used entries go', async () => {
    const cache = new ReadCache<string>({ ttlSeconds: 60, maxBytes: 8 * 1024, redis: null, keyPrefix: '', encode: (s) => s, decode: (s) => s });
    let loads = 0;
    const load = (id: number) => cache.read('caller', id, async () => (loads++, 'x'.repeat(1000)));
    for (let id = 1; id <= 20; id++) await load(id);
    loads = 0;
    await load(20); // recent: kept
    expect(loads).toBe(0);
    await load(1); // the oldest: gone, read again
    expect(loads).toBe(1);
    // ~2 KB per entry against 8 KiB: at most 4 kept.
    loads = 0;
    for (let id = 1; id <= 20; id++) await load(id);
    expect(loads).toBeGreaterThanOrEqual(16);
  });

  test('an entry expires after its TTL', async () => {
    let now = Date.now();
    const realNow = Date.now;
    Date.now = () => now;
    try {
      const cache = new ReadCache<string>({ ttlSeconds: 1, maxBytes: 64 * 1024, redis: null, keyPrefix: '', encode: (s) => s, decode: (s) => s });
      let loads = 0;
      const load = () => cache.read('caller', 1, async () => (loads++, 'x'));
      await load();
      await load();
      now += 1001;
      await load();
      expect(loads).toBe(2);
    } finally {
      Date.now = realNow;
    }
  });
});

describe.skipIf(!redisAvailable)('on, in Redis: two instances', () => {
  let redis: TestRedis;
  let upstream: ScriptableUpstream;
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    redis = await startRedis();
    upstream = await startScriptableUpstream();
    const env = { REDIS_URL: redis.url, CHALLENGE_CACHE_TTL_S: '60' };
    a = await startGateway({ upstreamUrl: upstream.url, env });
    b = await startGateway({ upstreamUrl: upstream.url, env });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await upstream?.close();
    await redis?.stop();
  });

  test('share entries per caller, and an award through one invalidates the other', async () => {
    upstream.respondWith(perToken);
    expect((await read(a, ALICE)).body.data.challenge.title).toBe('for alice');
    await new Promise((resolve) => setTimeout(resolve, 50)); // the entry's SET is not awaited
    expect((await read(b, ALICE)).body.data.challenge.title).toBe('for alice');
    expect(gets(upstream)).toBe(1);
    expect((await read(b, BOB)).body.data.challenge.title).toBe('for bob-t');
    expect(gets(upstream)).toBe(2);
    await addChallengeHistory(b, '7', { token: BOB });
    await read(a, ALICE);
    expect(gets(upstream)).toBe(3);
  });
});
