// Redis stopped, frozen and restarted under a running gateway: keyed awards are refused with
// IDEMPOTENCY_STORE_UNAVAILABLE (nothing sent) while it cannot answer, unkeyed ones go on,
// /ready stays 200, a metric counts the refusals, and keys work again once Redis is back.

import { describe, expect, test } from 'vitest';
import { codedError, keyedAdd, newKey, redisAvailable, useRedisGateway } from './keyed.js';

const REDIS_TIMEOUT_MS = 300;
const QUEUE_TIMEOUT_MS = 200;
const UNAVAILABLE = { code: 'IDEMPOTENCY_STORE_UNAVAILABLE', outcomeUnknown: false };

describe.skipIf(!redisAvailable)('Redis outages', () => {
  const fx = useRedisGateway({ REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT_MS), UPSTREAM_QUEUE_TIMEOUT_MS: String(QUEUE_TIMEOUT_MS) });

  const succeeded = async (key: string | null) => (await keyedAdd(fx.gw, key)).body.data?.addChallengeHistory?.__typename === 'AddChallengeHistorySuccess';
  const refusals = async () => Number(/gateway_idempotency_store_unavailable_total\{reason="unreachable"\} (\d+)/.exec(await fetch(new URL('/metrics', fx.gw.url)).then((r) => r.text()))?.[1]);

  /**
   * Keyed awards succeed again within a bounded number of tries (the client reconnects in the
   * background; a Redis restarted empty is a loss of its data, refused for the worst case from
   * claim to settle, about 3 s here).
   */
  async function worksAgain(): Promise<void> {
    for (let tries = 0; tries < 200; tries++) {
      if (await succeeded(newKey())) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('keyed awards did not work again');
  }

  test('stopped: keyed refused and nothing sent, unkeyed served, /ready 200, refusals counted; restarted: keys work again', async () => {
    await worksAgain();
    await fx.redis.stop();
    fx.upstream.reset();
    const before = await refusals();
    const refused = await keyedAdd(fx.gw, newKey());
    expect(codedError(refused)).toEqual(UNAVAILABLE);
    expect(refused.body.errors[0].message).toMatch(/not sent/);
    expect(fx.upstream.requests).toHaveLength(0);
    expect(await succeeded(null)).toBe(true);
    expect(fx.upstream.requests).toHaveLength(1);
    expect((await fetch(new URL('/ready', fx.gw.url))).status).toBe(200);
    expect(await refusals()).toBe(before + 1);

    await fx.redis.start();
    await worksAgain();
  });

  test('frozen: the refusal comes while Redis is still frozen (REDIS_TIMEOUT_MS bounds it); the claim that landed late is freed', async () => {
    await worksAgain();
    fx.upstream.reset();
    const key = newKey();
    fx.redis.freeze();
    let thawed = false;
    // Thawed only long after REDIS_TIMEOUT_MS: an answer before it did not wait for Redis.
    const thaw = new Promise<void>((resolve) =>
      setTimeout(() => {
        thawed = true;
        fx.redis.thaw();
        resolve();
      }, 10 * REDIS_TIMEOUT_MS),
    );
    const refused = await keyedAdd(fx.gw, key);
    const answeredWhileFrozen = !thawed;
    await thaw;
    expect(codedError(refused)).toEqual(UNAVAILABLE);
    expect(answeredWhileFrozen).toBe(true);
    expect(fx.upstream.requests).toHaveLength(0);
    // The claim Redis ran after thawing was freed again: the key is not stuck as an unknown outcome.
    await worksAgain();
    const retried = await keyedAdd(fx.gw, key);
    expect(retried.body.data.addChallengeHistory).toMatchObject({ __typename: 'AddChallengeHistorySuccess', replayed: false });
  });
});
