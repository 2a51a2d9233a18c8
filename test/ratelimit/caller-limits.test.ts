// Per-caller limits through the gateway on loopback: a runaway caller is refused unsent
// (RATE_LIMITED, retryAfter, limitedBy "gateway", outcomeUnknown false) without touching another
// caller; a caller the upstream answered 429 is refused locally until its Retry-After; and two
// gateway processes on one real redis-server share both.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { useTwoGatewaysOnRedis } from '../support/gateway-process.js';
import { startGateway, useGatewayOn } from '../support/gateway.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream } from '../support/scriptable-upstream.js';
import { addChallengeHistory } from '../support/operations.js';
import { redisAvailable } from '../idempotency/keyed.js';
import { MAX_HONOURED_RETRY_AFTER_S } from '../../src/ratelimit/caller-limiter.js';

type GatewayLike = Parameters<typeof addChallengeHistory>[0];

const LIMIT = 5;
const RUNAWAY = 'runaway-token-0123456789';
const CALM = 'calm-token-0123456789';
const postsBy = (upstream: ScriptableUpstream, token: string) =>
  upstream.requests.filter((r) => r.method === 'POST' && r.headers.authorization === `Bearer ${token}`).length;

describe('one instance, no Redis', () => {
  const { upstream, gw } = useGatewayOn(startScriptableUpstream, { CALLER_RATE_LIMIT: String(LIMIT), CALLER_RATE_WINDOW_S: '60' });
  beforeEach(() => upstream.reset());

  test('a runaway caller is refused unsent past the limit; another caller is not touched', async () => {
    const runaway = await Promise.all(Array.from({ length: LIMIT + 3 }, () => addChallengeHistory(gw, '7', { token: RUNAWAY })));
    const refused = runaway.filter((res) => res.body.errors?.[0]?.extensions?.code === 'RATE_LIMITED');
    expect(refused).toHaveLength(3);
    for (const res of refused) {
      expect(res.body.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', outcomeUnknown: false, limitedBy: 'gateway', retryAfter: expect.any(Number) });
      expect(res.body.errors[0].extensions.retryAfter).toBeGreaterThanOrEqual(1);
      expect(res.body.errors[0].extensions.retryAfter).toBeLessThanOrEqual(60);
    }
    expect(postsBy(upstream, RUNAWAY)).toBe(LIMIT);
    // The calm caller has its own count.
    const calm = await addChallengeHistory(gw, '7', { token: CALM });
    expect(calm.body.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');
    expect(postsBy(upstream, CALM)).toBe(1);
    const metrics = await (await fetch(new URL('/metrics', gw.url))).text();
    expect(metrics).toMatch(/^gateway_caller_rate_limited_total\{reason="limit"\} 3$/m);
  });

  test('after the upstream answers a caller 429 with Retry-After, its next calls are refused locally until then; others go', async () => {
    const limited = 'limited-token-0123456789';
    upstream.respondWith((request) =>
      request.headers.authorization === `Bearer ${limited}` ? { status: 429, headers: { 'retry-after': '30' } } : { status: 201, body: { id: 1 } },
    );
    const first = await addChallengeHistory(gw, '7', { token: limited });
    expect(first.body.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', outcomeUnknown: false, retryAfter: 30 });
    const second = await addChallengeHistory(gw, '7', { token: limited });
    expect(second.body.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', outcomeUnknown: false, limitedBy: 'gateway', retryAfter: expect.any(Number) });
    expect(second.body.errors[0].extensions.retryAfter).toBeGreaterThan(25);
    expect(postsBy(upstream, limited)).toBe(1); // the second was never sent
    await addChallengeHistory(gw, '7', { token: CALM });
    expect(postsBy(upstream, CALM)).toBe(1);
  });
});

describe('off (the default)', () => {
  const { upstream, gw } = useGatewayOn(startScriptableUpstream);
  beforeEach(() => upstream.reset());
  test('no limit: every call is sent', async () => {
    await Promise.all(Array.from({ length: 30 }, () => addChallengeHistory(gw, '7', { token: RUNAWAY })));
    expect(postsBy(upstream, RUNAWAY)).toBe(30);
  });

  test("the upstream's 429 is still honoured: refused unsent until Retry-After, another caller served, then served again", async () => {
    await expectRetryAfterHonoured(upstream, gw, gw, 'default-limited-token-0123');
    const metrics = await (await fetch(new URL('/metrics', gw.url))).text();
    expect(metrics).toMatch(/^gateway_caller_rate_limited_total\{reason="upstream_429"\} 1$/m);
  });

  test('a Retry-After of a day blocks the caller for at most MAX_HONOURED_RETRY_AFTER_S', async () => {
    const limited = 'day-limited-token-0123456';
    upstream.queue({ status: 429, headers: { 'retry-after': '86400' } });
    expect((await addChallengeHistory(gw, '7', { token: limited })).body.errors[0].extensions.retryAfter).toBe(86_400);
    const refused = await addChallengeHistory(gw, '7', { token: limited });
    expect(refused.body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', limitedBy: 'gateway' });
    expect(refused.body.errors[0].extensions.retryAfter).toBeLessThanOrEqual(MAX_HONOURED_RETRY_AFTER_S);
    expect(postsBy(upstream, limited)).toBe(1);
  });
});

/**
 * `limited` is answered 429 with Retry-After: 2 once (through `first`): its next call (through
 * `second`) is refused unsent, another caller's goes through, and after 2 s it is served.
 */
async function expectRetryAfterHonoured(upstream: ScriptableUpstream, first: GatewayLike, second: GatewayLike, limited: string): Promise<void> {
  upstream.queue({ status: 429, headers: { 'retry-after': '2' } });
  const answered = await addChallengeHistory(first, '7', { token: limited });
  expect(answered.body.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', outcomeUnknown: false, retryAfter: 2 });
  const sent = upstream.requests.length;
  const refused = await addChallengeHistory(second, '7', { token: limited });
  expect(refused.body.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', outcomeUnknown: false, limitedBy: 'gateway', retryAfter: expect.any(Number) });
  expect(refused.body.errors[0].extensions.retryAfter).toBeGreaterThanOrEqual(1);
  expect(refused.body.errors[0].extensions.retryAfter).toBeLessThanOrEqual(2);
  expect(upstream.requests.length).toBe(sent); // nothing sent
  const calm = await addChallengeHistory(second, '7', { token: CALM });
  expect(calm.body.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');
  await new Promise((resolve) => setTimeout(resolve, 2_100));
  const later = await addChallengeHistory(second, '7', { token: limited });
  expect(later.body.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');
  expect(postsBy(upstream, limited)).toBe(2);
}

describe.skipIf(!redisAvailable)("two gateway processes on one redis-server, CALLER_RATE_LIMIT off: the upstream's 429 is shared", () => {
  const fx = useTwoGatewaysOnRedis();

  test('a caller answered 429 through one is refused unsent by the other until Retry-After, then served', async () => {
    const { upstream, a, b } = fx;
    upstream.reset();
    await expectRetryAfterHonoured(upstream, a, b, 'shared-default-limited-01');
  });
});

describe.skipIf(!redisAvailable)('two gateway processes on one redis-server', () => {
  const fx = useTwoGatewaysOnRedis({ CALLER_RATE_LIMIT: String(LIMIT), CALLER_RATE_WINDOW_S: '60' });

  test('share the limit: LIMIT calls in all, whichever instance takes them', async () => {
    const { upstream, a, b } = fx;
    upstream.reset();
    const results = [];
    for (let i = 0; i < LIMIT + 3; i++) results.push(await addChallengeHistory(i % 2 ? a : b, '7', { token: RUNAWAY }));
    expect(postsBy(upstream, RUNAWAY)).toBe(LIMIT);
    expect(results.filter((res) => res.body.errors?.[0]?.extensions?.limitedBy === 'gateway')).toHaveLength(3);
    expect((await addChallengeHistory(b, '7', { token: CALM })).body.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');
  });

  test("share the upstream's 429: a caller limited through one is refused unsent by the other", async () => {
    const { upstream, a, b } = fx;
    upstream.reset();
    const limited = 'shared-limited-token-0123';
    upstream.respondWith((request) =>
      request.headers.authorization === `Bearer ${limited}` ? { status: 429, headers: { 'retry-after': '30' } } : { status: 201, body: { id: 1 } },
    );
    expect((await addChallengeHistory(a, '7', { token: limited })).body.errors[0].extensions.code).toBe('RATE_LIMITED');
    const other = await addChallengeHistory(b, '7', { token: limited });
    expect(other.body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', limitedBy: 'gateway', outcomeUnknown: false });
    expect(postsBy(upstream, limited)).toBe(1);
  });
});

describe.skipIf(!redisAvailable)('Redis cannot answer', () => {
  let redis: TestRedis;
  let upstream: ScriptableUpstream;
  beforeAll(async () => {
    redis = await startRedis();
    await redis.stop();
    upstream = await startScriptableUpstream();
  });
  afterAll(() => upstream?.close());

  test.each([
    ['open (the default): the call goes', {}, 1],
    ['closed: refused unsent', { CALLER_RATE_LIMIT_FAIL_OPEN: 'false' }, 0],
  ])('CALLER_RATE_LIMIT_FAIL_OPEN %s', async (_, extra, sent) => {
    upstream.reset();
    const gw = await startGateway({ upstreamUrl: upstream.url, env: { REDIS_URL: redis.url, REDIS_TIMEOUT_MS: '100', CALLER_RATE_LIMIT: '100', ...extra } });
    try {
      const res = await addChallengeHistory(gw, '7', { token: CALM });
      expect(postsBy(upstream, CALM)).toBe(sent);
      if (sent === 0) expect(res.body.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', outcomeUnknown: false, limitedBy: 'gateway', retryAfter: 1 });
      else expect(res.body.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');
      expect(gw.logs.filter((line) => line.includes('caller rate limit: store unavailable'))).toHaveLength(1);
    } finally {
      await gw.close();
    }
  });
});
