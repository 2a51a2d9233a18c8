// Two gateway processes on a 3-master Redis Cluster (REDIS_CLUSTER_NODES), as a platform team runs
// them: a key sent to both at once is one POST, and a hot key's slot moved to another master
// mid-run (SETSLOT IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE) costs a few refusals at most,
// never a second POST. The Cluster and the gateways start once for the file.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hashToken } from '../../src/idempotency/keys.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import type { GatewayProcess } from '../support/gateway-process.js';
import { eventually, gate } from '../support/operations.js';
import { keySlot, redisCommand, startRedisCluster } from '../support/redis-topology.js';
import type { TestRedisCluster } from '../support/redis-topology.js';
import { challengeHistoryBody, startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream } from '../support/scriptable-upstream.js';
import { codedError, keyedAdd, newKey, redisAvailable } from './keyed.js';

/** The slot of a key's records: they share the hash tag of the key's hash (src/idempotency/redis-store.ts). */
const slotOfKey = (key: string) => keySlot(`{${hashToken(key).slice(0, 16)}}`);

/** `count` fresh idempotency keys whose records live in `slot`. */
function keysInSlot(slot: number, count: number): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) {
    const key = `slot-${slot}-${i}`;
    if (slotOfKey(key) === slot) keys.push(key);
  }
  return keys;
}

describe.skipIf(!redisAvailable)('two gateway processes on a Redis Cluster', () => {
  let cluster: TestRedisCluster;
  let upstream: ScriptableUpstream;
  let a: GatewayProcess;
  let b: GatewayProcess;
  beforeAll(async () => {
    [cluster, upstream] = await Promise.all([startRedisCluster(), startScriptableUpstream()]);
    const env = { UPSTREAM_URL: upstream.url.href, ...cluster.env(), UPSTREAM_TIMEOUT_MS: '1000', UPSTREAM_QUEUE_TIMEOUT_MS: '500', REDIS_TIMEOUT_MS: '500' };
    [a, b] = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await upstream?.close();
    await cluster?.stop();
  });

  test('the same key sent to both at once: exactly one POST, equal answers; the records sit in the key\'s slot', async () => {
    upstream.reset();
    const answer = gate();
    upstream.respondWith(async () => {
      await answer.opened;
      return { status: 201, body: challengeHistoryBody({ id: 4242 }) };
    });
    const key = newKey();
    const both = [keyedAdd(a, key), keyedAdd(b, key), keyedAdd(a, key), keyedAdd(b, key)];
    await eventually(() => upstream.requests.length === 1);
    answer.open();
    const results = (await Promise.all(both)).map((r) => r.body.data.addChallengeHistory);
    expect(upstream.requests).toHaveLength(1);
    expect(results.map((r) => r.challengeHistory.id)).toEqual(['4242', '4242', '4242', '4242']);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    const owner = await cluster.ownerOf(slotOfKey(key));
    expect(Number(await redisCommand(owner.port, 'CLUSTER', 'COUNTKEYSINSLOT', String(slotOfKey(key))))).toBeGreaterThan(0);
  });

  test('a hot key\'s slot migrated mid-run: no second POST for any key, at most a few refusals', async () => {
    upstream.reset();
    let nextId = 1;
    upstream.respondWith(() => ({ status: 201, body: challengeHistoryBody({ id: nextId++ }), delayMs: 5 }));
    let refusals = 0;
    const unexpected: string[] = [];
    /** One award as a retrying client sends it: the same key again after a refusal, to either instance. */
    async function award(key: string, instance: GatewayProcess): Promise<string | null> {
      for (let attempt = 0; attempt < 40; attempt++) {
        const res = await (attempt % 2 === 0 ? instance : instance === a ? b : a).graphql({
          query: 'mutation($i: AddChallengeHistoryInput!) { addChallengeHistory(ambassadorId: "7", input: $i) { ... on AddChallengeHistorySuccess { challengeHistory { id } } } }',
          variables: { i: { points: 1, score: 1, message: key, idempotencyKey: key } },
        });
        const id = res.body.data?.addChallengeHistory?.challengeHistory?.id as string | undefined;
        if (id) return id;
        const error = codedError(res);
        if (error?.code !== 'IDEMPOTENCY_STORE_UNAVAILABLE' || error.outcomeUnknown !== false) unexpected.push(JSON.stringify(res.body));
        refusals += 1;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return null;
    }
    const hot = newKey();
    const hotId = await award(hot, a);
    const slot = slotOfKey(hot);
    const from = await cluster.ownerOf(slot);
    const to = cluster.masters.find((m) => m !== from)!;

    // Background load through the migration: fresh keys on any slot, and the hot key repeated (replays).
    let running = true;
    const served = new Map<string, string>();
    const load = Array.from({ length: 6 }, async (_, worker) => {
      while (running) {
        const repeat = await award(hot, worker % 2 ? a : b);
        if (repeat !== hotId) unexpected.push(`hot key answered ${repeat}, first ${hotId}`);
        const key = newKey();
        const id = await award(key, worker % 2 ? b : a);
        if (id) served.set(key, id);
      }
    });
    // Claims of fresh keys in the moving slot, sent to both instances at once while the slot is half moved.
    const moving = keysInSlot(slot, 20);
    let burst: Promise<(string | null)[][]> = Promise.resolve([]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await cluster.migrateSlot(slot, to, async () => {
      burst = Promise.all(moving.map((key) => Promise.all([award(key, a), award(key, b)])));
      await new Promise((resolve) => setTimeout(resolve, 100));
    });
    const movingIds = await burst;
    await new Promise((resolve) => setTimeout(resolve, 300));
    running = false;
    await Promise.all(load);

    console.log(`slot ${slot} moved ${from.port} -> ${to.port}: ${refusals} refusals; unexpected answers: ${unexpected.length ? unexpected.slice(0, 3).join(' | ') : 'none'}`);
    expect(await cluster.ownerOf(slot)).toBe(to);
    // Every key served, once: both instances answered the same record, and the upstream got one POST per key.
    for (const [first, second] of movingIds) expect(first !== null && first === second).toBe(true);
    for (const key of moving) served.set(key, movingIds[moving.indexOf(key)]![0]!);
    const postsByKey = new Map<string, number>();
    for (const request of upstream.requests) {
      const message = (request.json as { message: string }).message;
      postsByKey.set(message, (postsByKey.get(message) ?? 0) + 1);
    }
    const doubles = [...postsByKey].filter(([, n]) => n > 1);
    console.log(`${served.size} keys served, ${upstream.requests.length} POSTs, ${doubles.length} keys posted twice`);
    expect(doubles).toEqual([]);
    expect(unexpected).toEqual([]);
    expect(upstream.requests.length).toBe(served.size + 1);
    // A claim meeting the half-moved slot is retried by the client (ASK, TRYAGAIN); one that outlasts REDIS_TIMEOUT_MS is refused.
    expect(refusals).toBeLessThanOrEqual(10);
  }, 60_000);
});
