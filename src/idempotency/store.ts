// What an idempotency store keeps per key, and the operations both stores (memory, Redis) offer.
// A key's life: claimed (a "started" record plus an in-flight mark, written before the POST
// leaves), then settled with the outcome to replay, or freed when nothing can have been created.
// A started record whose mark expired (its instance died mid-call) is an unknown outcome.

/** The outcome a repeat replays: the success's record, or the coded error whose outcome is unknown. */
export type RecordedOutcome =
  | { kind: 'success'; record: unknown }
  | { kind: 'error'; message: string; extensions: Record<string, unknown> };

/** Who made a claim and what it asked for: a repeat must match both. */
export interface Claim {
  /** SHA-256 (hex) of the bearer token; never the token. */
  tokenHash: string;
  /** SHA-256 (hex) of the normalised award arguments. */
  fingerprint: string;
  /** Random per attempt, so only the attempt that claimed a key settles or frees it. */
  attempt: string;
}

export interface StoredRecord extends Claim {
  /** null while started: in flight, or unknown once the mark is gone. */
  outcome: RecordedOutcome | null;
}

export type KeyState =
  | { status: 'free' }
  | { status: 'in_flight'; record: StoredRecord; markRemainingMs: number }
  | { status: 'unknown'; record: StoredRecord }
  | { status: 'settled'; record: StoredRecord & { outcome: RecordedOutcome } };

export interface ClaimOptions {
  /** Life of the in-flight mark: the upstream deadline plus a margin. */
  markMs: number;
  /** Life of the record (IDEMPOTENCY_TTL_S), started or settled. */
  recordMs: number;
}

export interface IdempotencyStore {
  /** Claims a free key atomically (answers `free` when this call took it), or answers its state. */
  claim(key: string, claim: Claim, options: ClaimOptions): Promise<KeyState>;
  read(key: string): Promise<KeyState>;
  /** Records the outcome (null frees the key), if this claim's attempt still holds the key. */
  settle(key: string, claim: Claim, outcome: RecordedOutcome | null, recordMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Why a keyed award was refused (the `reason` label of gateway_idempotency_store_unavailable_total):
 * unreachable (no answer in time), full (no room for a new record), unfit (a store that may lose
 * records, in production), reset (the store lost its data while awards claimed before may be in
 * flight), replication (fewer replicas than REDIS_MIN_REPLICAS acknowledged the claim).
 */
export const STORE_UNAVAILABLE_REASONS = ['unreachable', 'full', 'unfit', 'reset', 'replication'] as const;
export type StoreUnavailableReason = (typeof STORE_UNAVAILABLE_REASONS)[number];

/** The store cannot answer (unreachable, too slow, full, unfit or just reset): the keyed request is refused. */
export class IdempotencyStoreUnavailable extends Error {
  readonly reason: StoreUnavailableReason;
  constructor(message: string, options?: { cause?: unknown; reason?: StoreUnavailableReason }) {
    super(message, options);
    this.name = 'IdempotencyStoreUnavailable';
    this.reason = options?.reason ?? 'unreachable';
  }
}

/** The state of a key from its record and whether its mark still lives. */
export function keyState(record: StoredRecord | null, markRemainingMs: number): KeyState {
  if (record === null) return { status: 'free' };
  if (record.outcome !== null) return { status: 'settled', record: record as StoredRecord & { outcome: RecordedOutcome } };
  return markRemainingMs > 0 ? { status: 'in_flight', record, markRemainingMs } : { status: 'unknown', record };
}
