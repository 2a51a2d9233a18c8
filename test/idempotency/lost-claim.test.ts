// A claim whose reply is lost (Redis ran it, then the connection closed, as a CLIENT KILL, a
// failover or a reset does): the gateway reads the key back with the claim's own attempt before
// answering, so the answer is true (not sent: the key is free again) and no retry of that key
// ever answers OUTCOME_UNKNOWN for a call that was never sent.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestGateway } from '../support/gateway.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { startRedisProxy } from '../support/redis-proxy.js';
import type { RedisProxy } from '../support/redis-proxy.js';
import { startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream } from '../support/scriptable-upstream.js';
import { codedError, keyedAdd, newKey, redisAvailable, startKeyedGateway } from './keyed.js';

/** Only the claim's script carries a started record. */
const CLAIM_MARKER = '"outcome":null';
// The worst case from claim to settle here: 100 (queue) + 1000 (upstream) + 2 x 300 (Redis) + 1000 ms.
const MARK_MS = 2_700;

describe.skipIf(!redisAvailable)('a lost reply to a claim', () => {
  let redis: TestRedis;
  let proxy: RedisProxy;
  let upstream: ScriptableUpstream;
  let gw: TestGateway;
  beforeAll(async () => {
    redis = await startRedis();
    proxy = await startRedisProxy(redis.port);
    upstream = await startScriptableUpstream();
    gw = await startKeyedGateway(upstream.url, { REDIS_URL: proxy.url, REDIS_TIMEOUT_MS: '300', UPSTREAM_QUEUE_TIMEOUT_MS: '100' });
    // The scripts are loaded: the dropped reply is the claim's own, not a NOSCRIPT.
    expect((await keyedAdd(gw, newKey())).body.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');
  });
  afterAll(async () => {
    await gw?.close();
    await proxy?.close();
    await upstream?.close();
    await redis?.stop();
  });

  /** Sends the award with `key` until it is not refused for the store (bounded); every answer is kept. */
  async function retried(key: string) {
    const answers = [];
    for (let tries = 0; tries < 100; tries++) {
      const answer = await keyedAdd(gw, key);
      answers.push(answer);
      if (codedError(answer)?.code !== 'IDEMPOTENCY_STORE_UNAVAILABLE') return { answer, answers };
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('still refused');
  }

  async function firstWithLostReply(key: string, refuseMs: number) {
    upstream.reset();
    const dropped = proxy.dropReplyTo(CLAIM_MARKER, refuseMs);
    const first = await keyedAdd(gw, key);
    await dropped;
    expect(codedError(first)).toEqual({ code: 'IDEMPOTENCY_STORE_UNAVAILABLE', outcomeUnknown: false });
    expect(first.body.errors[0].message).toMatch(/not sent/);
    expect(upstream.requests).toHaveLength(0);
  }

  test('the key read back is this claim: freed at once, and the retry with the same key awards it once', async () => {
    const key = newKey();
    await firstWithLostReply(key, 0);
    const { answer } = await retried(key);
    expect(answer.body.data.addChallengeHistory).toMatchObject({ __typename: 'AddChallengeHistorySuccess', replayed: false });
    expect(upstream.requests).toHaveLength(1);
  });

  test('freeing fails too (Redis unreachable for longer than REDIS_TIMEOUT_MS): after the mark expired, the retry awards once, never OUTCOME_UNKNOWN', async () => {
    const key = newKey();
    await firstWithLostReply(key, 1_500);
    await new Promise((resolve) => setTimeout(resolve, MARK_MS + 500));
    const { answer, answers } = await retried(key);
    expect(answers.map(codedError).filter((error) => error?.code === 'OUTCOME_UNKNOWN')).toEqual([]);
    expect(answer.body.data.addChallengeHistory).toMatchObject({ __typename: 'AddChallengeHistorySuccess', replayed: false });
    expect(upstream.requests).toHaveLength(1);
  });
});
