// The embedded store: per process, bounded by key count and bytes. No record is ever dropped
// before its TTL: when a bound is reached new keys are refused (IDEMPOTENCY_STORE_UNAVAILABLE,
// nothing sent), and only expired records leave. What a client can take is bounded twice:
// - per caller (token hash): at most maxKeysPerToken keys and the same share of the bytes, so one
//   caller, even a valid one, cannot fill the store for the others;
// - unproven claims: a caller with no recorded success yet (a bogus token's claim waiting for its
//   401, or a new caller) holds its records in a pool of UNPROVEN_SHARE of the store, so anonymous
//   floods never crowd out the callers the upstream has accepted. A refused token's claim is
//   freed as soon as the upstream answers (the key was never awarded).

import { IdempotencyStoreUnavailable, keyState } from './store.js';
import type { Claim, ClaimOptions, IdempotencyStore, KeyState, RecordedOutcome, StoredRecord } from './store.js';

/**
 * Share of the store's keys and bytes that callers without a recorded success may hold. Small, so
 * at least 90 % stays for accepted callers; large enough that new callers' first awards pass
 * unless a flood of refused tokens is in flight at that very moment.
 */
export const UNPROVEN_SHARE = 0.1;

/**
 * Heap a record costs beyond its key and recorded answer: the Map slot, the entry and record
 * objects, the token hash, fingerprint and attempt strings (measured: test/idempotency/memory-store.test.ts).
 */
export const ENTRY_BYTES = 1024;

/** Charged at claim for the answer not known yet (a typical recorded award); the settle charges the real size. */
const EXPECTED_ANSWER_BYTES = 1024;

interface Owner {
  /** Every entry of this token refers to this one string (not a copy per record). */
  tokenHash: string;
  keys: number;
  bytes: number;
  /** Settled successes of this token in the store: with one, the upstream has accepted the token. */
  successes: number;
}

interface Entry {
  tokenHash: string;
  fingerprint: string;
  attempt: string;
  /** The recorded outcome as JSON (a string costs a fraction of the object's heap); null while started. */
  outcome: string | null;
  /** A recorded success (the token's proof of acceptance). */
  success: boolean;
  expiresAt: number;
  markExpiresAt: number;
  bytes: number;
  /** Counted in the unproven pool (its token had no recorded success when it claimed, and it has none itself). */
  unproven: boolean;
}

export interface MemoryStoreOptions {
  maxKeys: number;
  maxBytes: number;
  /** Keys one token may hold (IDEMPOTENCY_MAX_KEYS_PER_TOKEN); the same share of maxBytes. */
  maxKeysPerToken: number;
  now?: () => number;
}

export class MemoryIdempotencyStore implements IdempotencyStore {
  /** Claimed and not settled, in claim order: expiry order, as every record lives recordMs. */
  private readonly started = new Map<string, Entry>();
  /** Settled, in settle order: expiry order too. */
  private readonly settled = new Map<string, Entry>();
  private readonly owners = new Map<string, Owner>();
  private bytes = 0;
  private unprovenKeys = 0;
  private unprovenBytes = 0;
  private readonly maxBytesPerToken: number;
  private readonly maxUnprovenKeys: number;
  private readonly maxUnprovenBytes: number;
  private readonly now: () => number;

  constructor(private readonly options: MemoryStoreOptions) {
    this.now = options.now ?? Date.now;
    this.maxBytesPerToken = Math.floor((options.maxBytes * options.maxKeysPerToken) / options.maxKeys);
    this.maxUnprovenKeys = Math.max(1, Math.floor(options.maxKeys * UNPROVEN_SHARE));
    this.maxUnprovenBytes = Math.floor(options.maxBytes * UNPROVEN_SHARE);
  }

  async claim(key: string, claim: Claim, { markMs, recordMs }: ClaimOptions): Promise<KeyState> {
    const state = this.stateOf(key);
    if (state.status !== 'free') return state;
    this.dropExpired();
    const owner = this.owners.get(claim.tokenHash) ?? { tokenHash: claim.tokenHash, keys: 0, bytes: 0, successes: 0 };
    const unproven = owner.successes === 0;
    const bytes = ENTRY_BYTES + key.length + EXPECTED_ANSWER_BYTES;
    const full = this.refusal(owner, unproven, bytes);
    if (full) throw new IdempotencyStoreUnavailable(full, { reason: 'full' });
    const now = this.now();
    const { tokenHash } = owner;
    const { fingerprint, attempt } = claim;
    this.started.set(key, { tokenHash, fingerprint, attempt, outcome: null, success: false, expiresAt: now + recordMs, markExpiresAt: now + markMs, bytes, unproven });
    this.owners.set(tokenHash, owner);
    this.charge(owner, unproven, 1, bytes);
    return { status: 'free' };
  }

  async read(key: string): Promise<KeyState> {
    return this.stateOf(key);
  }

  /** Never refused: the award happened, so its answer is recorded even past a bound (claims are refused until it fits again). */
  async settle(key: string, claim: Claim, outcome: RecordedOutcome | null, recordMs: number): Promise<void> {
    const entry = this.started.get(key);
    if (entry?.attempt !== claim.attempt) return;
    this.started.delete(key);
    const owner = this.owners.get(entry.tokenHash)!;
    if (outcome === null) {
      this.release(entry, owner);
      return;
    }
    const json = JSON.stringify(outcome);
    const bytes = ENTRY_BYTES + key.length + Buffer.byteLength(json);
    this.charge(owner, entry.unproven, 0, bytes - entry.bytes);
    const settled: Entry = { ...entry, outcome: json, success: outcome.kind === 'success', bytes, expiresAt: this.now() + recordMs };
    if (settled.success) {
      owner.successes++;
      // Accepted by the upstream: the record leaves the unproven pool.
      if (settled.unproven) this.charge(owner, true, -1, -bytes, false);
      settled.unproven = false;
    }
    this.settled.set(key, settled);
  }

  async close(): Promise<void> {
    this.started.clear();
    this.settled.clear();
    this.owners.clear();
    this.bytes = this.unprovenKeys = this.unprovenBytes = 0;
  }

  /** Keys held (started and settled), for tests of the bounds. */
  get size(): number {
    return this.started.size + this.settled.size;
  }

  /** Bytes charged for what is held (at least the heap it takes), for tests of the bounds. */
  get heldBytes(): number {
    return this.bytes;
  }

  /** Why one more key does not fit, or null when it does. */
  private refusal(owner: Owner, unproven: boolean, bytes: number): string | null {
    const { maxKeys, maxBytes, maxKeysPerToken } = this.options;
    if (this.size >= maxKeys || this.bytes + bytes > maxBytes) return 'the in-memory idempotency store is full';
    if (owner.keys >= maxKeysPerToken || owner.bytes + bytes > this.maxBytesPerToken) {
      return "this caller's share of the in-memory idempotency store is full";
    }
    if (unproven && (this.unprovenKeys >= this.maxUnprovenKeys || this.unprovenBytes + bytes > this.maxUnprovenBytes)) {
      return 'the in-memory idempotency store is full of claims of callers without a recorded award';
    }
    return null;
  }

  private charge(owner: Owner, unproven: boolean, keys: number, bytes: number, total = true): void {
    if (total) {
      owner.keys += keys;
      owner.bytes += bytes;
      this.bytes += bytes;
    }
    if (unproven) {
      this.unprovenKeys += keys;
      this.unprovenBytes += bytes;
    }
  }

  private release(entry: Entry, owner: Owner): void {
    this.charge(owner, entry.unproven, -1, -entry.bytes);
    if (entry.success) owner.successes--;
    if (owner.keys === 0) this.owners.delete(entry.tokenHash);
  }

  private stateOf(key: string): KeyState {
    const now = this.now();
    const entry = this.started.get(key) ?? this.settled.get(key);
    if (!entry) return { status: 'free' };
    if (entry.expiresAt <= now) {
      this.remove(key, entry);
      return { status: 'free' };
    }
    const { tokenHash, fingerprint, attempt } = entry;
    const record: StoredRecord = { tokenHash, fingerprint, attempt, outcome: entry.outcome === null ? null : (JSON.parse(entry.outcome) as RecordedOutcome) };
    return keyState(record, entry.markExpiresAt - now);
  }

  /** Drops expired records from the heads of both maps (each in expiry order): amortised O(1) per claim. */
  private dropExpired(): void {
    const now = this.now();
    for (const records of [this.started, this.settled]) {
      for (const [key, entry] of records) {
        if (entry.expiresAt > now) break;
        this.remove(key, entry);
      }
    }
  }

  private remove(key: string, entry: Entry): void {
    this.started.delete(key);
    this.settled.delete(key);
    this.release(entry, this.owners.get(entry.tokenHash)!);
  }
}
