// Two gateway processes on a 3-master Redis Cluster (REDIS_CLUSTER_NODES), as a platform team runs
// them: a key sent to both at once is one POST, and a hot key's slot moved to another master
// mid-run (SETSLOT IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE) costs a few refusals at most,
// never a second POST. The Cluster and the gateways start once for the file.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { startGatewayProcess } from '../support/gateway-process.js';
import type { GatewayProcess } from '../support/gateway-process.js';
import { keySlot, redisCommand, startRedisCluster } from '../support/redis-topology.js';
import type { TestRedisCluster } from '../support/redis-topology.js';
import { challengeHistoryBody, startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream } from '../support/scriptable-upstream.js';
import { codedError, expectOnePostForOneKey, keyedAdd, newKey, redisAvailable } from './keyed.js';

const ROOT = new URL('../../', import.meta.url);
const metric = async (gw: GatewayProcess, name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(await fetch(new URL('/metrics', gw.url)).then((r) => r.text()))?.[1]);
const waitCalls = async (port: number) => Number(/^cmdstat_wait:calls=(\d+)/m.exec(await redisCommand(port, 'INFO', 'commandstats'))?.[1] ?? 0);

/** The slot of a key's records: they share the hash tag of the key's digest (src/idempotency/redis-store.ts). */
const slotOfKey = (key: string) => keySlot(`{${createHash('sha256').update(key).digest('base64url')}}`);

/** `count` fresh idempotency keys whose records live in `slot`. */
/** `count` keys in `slot`, named after the test that uses them (a slot may come back in another test). */
function keysInSlot(slot: number, count: number, label: string): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) {
    const key = `${label}-${slot}-${i}`;
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
    // A replica per master: every claim is acknowledged by one (REDIS_MIN_REPLICAS=1) before its POST.
    [cluster, upstream] = await Promise.all([startRedisCluster({ replicasPerMaster: 1 }), startScriptableUpstream()]);
    const env = {
      UPSTREAM_URL: upstream.url.href,
      ...cluster.env(),
      UPSTREAM_TIMEOUT_MS: '1000',
      UPSTREAM_QUEUE_TIMEOUT_MS: '500',
      REDIS_TIMEOUT_MS: '500',
      REDIS_MIN_REPLICAS: '1',
    };
    [a, b] = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await upstream?.close();
    await cluster?.stop();
  });

  test('the same key sent to both at once: exactly one POST, equal answers; the records sit in the key\'s slot', async () => {
    const key = await expectOnePostForOneKey(upstream, a, b);
    const owner = await cluster.ownerOf(slotOfKey(key));
    expect(Number(await redisCommand(owner.port, 'CLUSTER', 'COUNTKEYSINSLOT', String(slotOfKey(key))))).toBeGreaterThan(0);
  });

  test('a hot key\'s slot migrated mid-run: no second POST for any key, at most a few refusals', async () => {
    upstream.reset();
    let nextId = 1;
    upstream.respondWith(() => ({ status: 201, body: challengeHistoryBody({ id: nextId++ }), delayMs: 5 }));
    let refusals = 0;
    const refusedWith = new Set<string>();
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
        refusedWith.add(JSON.stringify(res.body.errors?.[0]?.message ?? ''));
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
    const moving = keysInSlot(slot, 20, 'moving');
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

    console.log(`slot ${slot} moved ${from.port} -> ${to.port}: ${refusals} refusals (${[...refusedWith].join(' | ')}); unexpected answers: ${unexpected.length ? unexpected.slice(0, 3).join(' | ') : 'none'}`);
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

  test('REDIS_MIN_REPLICAS=1: WAIT goes with the claim to the master that took it, and to no other', async () => {
    upstream.reset();
    upstream.respondWith(() => ({ status: 201, body: challengeHistoryBody({ id: 7 }) }));
    const target = cluster.masters[1]!;
    const slot = await firstSlotOf(target.port);
    const before = await Promise.all(cluster.masters.map((m) => waitCalls(m.port)));
    // A WAIT that outlasts REDIS_TIMEOUT_MS on a loaded machine refuses the claim (nothing sent): the client retries.
    let refused = 0;
    for (const key of keysInSlot(slot, 5, 'wait')) {
      for (let attempt = 0; ; attempt++) {
        const res = await keyedAdd(a, key);
        if (res.body.data?.addChallengeHistory?.__typename === 'AddChallengeHistorySuccess') break;
        expect(codedError(res), JSON.stringify(res.body)).toMatchObject({ code: 'IDEMPOTENCY_STORE_UNAVAILABLE', outcomeUnknown: false });
        expect(attempt).toBeLessThan(10);
        refused += 1;
      }
    }
    const after = await Promise.all(cluster.masters.map((m) => waitCalls(m.port)));
    const added = after.map((n, i) => n - before[i]!);
    console.log(`WAIT calls per master after 5 claims on ${target.port} (${refused} refused and retried): ${added.join(', ')}`);
    expect(added).toEqual(cluster.masters.map((m) => (m === target ? 5 + refused : 0)));
    expect(upstream.requests).toHaveLength(5);
  });

  test('one master loses its data (FLUSHALL): the next claim on it is refused, nothing sent, and both gateways count the loss', async () => {
    upstream.reset();
    upstream.respondWith(() => ({ status: 201, body: challengeHistoryBody({ id: 8 }) }));
    // Each gateway knows every master's epoch key (its periodic check, every 2 s).
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const [resetsA, resetsB] = await Promise.all([metric(a, 'gateway_idempotency_store_resets_total'), metric(b, 'gateway_idempotency_store_resets_total')]);
    const victim = cluster.masters[2]!;
    await redisCommand(victim.port, 'FLUSHALL');
    const key = keysInSlot(await firstSlotOf(victim.port), 1, 'flushed')[0]!;
    const res = await keyedAdd(a, key);
    expect(codedError(res)).toMatchObject({ code: 'IDEMPOTENCY_STORE_UNAVAILABLE', outcomeUnknown: false });
    expect(upstream.requests).toHaveLength(0);
    const deadline = Date.now() + 5_000;
    while ((await metric(b, 'gateway_idempotency_store_resets_total')) === resetsB && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await metric(b, 'gateway_idempotency_store_resets_total')).toBe(resetsB + 1);
    expect(await metric(a, 'gateway_idempotency_store_resets_total')).toBe(resetsA + 1);
    // Once no award claimed before the loss can be in flight, the key is served (refused, nothing sent, until then).
    let served = false;
    for (const until = Date.now() + 10_000; !served && Date.now() < until; await new Promise((r) => setTimeout(r, 250))) {
      served = (await keyedAdd(a, key)).body.data?.addChallengeHistory?.__typename === 'AddChallengeHistorySuccess';
    }
    expect(served).toBe(true);
    expect(upstream.requests).toHaveLength(1);
  }, 30_000);

  test('production: a master that may evict records (of three) stops the start, naming it', async () => {
    const unfit = cluster.masters[1]!;
    await redisCommand(unfit.port, 'CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', UPSTREAM_URL: upstream.url.href, ...cluster.env() },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const [code] = await once(child, 'exit');
      expect(code).toBe(1);
      expect(stderr).toContain(`${unfit.address}: maxmemory-policy is allkeys-lru, so Redis may evict idempotency records`);
      for (const fit of cluster.masters.filter((m) => m !== unfit)) expect(stderr).not.toContain(fit.address);
    } finally {
      await redisCommand(unfit.port, 'CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    }
  }, 60_000);
});

/** The first slot of a master's range. */
async function firstSlotOf(port: number): Promise<number> {
  const id = await redisCommand(port, 'CLUSTER', 'MYID');
  const line = (await redisCommand(port, 'CLUSTER', 'NODES')).split('\n').find((l) => l.startsWith(id))!;
  return Number(line.split(' ')[8]!.split('-')[0]);
}
