// The embedded store: per process, bounded by key count and bytes. When full, the oldest
// settled records go first; a started record (in flight, or unknown) is never evicted, and a
// store full of them refuses new keys.

import { IdempotencyStoreUnavailable, keyState } from './store.js';
import type { Claim, ClaimOptions, IdempotencyStore, KeyState, RecordedOutcome, StoredRecord } from './store.js';

interface Entry {
  record: StoredRecord;
  expiresAt: number;
  markExpiresAt: number;
  bytes: number;
}

export interface MemoryStoreOptions {
  maxKeys: number;
  maxBytes: number;
  now?: () => number;
}

export class MemoryIdempotencyStore implements IdempotencyStore {
  /** Claimed and not settled, in claim order. */
  private readonly started = new Map<string, Entry>();
  /** Settled, in settle order: the oldest (first to expire, first to evict) at the head. */
  private readonly settled = new Map<string, Entry>();
  private bytes = 0;
  private readonly now: () => number;

  constructor(private readonly options: MemoryStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  async claim(key: string, claim: Claim, { markMs, recordMs }: ClaimOptions): Promise<KeyState> {
    const state = this.stateOf(key);
    if (state.status !== 'free') return state;
    this.evict(0);
    if (this.started.size + this.settled.size >= this.options.maxKeys) {
      throw new IdempotencyStoreUnavailable('the in-memory idempotency store is full of calls in flight');
    }
    const now = this.now();
    this.started.set(key, { record: { ...claim, outcome: null }, expiresAt: now + recordMs, markExpiresAt: now + markMs, bytes: 0 });
    return { status: 'free' };
  }

  async read(key: string): Promise<KeyState> {
    return this.stateOf(key);
  }

  async settle(key: string, claim: Claim, outcome: RecordedOutcome | null, recordMs: number): Promise<void> {
    const entry = this.started.get(key);
    if (entry?.record.attempt !== claim.attempt) return;
    this.started.delete(key);
    if (outcome === null) return;
    const bytes = key.length + Buffer.byteLength(JSON.stringify(outcome));
    this.evict(bytes);
    this.settled.set(key, { ...entry, record: { ...entry.record, outcome }, expiresAt: this.now() + recordMs, bytes });
    this.bytes += bytes;
  }

  async close(): Promise<void> {
    this.started.clear();
    this.settled.clear();
    this.bytes = 0;
  }

  private stateOf(key: string): KeyState {
    const now = this.now();
    const entry = this.started.get(key) ?? this.settled.get(key);
    if (entry && entry.expiresAt <= now) {
      this.remove(key);
      return { status: 'free' };
    }
    return keyState(entry?.record ?? null, entry ? entry.markExpiresAt - now : 0);
  }

  /** Drops expired settled records, then the oldest, until one more key and `incoming` bytes fit. */
  private evict(incoming: number): void {
    const now = this.now();
    for (const [key, entry] of this.settled) {
      const full =
        this.started.size + this.settled.size >= this.options.maxKeys || this.bytes + incoming > this.options.maxBytes;
      if (!full && entry.expiresAt > now) break;
      this.remove(key);
    }
  }

  private remove(key: string): void {
    const entry = this.settled.get(key);
    if (entry) this.bytes -= entry.bytes;
    this.settled.delete(key);
    this.started.delete(key);
  }
}
