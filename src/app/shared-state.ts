// What every request of the gateway shares and every instance may share through Redis: the
// idempotency store (Redis when REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES is set, else in
// memory) and the Redis connection APQ documents, the read cache and the caller limits use too.
// One place creates and closes them.

import type { AwardIdempotency } from '../datasource/api.js';
import { awardRecordCodec } from '../datasource/award-record.js';
import { classifyAwardFailure } from '../errors/idempotency-refusals.js';
import {
  Idempotency,
  MemoryIdempotencyStore,
  RedisIdempotencyStore,
  RedisStoreCheck,
  UnfitStoreError,
  claimToSettleMs,
} from '../idempotency/index.js';
import type { StoreUnavailableReason } from '../idempotency/index.js';
import { connectRedis } from '../redis/client.js';
import type { RedisConnection } from '../redis/client.js';
import type { Logger } from '../telemetry/logging.js';
import type { GatewayConfig } from './config.js';
import { StartupError } from './startup.js';

export interface SharedState {
  idempotency: AwardIdempotency;
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
  const idempotency: AwardIdempotency = new Idempotency({
    store,
    codec: awardRecordCodec,
    classify: classifyAwardFailure,
    markMs,
    recordMs: settings.ttlSeconds * 1000,
    logger,
    onStoreUnavailable,
  });
  return {
    idempotency,
    redis,
    ready: check
      ? check.startup().catch((error: unknown) => {
          throw error instanceof UnfitStoreError ? new StartupError(error.message) : error;
        })
      : Promise.resolve(),
    close: async () => {
      await idempotency.close();
      await redis?.close();
    },
  };
}
