// Chooses the store from the configuration: Redis when REDIS_URL, REDIS_SENTINELS or
// REDIS_CLUSTER_NODES is set (shared by every instance, APQ documents included), else in memory.
// One place creates and closes it.

import type { GatewayConfig } from '../app/config.js';
import type { Logger } from '../telemetry/logging.js';
import { claimToSettleMs } from './deadlines.js';
import { Idempotency } from './idempotency.js';
import type { AwardArguments } from './keys.js';
import { MemoryIdempotencyStore } from './memory-store.js';
import { connectRedis } from '../redis/client.js';
import type { RedisConnection } from '../redis/client.js';
import { RedisIdempotencyStore } from './redis-store.js';
import { RedisStoreCheck } from './store-check.js';
import type { StoreUnavailableReason } from './store.js';
import type { ChallengeHistoryRecord } from '../upstream/types.js';

export { Idempotency, isReplayed } from './idempotency.js';
export { IDEMPOTENCY_KEY_RULE, isValidIdempotencyKey } from './keys.js';
export type { AwardArguments } from './keys.js';
export { claimToSettleMs, shortestRecordTtlS } from './deadlines.js';
export { STORE_UNAVAILABLE_REASONS } from './store.js';
export type { StoreUnavailableReason } from './store.js';

export interface SharedState {
  idempotency: Idempotency;
  /** The Redis connection when a Redis topology is configured (the APQ store uses it too). */
  redis: RedisConnection | null;
  /** Resolves once the store is checked fit (Redis); rejects with a StartupError when production must not start on it. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export function createSharedState(
  config: GatewayConfig,
  {
    logger,
    onStoreUnavailable,
    onStoreReset,
  }: { logger: Logger; onStoreUnavailable(reason: StoreUnavailableReason): void; onStoreReset(): void },
): SharedState {
  const settings = config.idempotency;
  const redis = settings.redis ? connectRedis(settings.redis, settings.redisTimeoutMs, logger) : null;
  // The longest a claimed award can take to be answered: its wait for a connection, then its deadline.
  const markMs = claimToSettleMs({ ...config, redisTimeoutMs: settings.redisTimeoutMs });
  const check = redis
    ? new RedisStoreCheck({
        connection: redis,
        epochKey: `${settings.redisKeyPrefix}idempotency-epoch`,
        markMs,
        production: config.nodeEnv === 'production',
        unsafe: settings.redisUnsafeStore,
        minReplicas: settings.redisMinReplicas,
        logger,
        onReset: onStoreReset,
      })
    : null;
  const store =
    redis && check
      ? new RedisIdempotencyStore(redis, {
          prefix: settings.redisKeyPrefix,
          timeoutMs: settings.redisTimeoutMs,
          minReplicas: settings.redisMinReplicas,
          check,
        })
      : new MemoryIdempotencyStore({ maxKeys: settings.maxKeys, maxBytes: settings.maxBytes, maxKeysPerToken: settings.maxKeysPerToken });
  const idempotency = new Idempotency({
    store,
    markMs,
    recordMs: settings.ttlSeconds * 1000,
    logger,
    onStoreUnavailable,
  });
  return {
    idempotency,
    redis,
    ready: check ? check.startup() : Promise.resolve(),
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
