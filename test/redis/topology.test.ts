// The Redis client of each topology (src/redis/topology.ts), against real processes:
// eachMaster reaches exactly the masters the gateway writes to, and a Sentinel client that ioredis
// ended on its own (as its failover detector does when +switch-master interrupts a reconnect) is
// started again, while one closed on purpose stays closed; a wrong REDIS_PASSWORD is never logged.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/app/config.js';
import { createLogger } from '../../src/telemetry/logging.js';
import { connectRedis, eachMaster } from '../../src/redis/client.js';
import type { RedisConnection } from '../../src/redis/client.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { redisCommand, startRedisCluster, startRedisSentinel } from '../support/redis-topology.js';
import type { TestRedisCluster, TestRedisSentinel } from '../support/redis-topology.js';
import { startScriptableUpstream } from '../support/scriptable-upstream.js';
import { codedError, keyedAdd, newKey, redisAvailable, startKeyedGateway } from '../idempotency/keyed.js';

const logger = createLogger({ level: 'error', write: () => {} });
const connect = (env: Record<string, string>) => connectRedis(loadConfig(env).idempotency.redis!, 300, logger);
const portOf = async (master: Parameters<Parameters<typeof eachMaster>[1]>[0]) => Number(/tcp_port:(\d+)/.exec(await master.info('server'))![1]);

describe.skipIf(!redisAvailable)('Redis topologies', () => {
  let single: TestRedis;
  let cluster: TestRedisCluster;
  let sentinel: TestRedisSentinel;
  const connections: RedisConnection[] = [];
  beforeAll(async () => {
    [single, cluster, sentinel] = await Promise.all([startRedis(), startRedisCluster(), startRedisSentinel({ replicas: 1 })]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(connections.map((c) => c.close()));
    await Promise.all([single?.stop(), cluster?.stop(), sentinel?.stop()]);
  });

  test('eachMaster runs on the one server, the Sentinel group\'s current master, and every Cluster master', async () => {
    const [one, group, masters] = [connect({ REDIS_URL: single.url }), connect(sentinel.env()), connect(cluster.env())];
    connections.push(one, group, masters);
    await Promise.all([one.firstConnection, group.firstConnection, masters.firstConnection]);
    expect(await eachMaster(one, portOf)).toEqual([single.port]);
    expect(await eachMaster(group, portOf)).toEqual([await sentinel.announcedMasterPort()]);
    expect((await eachMaster(masters, portOf)).sort()).toEqual(cluster.masters.map((m) => m.port).sort());
    for (const role of await eachMaster(masters, async (m) => /role:(\w+)/.exec(await m.info('replication'))![1])) expect(role).toBe('master');
  });

  test('a Sentinel client ended by ioredis itself is started again; closed on purpose, it stays closed', async () => {
    const connection = connect(sentinel.env());
    connections.push(connection);
    await connection.firstConnection;
    const ended = new Promise((resolve) => connection.redis.once('end', resolve));
    connection.redis.disconnect(); // ends it as the failover detector does, through the connector, mid-reconnect
    await ended;
    const deadline = Date.now() + 5_000;
    while (connection.redis.status !== 'ready' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(connection.redis.status).toBe('ready');
    expect(await connection.redis.set('revived', '1')).toBe('OK');

    await connection.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(connection.redis.status).toBe('end');
  });

  test('a wrong REDIS_PASSWORD on a Cluster: keyed awards refused, the failure logged, the password in no log line and no answer', async () => {
    const password = 'pw-never-logged-7c1e';
    const upstream = await startScriptableUpstream();
    try {
      // Last in the file: the Cluster's masters now ask for another password.
      for (const master of cluster.masters) await redisCommand(master.port, 'CONFIG', 'SET', 'requirepass', 'the-right-one');
      {
        const gw = await startKeyedGateway(upstream.url, { ...cluster.env(), REDIS_PASSWORD: password, REDIS_TIMEOUT_MS: '300', LOG_LEVEL: 'debug' });
        try {
          const refused = await keyedAdd(gw, newKey());
          expect(codedError(refused)).toMatchObject({ code: 'IDEMPOTENCY_STORE_UNAVAILABLE' });
          expect(JSON.stringify(refused.body)).not.toContain(password);
          expect(gw.logs.join('\n')).toMatch(/redis unreachable|idempotency store unavailable/);
          expect(gw.logs.join('\n')).not.toContain(password);
        } finally {
          await gw.close();
        }
      }
      expect(upstream.requests).toHaveLength(0);
    } finally {
      await upstream.close();
    }
  });
});
