// Automatic persisted queries on a real redis-server, against what an anonymous client can send
// (issue 17, finding 2): a flood of 60 KB registrations without a token. APQ_MAX_BYTES holds for
// the shared store, so Redis neither fills nor evicts an idempotency record, whatever its
// maxmemory-policy.

import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, test } from 'vitest';
import { AWARD, codedError, keyedAdd, newKey, redisAvailable, startKeyedGateway } from '../idempotency/keyed.js';
import { connectRedis } from '../../src/redis/client.js';
import { createLogger } from '../../src/telemetry/logging.js';
import { RedisPersistedQueryStore } from '../../src/plugins/persisted-operations.js';
import type { TestGateway } from '../support/gateway.js';
import { startRedis } from '../support/redis.js';
import { startScriptableUpstream } from '../support/scriptable-upstream.js';

const APQ_MAX_BYTES = 2 * 1024 * 1024;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** `count` registrations of distinct 60 KB documents, no token, 8 at a time; answers the last document's hash. */
async function apqFlood(gw: TestGateway, count: number): Promise<string> {
  let last = '';
  for (let i = 0; i < count; i += 8) {
    await Promise.all(
      Array.from({ length: Math.min(8, count - i) }, async () => {
        const query = `# ${randomBytes(30_000).toString('hex')}\n{ __typename }`;
        last = sha256(query);
        const res = await gw.graphql({ query, extensions: { persistedQuery: { version: 1, sha256Hash: last } } }, { token: null });
        expect(res.body).toEqual({ data: { __typename: 'Query' } });
      }),
    );
  }
  return last;
}

const infoField = async (client: Redis, section: string, field: string) =>
  Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(await client.info(section))![1]);

describe.skipIf(!redisAvailable)('APQ on Redis cannot touch idempotency', () => {
  test.each([
    ['8mb', 'volatile-ttl'],
    ['8mb', 'volatile-lru'],
    ['0', 'noeviction'],
  ])('maxmemory %s, %s: 200 anonymous 60 KB registrations (12 MB) evict no record and grow Redis by at most APQ_MAX_BYTES', async (maxmemory, policy) => {
    const redis = await startRedis();
    const client = new Redis(redis.url);
    const upstream = await startScriptableUpstream();
    const gw = await startKeyedGateway(upstream.url, { REDIS_URL: redis.url, APQ_MAX_BYTES: String(APQ_MAX_BYTES), REDIS_TIMEOUT_MS: '1000' });
    try {
      await client.config('SET', 'maxmemory', maxmemory);
      await client.config('SET', 'maxmemory-policy', policy);
      const keys = Array.from({ length: 30 }, newKey);
      for (const key of keys) expect((await keyedAdd(gw, key)).body.data.addChallengeHistory.replayed).toBe(false);
      const before = await infoField(client, 'memory', 'used_memory');

      const last = await apqFlood(gw, 200);

      const grown = (await infoField(client, 'memory', 'used_memory')) - before;
      console.log(`${policy}: Redis grew ${(grown / 2 ** 20).toFixed(2)} MiB for 12 MB of registrations; evicted keys: ${await infoField(client, 'stats', 'evicted_keys')}`);
      expect(await infoField(client, 'stats', 'evicted_keys')).toBe(0);
      expect(grown).toBeLessThan(1.5 * APQ_MAX_BYTES);
      // Every record intact: each retry replays, with no new POST; a new keyed award is served.
      for (const key of keys) expect((await keyedAdd(gw, key)).body.data.addChallengeHistory.replayed).toBe(true);
      expect(upstream.requests.filter((r) => r.method === 'POST')).toHaveLength(30);
      const fresh = await keyedAdd(gw, newKey(), { input: { ...AWARD, points: 1 } });
      expect(codedError(fresh)).toBeNull();
      expect(fresh.body.data.addChallengeHistory.replayed).toBe(false);
      // APQ still works: the latest document answers by its hash alone.
      expect((await gw.graphql({ extensions: { persistedQuery: { version: 1, sha256Hash: last } } }, { token: null })).body).toEqual({
        data: { __typename: 'Query' },
      });
    } finally {
      client.disconnect();
      await gw.close();
      await upstream.close();
      await redis.stop();
    }
  });

  test('two instances share one budget: their documents together stay within APQ_MAX_BYTES', async () => {
    const redis = await startRedis();
    const client = new Redis(redis.url);
    const upstream = await startScriptableUpstream();
    const env = { REDIS_URL: redis.url, APQ_MAX_BYTES: String(APQ_MAX_BYTES), REDIS_TIMEOUT_MS: '1000' };
    const instances = [await startKeyedGateway(upstream.url, env), await startKeyedGateway(upstream.url, env)];
    try {
      await Promise.all(instances.map((gw) => apqFlood(gw, 120)));
      const documents = await client.keys('*apq*doc:*');
      const held = (await Promise.all(documents.map((key) => client.strlen(key)))).reduce((sum, n) => sum + n, 0);
      console.log(`two instances: ${documents.length} documents, ${(held / 2 ** 20).toFixed(2)} MiB held`);
      expect(documents.length).toBeGreaterThan(0);
      expect(held).toBeLessThanOrEqual(APQ_MAX_BYTES);
    } finally {
      client.disconnect();
      for (const gw of instances) await gw.close();
      await upstream.close();
      await redis.stop();
    }
  });

  test('tiny documents are charged their keys too: 10,000 of them grow Redis by at most about APQ_MAX_BYTES', async () => {
    const redis = await startRedis();
    const client = new Redis(redis.url);
    const connection = connectRedis(new URL(redis.url), 1000, createLogger({ level: 'error', write: () => {} }));
    try {
      const budget = 1024 * 1024;
      const store = new RedisPersistedQueryStore(connection, 'tiny:', budget);
      const before = await infoField(client, 'memory', 'used_memory');
      for (let i = 0; i < 10_000; i += 100) {
        await Promise.all(Array.from({ length: 100 }, (_, j) => store.set(sha256(String(i + j)), `{a${i + j}}`)));
      }
      const grown = (await infoField(client, 'memory', 'used_memory')) - before;
      console.log(`10,000 tiny documents: ${(await client.keys('tiny:*doc:*')).length} kept, Redis grew ${(grown / 1024).toFixed(0)} KiB`);
      expect(grown).toBeLessThan(1.5 * budget);
      expect(await store.get(sha256('9999'))).toBe('{a9999}');
    } finally {
      await connection.close();
      client.disconnect();
      await redis.stop();
    }
  });
});
