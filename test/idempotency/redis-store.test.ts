// What the Redis store writes, read back with a Redis client of the test's own: the mark and
// the record exist before the POST leaves, and the record never holds the token.

import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, test } from 'vitest';
import { TEST_TOKEN } from '../support/gateway.js';
import { eventually, gate } from '../support/operations.js';
import { challengeHistoryBody } from '../support/scriptable-upstream.js';
import { keyedAdd, newKey, redisAvailable, useRedisGateway } from './keyed.js';

describe.skipIf(!redisAvailable)('Redis store', () => {
  const fx = useRedisGateway();

  test('the mark and the record exist before the POST leaves; the record holds a hash of the token, never the token', async () => {
    const client = new Redis(fx.redis.url);
    try {
      const answer = gate();
      const seenAtUpstream: string[][] = [];
      fx.upstream.respondWith(async () => {
        seenAtUpstream.push(await client.keys(`${fx.gw.config.idempotency.redisKeyPrefix}*${key}`));
        await answer.opened;
        return { status: 201, body: challengeHistoryBody() };
      });
      const key = newKey();
      const pending = keyedAdd(fx.gw, key);
      await eventually(() => seenAtUpstream.length === 1);
      // Both under one hash tag, the key's hash (so a Cluster keeps them in one slot).
      const prefix = fx.gw.config.idempotency.redisKeyPrefix;
      const tag = `{${createHash('sha256').update(key).digest('hex').slice(0, 16)}}`;
      expect(seenAtUpstream[0]!.sort()).toEqual([`${prefix}idempotency-mark:${tag}${key}`, `${prefix}idempotency:${tag}${key}`]);
      answer.open();
      await pending;
      const stored = (await client.get(`${prefix}idempotency:${tag}${key}`))!;
      expect(stored).not.toContain(TEST_TOKEN);
      expect(JSON.parse(stored).tokenHash).toBe(createHash('sha256').update(TEST_TOKEN).digest('hex'));
      expect(await client.exists(`${prefix}idempotency-mark:${tag}${key}`)).toBe(0);
      expect(await client.pttl(`${prefix}idempotency:${tag}${key}`)).toBeGreaterThan(86_000_000);
    } finally {
      client.disconnect();
    }
  });
});
