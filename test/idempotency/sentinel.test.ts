// Two gateways on a Sentinel group (REDIS_SENTINELS, REDIS_SENTINEL_NAME: a master, 2 replicas,
// 3 sentinels, down-after-milliseconds 1000). A master that answers READONLY is "unavailable",
// never a claim; a master killed with SIGKILL costs refusals (IDEMPOTENCY_STORE_UNAVAILABLE,
// nothing sent) until the promotion, then every instance serves keyed awards again within 10 s of
// the new master's announcement, with no restart; /ready stays 200 and a metric says how long.
// The group and the gateways start once for the file.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestGateway } from '../support/gateway.js';
import { redisCommand, startRedisSentinel } from '../support/redis-topology.js';
import type { TestRedisSentinel } from '../support/redis-topology.js';
import { startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream } from '../support/scriptable-upstream.js';
import { codedError, keyedAdd, newKey, redisAvailable, startKeyedGateway } from './keyed.js';

const UNAVAILABLE = { code: 'IDEMPOTENCY_STORE_UNAVAILABLE', outcomeUnknown: false };
const posts = (upstream: ScriptableUpstream) => upstream.requests.filter((r) => r.method === 'POST').length;
const served = (res: Awaited<ReturnType<typeof keyedAdd>>) => res.body.data?.addChallengeHistory?.__typename === 'AddChallengeHistorySuccess';
/** A metric's value, summed over its labels. */
const metric = async (gw: TestGateway, name: string) =>
  [...(await fetch(new URL('/metrics', gw.url)).then((r) => r.text())).matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+-]+)$`, 'gm'))].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );

describe.skipIf(!redisAvailable)('two gateways on a Sentinel group', () => {
  let sentinel: TestRedisSentinel;
  let upstream: ScriptableUpstream;
  let gws: TestGateway[];
  beforeAll(async () => {
    [sentinel, upstream] = await Promise.all([startRedisSentinel({ replicas: 2, sentinels: 3 }), startScriptableUpstream()]);
    const env = { ...sentinel.env(), REDIS_KEY_PREFIX: `test-${randomUUID()}:`, REDIS_TIMEOUT_MS: '300' };
    gws = await Promise.all([startKeyedGateway(upstream.url, env), startKeyedGateway(upstream.url, env)]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all((gws ?? []).map((gw) => gw.close()));
    await upstream?.close();
    await sentinel?.stop();
  });

  test('the master killed: refused until the promotion, then served by every instance within 10 s of it, /ready 200 throughout, the downtime measured', async () => {
    for (const gw of gws) expect(served(await keyedAdd(gw, newKey()))).toBe(true);
    const refusalsBefore = await Promise.all(gws.map((gw) => metric(gw, 'gateway_idempotency_store_unavailable_total')));
    upstream.reset();
    const old = await sentinel.killMaster();
    // A loaded machine can slow the sentinels' election (TILT mode): wait for it as long as it takes, the 10 s count from it.
    let announced: { announcedAt: number } | null = null;
    let promotionFailed: Error | null = null;
    const promotion = sentinel.waitForPromotion(old, 60_000).then(
      (p) => (announced = p),
      (error: Error) => (promotionFailed = error),
    );

    const refused = await keyedAdd(gws[0]!, newKey());
    expect(codedError(refused)).toEqual(UNAVAILABLE);
    expect(posts(upstream)).toBe(0);
    // Unkeyed work goes on, and the gateway stays ready.
    expect(served(await keyedAdd(gws[1]!, null))).toBe(true);

    // Each instance retries its own key, as a client would, until it is served.
    const notReady: number[] = [];
    const firstServed = await Promise.all(
      gws.map(async (gw) => {
        const key = newKey();
        while (!promotionFailed && (announced === null || Date.now() < announced.announcedAt + 15_000)) {
          const answer = await keyedAdd(gw, key);
          if (served(answer)) return Date.now();
          expect(codedError(answer)).toEqual(UNAVAILABLE);
          const ready = await fetch(new URL('/ready', gw.url));
          if (ready.status !== 200) notReady.push(ready.status);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const logs = [...new Set(gw.logs.filter((l) => /redis|idempotency/.test(l)).map((l) => l.replace(/"time":"[^"]*",?/, '')))];
        throw new Error(`keyed awards not served again (${promotionFailed ?? 'promoted'}):\n${logs.slice(-8).join('\n')}`);
      }),
    );
    await promotion;
    const { announcedAt } = announced!;
    const delays = firstServed.map((at) => at - announcedAt);
    console.log(`promotion announced; first keyed award served ${delays.map((ms) => `${ms} ms`).join(' and ')} after it`);
    for (const delay of delays) expect(delay).toBeLessThanOrEqual(10_000);
    expect(notReady).toEqual([]);
    // One unkeyed POST and one per instance's key: nothing refused was sent, nothing sent twice.
    expect(posts(upstream)).toBe(3);
    for (const [i, gw] of gws.entries()) {
      expect(await metric(gw, 'gateway_idempotency_store_unavailable_total')).toBeGreaterThan(refusalsBefore[i]!);
      expect(await metric(gw, 'gateway_redis_unavailable_seconds_total')).toBeGreaterThan(0.5);
    }

    // The old master back, as a replica: nothing changes for the gateways.
    await sentinel.restartAsReplica(old);
    for (const gw of gws) expect(served(await keyedAdd(gw, newKey()))).toBe(true);
  }, 90_000);

  test('a master that answers READONLY: the claim is refused, nothing sent, and the key is still free once it is master again', async () => {
    for (const gw of gws) expect(served(await keyedAdd(gw, newKey()))).toBe(true);
    const master = await sentinel.announcedMasterPort();
    const replica = sentinel.servers.find((s) => s.port !== master)!;
    upstream.reset();
    const key = newKey();
    // The master turned replica under the gateway's open connection (as a demotion does): writes answer
    // READONLY. (Last in the file: the sentinels see a master that briefly was a replica.)
    await redisCommand(master, 'REPLICAOF', '127.0.0.1', String(replica.port));
    try {
      const refused = await keyedAdd(gws[0]!, key);
      expect(codedError(refused)).toEqual(UNAVAILABLE);
      expect(posts(upstream)).toBe(0);
    } finally {
      await redisCommand(master, 'REPLICAOF', 'NO', 'ONE');
    }
    let answer = await keyedAdd(gws[0]!, key);
    for (let tries = 0; !served(answer) && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      answer = await keyedAdd(gws[0]!, key);
    }
    expect(answer.body.data.addChallengeHistory).toMatchObject({ __typename: 'AddChallengeHistorySuccess', replayed: false });
    expect(posts(upstream)).toBe(1);
  }, 30_000);
});
