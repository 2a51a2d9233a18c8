// The read cache of Query.challenge and Challenge entities (CHALLENGE_CACHE_TTL_S, 0 = off):
// GET /manager/challenges/{id} answers, per caller (read-cache.ts). A record's dates are not
// JSON: they are kept as ISO text and revived.

import type { GatewayConfig } from '../app/config.js';
import type { RedisConnection } from '../redis/client.js';
import type { ChallengeRecord } from '../upstream/types.js';
import { ReadCache } from './read-cache.js';

export type ChallengeCache = ReadCache<ChallengeRecord>;

/** Null when CHALLENGE_CACHE_TTL_S is 0: nothing is asked per read. */
export function createChallengeCache(
  config: GatewayConfig,
  redis: RedisConnection | null,
  onRead: (result: 'hit' | 'shared' | 'miss') => void,
): ChallengeCache | null {
  const { challengeCacheTtlSeconds, challengeCacheMaxBytes } = config.upstreamProtection;
  if (challengeCacheTtlSeconds === 0) return null;
  return new ReadCache<ChallengeRecord>({
    ttlSeconds: challengeCacheTtlSeconds,
    maxBytes: challengeCacheMaxBytes,
    redis,
    keyPrefix: config.idempotency.redisKeyPrefix,
    encode: (record) => JSON.stringify(record),
    decode: (text) => {
      const record = JSON.parse(text) as ChallengeRecord & { startDate: string | null; endDate: string | null };
      return { ...record, startDate: revive(record.startDate), endDate: revive(record.endDate) };
    },
    onRead,
  });
}

function revive(date: string | null): Date | null {
  return date === null ? null : new Date(date);
}
