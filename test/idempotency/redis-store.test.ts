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
        seenAtUpstream.push(await client.keys(`${fx.gw.config.idempotency.redisKeyPrefix}idempotency:*`));
        await answer.opened;
        return { status: 201, body: challengeHistoryBody() };
      });
      const key = newKey();
      const pending = keyedAdd(fx.gw, key);
      await eventually(() => seenAtUpstream.length === 1);
      const prefix = fx.gw.config.idempotency.redisKeyPrefix;
      // Both under one hash tag, the key's digest (a Redis Cluster keeps them on one node).
      const record = `${prefix}idempotency:{${createHash('sha256').update(key).digest('base64url')}}`;
      expect(seenAtUpstream[0]!.sort()).toEqual([record, `${record}:mark`]);
      answer.open();
      await pending;
      const stored = (await client.get(record))!;
      expect(stored).not.toContain(TEST_TOKEN);
      expect(JSON.parse(stored).tokenHash).toBe(createHash('sha256').update(TEST_TOKEN).digest('hex'));
      expect(await client.exists(`${record}:mark`)).toBe(0);
      expect(await client.pttl(record)).toBeGreaterThan(86_000_000);
    } finally {
      client.disconnect();
    }
  });
});
