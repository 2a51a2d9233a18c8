// A batch of keyed awards with a token the upstream refuses (issue 17, finding 6; issue 18, item 4):
// after the first 401 the remaining items claim nothing. Store commands counted by the real
// redis-server (INFO commandstats), POSTs by the upstream.

import { Redis } from 'ioredis';
import { describe, expect, test } from 'vitest';
import type { TestGateway } from '../support/gateway.js';
import { AWARD, redisAvailable, useRedisGateway } from './keyed.js';

const BATCH = /* GraphQL */ `
  mutation Batch($items: [AddChallengeHistoryItemInput!]!) {
    addChallengeHistories(items: $items) { __typename }
  }
`;

function sendBatch(gw: TestGateway, keyed: boolean) {
  const items = Array.from({ length: 500 }, (_, i) => ({
    ambassadorId: '7',
    input: { ...AWARD, ...(keyed ? { idempotencyKey: `refused-${i}-${Math.random()}` } : {}) },
  }));
  return gw.graphql({ query: BATCH, variables: { items } }, { token: 'bogus-token' });
}

/**
 * Store commands the gateway sent, from INFO commandstats: its scripts (EVAL, EVALSHA) and any
 * plain command outside a script (what its scripts run inside is counted by Redis too, so those
 * are left out when a script ran; the test's own INFO and CONFIG are not counted).
 */
async function commandsRun(client: Redis): Promise<number> {
  const stats = await client.info('commandstats');
  const calls = new Map([...stats.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)].map(([, name, count]) => [name!, Number(count)]));
  const scripts = [...calls].filter(([name]) => /^(eval|evalsha|eval_ro|evalsha_ro|fcall)$/.test(name)).reduce((sum, [, n]) => sum + n, 0);
  const others = [...calls].filter(([name]) => !/^(eval|evalsha|eval_ro|evalsha_ro|fcall|info|config.*)$/.test(name)).reduce((sum, [, n]) => sum + n, 0);
  return scripts > 0 ? scripts : others;
}

describe.skipIf(!redisAvailable)('a keyed batch whose token the upstream refuses', () => {
  const fx = useRedisGateway();

  test('500 keyed items: at most BATCH_CONCURRENCY POSTs and two store commands each; every item answers as an unkeyed one', async () => {
    const client = new Redis(fx.redis.url);
    try {
      fx.upstream.respondWith({ status: 401, delayMs: 50 });
      const unkeyed = await sendBatch(fx.gw, false);
      fx.upstream.reset();
      fx.upstream.respondWith({ status: 401, delayMs: 50 });
      await client.config('RESETSTAT');
      const keyed = await sendBatch(fx.gw, true);
      const commands = await commandsRun(client);
      const posts = fx.upstream.requests.filter((r) => r.method === 'POST').length;
      const concurrency = fx.gw.config.batchConcurrency;
      console.log(`bogus-token batch of 500 keyed items: ${posts} POSTs, ${commands} store commands`);
      expect(posts).toBeGreaterThanOrEqual(1);
      expect(posts).toBeLessThanOrEqual(concurrency);
      // A claim and its release per item sent (the caller gate asks Redis nothing with
      // CALLER_RATE_LIMIT off); nothing for the items after the 401. Two more for the gateway's own
      // epoch check (every 2 s, src/idempotency/store-check.ts), which may fall in the window.
      expect(commands).toBeLessThanOrEqual(2 * concurrency + 2);
      const codes = (res: typeof keyed) => res.body.errors.map((e: { extensions: { code: string; outcomeUnknown: boolean } }) => e.extensions);
      expect(codes(keyed)).toHaveLength(500);
      expect(codes(keyed)).toEqual(codes(unkeyed));
      expect(new Set(codes(keyed).map((c: { code: string }) => c.code))).toEqual(new Set(['UNAUTHENTICATED']));
    } finally {
      client.disconnect();
    }
  });
});
