// redis/: the one bounded Redis connection (one server, Sentinel or Cluster) every shared store uses.
//
// The one Redis connection of a gateway (idempotency records and APQ documents). Every command
// is bounded: refused at once while disconnected (no offline queue, so no command is sent late,
// after its caller gave up) and failed after REDIS_TIMEOUT_MS; the connection is re-established
// in the background, so Redis coming back needs no restart.

import type { RedisTopology } from '../app/config.js';
import type { Logger } from '../telemetry/logging.js';
import { closeRedisClient, createRedisClient } from './topology.js';
import type { RedisClient } from './topology.js';

export { eachMaster } from './topology.js';

export interface RedisConnection {
  /** One server's or a Sentinel master's client, or a Cluster client (redis-topology.ts). */
  redis: RedisClient;
  /**
   * Resolves once the first connection is up, or at the connect timeout (REDIS_TIMEOUT_MS, at least
   * a second): commands sent before it would be refused (no offline queue), so the first requests wait for it.
   */
  firstConnection: Promise<void>;
  /** Seconds, since the first connection, without a ready connection (keyed awards were refused meanwhile). */
  unavailableSeconds(): number;
  close(): Promise<void>;
}

export function connectRedis(target: URL | RedisTopology, timeoutMs: number, logger: Logger): RedisConnection {
  const connectTimeoutMs = Math.max(timeoutMs, 1000);
  const redis = createRedisClient(target instanceof URL ? { kind: 'single', url: target } : target, timeoutMs);
  // One line per outage, not per reconnect attempt; the URL and password are never logged.
  let down = false;
  // Time without a ready connection, counted from the first one (gateway_redis_unavailable_seconds_total).
  let everReady = false;
  let downSince: number | null = null;
  let downMs = 0;
  const wentDown = () => {
    if (downSince === null && everReady) downSince = performance.now();
  };
  redis.on('error', (error: Error) => {
    if (!down) logger.warn('redis unreachable', { error: error.message });
    down = true;
    wentDown();
  });
  redis.on('close', wentDown);
  redis.on('ready', () => {
    if (down) logger.info('redis reachable again');
    down = false;
    everReady = true;
    if (downSince !== null) downMs += performance.now() - downSince;
    downSince = null;
  });
  const firstConnection = new Promise<void>((resolve) => {
    const timer = setTimeout(done, connectTimeoutMs);
    timer.unref();
    function done() {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    }
    redis.once('ready', done);
  });
  return {
    redis,
    firstConnection,
    unavailableSeconds: () => (downMs + (downSince === null ? 0 : performance.now() - downSince)) / 1000,
    close: async () => {
      closeRedisClient(redis);
    },
  };
}
