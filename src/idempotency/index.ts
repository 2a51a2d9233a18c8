// idempotency/: runs a keyed operation at most once per key, over a store that keeps its claims
// and records (in memory, or Redis checked fit for money). Knows no GraphQL and no schema; the
// gateway's assembly (src/app/shared-state.ts) chooses the store and gives it a codec and a
// classify callback, and src/errors/idempotency-refusals.ts words its refusals.

export { Idempotency, IdempotencyRefusal, isReplayed } from './idempotency.js';
export type { IdempotencyOptions, IdempotencyRefusalReason, RecordedFailure, ResultCodec } from './idempotency.js';
export { IDEMPOTENCY_KEY_RULE, hashToken, isValidIdempotencyKey } from './keys.js';
export { claimToSettleMs, shortestRecordTtlS } from './deadlines.js';
export { MemoryIdempotencyStore } from './memory-store.js';
export { RedisIdempotencyStore } from './redis-store.js';
export { RedisStoreCheck, UnfitStoreError } from './store-check.js';
export { STORE_UNAVAILABLE_REASONS } from './store.js';
export type { IdempotencyStore, StoreUnavailableReason } from './store.js';
