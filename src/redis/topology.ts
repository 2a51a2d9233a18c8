// The ioredis client for each topology the shared store may live in. One server: a plain client.
// Sentinel: ioredis asks the sentinels for the master on every (re)connection and verifies its
// role, and reconnects when the sentinels announce a promotion (+switch-master) or the master
// answers READONLY (the command that met it fails: refused, never taken for a claim). Cluster:
// ioredis' own Cluster client, which follows MOVED and ASK and refreshes its slot map. Every
// topology keeps the same bounds: no offline queue, no command retried, each one timed out.

import { createRequire } from 'node:module';
import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import type { RedisTopology } from '../app/config.js';

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
    case 'sentinel': {
      const sentinel = new RedisClass({
        ...bounded,
        enableOfflineQueue: false,
        sentinels: topology.sentinels,
        name: topology.name,
        role: 'master',
        ...(topology.password === null ? {} : { password: topology.password }),
        ...(topology.tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
        sentinelRetryStrategy: reconnectDelayMs,
        sentinelCommandTimeout: timeoutMs,
        // Hears +switch-master and reconnects at once: a demoted master that is still up would
        // otherwise take writes until the sentinels convert it (seconds), and those writes are lost.
        failoverDetector: true,
        reconnectOnError: reconnectOnReadOnly,
      });
      reviveWhenEnded(sentinel);
      return sentinel;
    }
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

const closing = new WeakSet<RedisClient>();

/** Disconnects for good (a client revived on end stays down). */
export function closeRedisClient(client: RedisClient): void {
  closing.add(client);
  client.disconnect();
}

/**
 * ioredis ends a client for good when a connect is interrupted: the failover detector's disconnect
 * on +switch-master, arriving while the client is reconnecting to the killed master, does it
 * (found by test/idempotency/failover-load.test.ts: keyed awards refused until a restart). Start it
 * again, unless it was closed on purpose.
 */
function reviveWhenEnded(client: Redis): void {
  client.on('end', () => {
    if (closing.has(client)) return;
    setTimeout(() => {
      if (!closing.has(client) && client.status === 'end') client.connect().catch(() => {});
    }, reconnectDelayMs(1)).unref();
  });
}

/**
 * Runs `command` on every master the gateway writes to: the one server, the Sentinel group's
 * current master, or each Cluster master (for checks such as INFO that one node answers for itself).
 * Run it after firstConnection: before its slot map is loaded, a Cluster client knows no master.
 */
export function eachMaster<T>({ redis: client }: { redis: RedisClient }, command: (master: Redis) => Promise<T>): Promise<T[]> {
  return Promise.all(client.isCluster ? (client as Cluster).nodes('master').map(command) : [command(client as Redis)]);
}
