// How long a claimed award can take from its claim to its settle: the in-flight mark's life, and
// what the record's TTL is checked against at start-up (src/app/config.ts). Pure, so that the
// configuration can import it without importing the stores.

/** Past the upstream deadline, the in-flight mark lives this much longer than the store's own calls may take. */
export const MARK_MARGIN_MS = 1000;

/** A record's TTL must be this many times the longest claim-to-settle time (a factor of safety). */
export const RECORD_TO_MARK_FACTOR = 2;

export interface ClaimTimings {
  /** UPSTREAM_QUEUE_TIMEOUT_MS: the POST's wait for a free upstream connection (after the claim). */
  upstreamQueueTimeoutMs: number;
  /** UPSTREAM_TIMEOUT_MS: from a free connection to the complete answer. */
  upstreamTimeoutMs: number;
  /** REDIS_TIMEOUT_MS: the claim's reply and the settle, each at most this long. */
  redisTimeoutMs: number;
}

/**
 * The longest from a claim to its settle. The request's own POST slot (BATCH_CONCURRENCY) is
 * waited for before the claim (src/datasource/api.ts), so it is not part of it.
 */
export function claimToSettleMs({ upstreamQueueTimeoutMs, upstreamTimeoutMs, redisTimeoutMs }: ClaimTimings): number {
  return upstreamQueueTimeoutMs + upstreamTimeoutMs + 2 * redisTimeoutMs + MARK_MARGIN_MS;
}

/** The shortest IDEMPOTENCY_TTL_S (whole seconds) that outlives every award by the factor of safety. */
export function shortestRecordTtlS(timings: ClaimTimings): number {
  return Math.floor((RECORD_TO_MARK_FACTOR * claimToSettleMs(timings)) / 1000) + 1;
}
