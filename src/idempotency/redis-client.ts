// The one Redis connection of a gateway (idempotency records and APQ documents). Every command
// is bounded: refused at once while disconnected (no offline queue, so no command is sent late,
// after its caller gave up) and failed after REDIS_TIMEOUT_MS; the connection is re-established
// in the background, so Redis coming back needs no restart.

import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { Logger } from '../logging.js';

// Loaded on the first connection only: a gateway without REDIS_URL never pays for ioredis at
// start-up (about 25 MiB of RSS, docs/performance.md). ioredis is CommonJS, so require is synchronous.
const loadRedis = (): typeof Redis => (createRequire(import.meta.url)('ioredis') as { Redis: typeof Redis }).Redis;

export interface RedisConnection {
  redis: Redis;
  /**
   * Resolves once the first connection is up, or at the connect timeout (REDIS_TIMEOUT_MS, at least
   * a second): commands sent before it would be refused (no offline queue), so the first requests wait for it.
   */
  firstConnection: Promise<void>;
  close(): Promise<void>;
}

/** Reconnect delays: quick at first, never slower than a second. */
const reconnectDelayMs = (attempt: number) => Math.min(50 * attempt, 1000);

export function connectRedis(url: URL, timeoutMs: number, logger: Logger): RedisConnection {
  const connectTimeoutMs = Math.max(timeoutMs, 1000);
  const RedisClient = loadRedis();
  const redis = new RedisClient(url.href, {
    commandTimeout: timeoutMs,
    connectTimeout: connectTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: reconnectDelayMs,
  });
  // One line per outage, not per reconnect attempt; the URL (it may carry a password) is never logged.
  let down = false;
  redis.on('error', (error: Error) => {
    if (!down) logger.warn('redis unreachable', { error: error.message });
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info('redis reachable again');
    down = false;
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
    close: async () => {
      redis.disconnect();
    },
  };
}
