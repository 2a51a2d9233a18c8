// The ioredis client for each topology the shared store may live in. One server: a plain client.
// Sentinel: ioredis asks the sentinels for the master, verifies its role on every connection, and
// follows a promotion (the failover detector hears +switch-master); a demoted master's READONLY
// makes it reconnect, and the command that met it fails (refused, never taken for a claim). Cluster:
// ioredis' own Cluster client, which follows MOVED and ASK and refreshes its slot map. Every
// topology keeps the same bounds: no offline queue, no command retried, each one timed out.

import { createRequire } from 'node:module';
import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import type { RedisTopology } from '../config.js';

export type RedisClient = Redis | Cluster;

// Loaded on the first connection only: a gateway without Redis never pays for ioredis at start-up
// (about 25 MiB of RSS, docs/performance.md). ioredis is CommonJS, so require is synchronous.
const loadIoredis = () => createRequire(import.meta.url)('ioredis') as { Redis: typeof Redis; Cluster: typeof Cluster };

/** Reconnect delays: quick at first, never slower than a second (a promotion is seen within a second of it). */
export const reconnectDelayMs = (attempt: number) => Math.min(50 * attempt, 1000);

/** A demoted master (or a replica reached by mistake) answers writes READONLY: reconnect, to the master the sentinels name now. */
const RECONNECT_WITHOUT_RESENDING = 1;
const reconnectOnReadOnly = (error: Error) => (error.message.includes('READONLY') ? RECONNECT_WITHOUT_RESENDING : false);

export function createRedisClient(topology: RedisTopology, timeoutMs: number): RedisClient {
  const { Redis: RedisClass, Cluster: ClusterClass } = loadIoredis();
  const bounded: RedisOptions = {
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(timeoutMs, 1000),
    // A command sent after a reconnect could land after its caller gave up: refuse it instead.
    maxRetriesPerRequest: 0,
    retryStrategy: reconnectDelayMs,
  };
  switch (topology.kind) {
    case 'single':
      return new RedisClass(topology.url.href, { ...bounded, enableOfflineQueue: false });
    case 'sentinel':
      return new RedisClass({
        ...bounded,
        enableOfflineQueue: false,
        sentinels: topology.sentinels,
        name: topology.name,
        role: 'master',
        ...(topology.password === null ? {} : { password: topology.password }),
        ...(topology.tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
        sentinelRetryStrategy: reconnectDelayMs,
        sentinelCommandTimeout: timeoutMs,
        failoverDetector: true,
        reconnectOnError: reconnectOnReadOnly,
      });
    case 'cluster': {
      const options: ClusterOptions = {
        enableOfflineQueue: false,
        // Every command goes to the slot's master: a replica may not have the latest claim yet.
        scaleReads: 'master',
        clusterRetryStrategy: reconnectDelayMs,
        slotsRefreshTimeout: Math.max(timeoutMs, 1000),
        redisOptions: {
          ...bounded,
          ...(topology.password === null ? {} : { password: topology.password }),
          ...(topology.tls ? { tls: {} } : {}),
        },
      };
      return new ClusterClass(topology.nodes, options);
    }
  }
}

/**
 * Runs `command` on every master the gateway writes to: the one server, the Sentinel group's
 * current master, or each Cluster master (for checks such as INFO that one node answers for itself).
 * Run it after firstConnection: before its slot map is loaded, a Cluster client knows no master.
 */
export function eachMaster<T>({ redis: client }: { redis: RedisClient }, command: (master: Redis) => Promise<T>): Promise<T[]> {
  return Promise.all(client.isCluster ? (client as Cluster).nodes('master').map(command) : [command(client as Redis)]);
}
