// REDIS_MIN_REPLICAS: a claim is acknowledged by that many replicas (WAIT) before the POST
// leaves; if not within REDIS_TIMEOUT_MS, the claim is released and the award refused
// (IDEMPOTENCY_STORE_UNAVAILABLE, reason replication), nothing sent. A real replica here.

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestGateway } from '../support/gateway.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream } from '../support/scriptable-upstream.js';
import { codedError, keyedAdd, keyedAddServed, newKey, redisAvailable, startKeyedGateway } from './keyed.js';

describe.skipIf(!redisAvailable)('REDIS_MIN_REPLICAS', () => {
  let primary: TestRedis;
  let replica: TestRedis;
  let admin: Redis;
  let upstream: ScriptableUpstream;
  let gw: TestGateway;

  async function replicaOnline(): Promise<void> {
    for (let tries = 0; tries < 200; tries++) {
      if (/^slave0:.*state=online/m.test(await admin.info('replication'))) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('the replica did not come online');
  }

  beforeAll(async () => {
    primary = await startRedis();
    replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
    admin = new Redis(primary.url);
    await replicaOnline();
    upstream = await startScriptableUpstream();
    gw = await startKeyedGateway(upstream.url, { REDIS_URL: primary.url, REDIS_MIN_REPLICAS: '1', REDIS_TIMEOUT_MS: '1000' });
  });
  afterAll(async () => {
    admin?.disconnect();
    await gw?.close();
    await upstream?.close();
    await replica?.stop();
    await primary?.stop();
  });

  test('a replica acknowledges the claim: the award is sent once and its record is on the replica', async () => {
    upstream.reset();
    const key = newKey();
    // A WAIT slower than REDIS_TIMEOUT_MS on a loaded machine refuses the claim unsent: the client retries.
    expect((await keyedAddServed(gw, key)).body.data.addChallengeHistory).toMatchObject({ __typename: 'AddChallengeHistorySuccess', replayed: false });
    expect((await keyedAdd(gw, key)).body.data.addChallengeHistory.replayed).toBe(true);
    expect(upstream.requests).toHaveLength(1);
    const onReplica = new Redis(replica.url);
    try {
      expect(await onReplica.keys('*idempotency:{*}')).not.toEqual([]);
    } finally {
      onReplica.disconnect();
    }
  });

  test('the replica stopped: refused (reason replication), 0 POSTs, the key free again; back: the same key awards once', async () => {
    const replicationRefusals = async () =>
      Number(/gateway_idempotency_store_unavailable_total\{reason="replication"\} (\d+)/.exec(await fetch(new URL('/metrics', gw.url)).then((r) => r.text()))![1]);
    const before = await replicationRefusals();
    await replica.stop();
    upstream.reset();
    const key = newKey();
    const refused = await keyedAdd(gw, key);
    expect(codedError(refused)).toEqual({ code: 'IDEMPOTENCY_STORE_UNAVAILABLE', outcomeUnknown: false });
    expect(refused.body.errors[0].message).toMatch(/replicas.*not sent/);
    expect(upstream.requests).toHaveLength(0);
    expect(await replicationRefusals()).toBe(before + 1);

    await replica.start();
    await replicaOnline();
    const retried = await keyedAddServed(gw, key);
    expect(retried.body.data.addChallengeHistory).toMatchObject({ __typename: 'AddChallengeHistorySuccess', replayed: false });
    expect(upstream.requests).toHaveLength(1);
  });
});
