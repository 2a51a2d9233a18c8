// The Redis client of each topology (src/idempotency/redis-topology.ts), against real processes:
// eachMaster reaches exactly the masters the gateway writes to, and a Sentinel client that ioredis
// ended on its own (as its failover detector does when +switch-master interrupts a reconnect) is
// started again, while one closed on purpose stays closed.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { connectRedis, eachMaster } from '../../src/idempotency/redis-client.js';
import type { RedisConnection } from '../../src/idempotency/redis-client.js';
import { startRedis } from '../support/redis.js';
import type { TestRedis } from '../support/redis.js';
import { startRedisCluster, startRedisSentinel } from '../support/redis-topology.js';
import type { TestRedisCluster, TestRedisSentinel } from '../support/redis-topology.js';
import { redisAvailable } from './keyed.js';

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
});
