// Chooses the store from the configuration: Redis when REDIS_URL, REDIS_SENTINELS or
// REDIS_CLUSTER_NODES is set (shared by every instance, APQ documents included), else in memory.
// One place creates and closes it.

import type { GatewayConfig } from '../config.js';
import type { Logger } from '../logging.js';
import { Idempotency } from './idempotency.js';
import type { AwardArguments } from './keys.js';
import { MemoryIdempotencyStore } from './memory-store.js';
import { connectRedis } from './redis-client.js';
import type { RedisConnection } from './redis-client.js';
import { RedisIdempotencyStore } from './redis-store.js';
import type { ChallengeHistoryRecord } from '../upstream/types.js';

export { Idempotency, isReplayed } from './idempotency.js';
export { IDEMPOTENCY_KEY_RULE, isValidIdempotencyKey } from './keys.js';
export type { AwardArguments } from './keys.js';

/** Past the upstream deadline, the in-flight mark lives this much longer than the store's own calls may take. */
const MARK_MARGIN_MS = 1000;

export interface SharedState {
  idempotency: Idempotency;
  /** The Redis connection when a Redis topology is configured (the APQ store uses it too). */
  redis: RedisConnection | null;
  close(): Promise<void>;
}

export function createSharedState(
  config: GatewayConfig,
  { logger, onStoreUnavailable }: { logger: Logger; onStoreUnavailable(): void },
): SharedState {
  const settings = config.idempotency;
  const redis = settings.redis ? connectRedis(settings.redis, settings.redisTimeoutMs, logger) : null;
  const store = redis
    ? new RedisIdempotencyStore(redis, settings.redisKeyPrefix)
    : new MemoryIdempotencyStore({ maxKeys: settings.maxKeys, maxBytes: settings.maxBytes });
  const idempotency = new Idempotency({
    store,
    // The longest a claimed award can take to be answered: its wait for a connection, then its deadline.
    markMs: config.upstreamQueueTimeoutMs + config.upstreamTimeoutMs + 2 * settings.redisTimeoutMs + MARK_MARGIN_MS,
    recordMs: settings.ttlSeconds * 1000,
    logger,
    onStoreUnavailable,
  });
  return {
    idempotency,
    redis,
    close: async () => {
      await idempotency.close();
      await redis?.close();
    },
  };
}

/** Runs `post` as the award named by `key` (at most once per key), or as it is without a key. */
export function withIdempotency(
  ctx: { idempotency: Idempotency; token: string },
  key: string | null | undefined,
  args: AwardArguments,
  post: () => Promise<ChallengeHistoryRecord>,
): Promise<ChallengeHistoryRecord> {
  return key == null ? post() : ctx.idempotency.run(key, ctx.token, args, post);
}
