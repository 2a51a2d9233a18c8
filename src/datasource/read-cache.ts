// A read cache scoped to the caller: a record read by one token is kept under (token hash, id)
// for CHALLENGE_CACHE_TTL_S and only ever answers that token again (apollo-server#4486 was a
// cache shared across Authorization values). Only answers are kept: never an error, never a
// null (an id the upstream did not know may exist a moment later). Identical reads in flight at
// once, across requests, share one GET, per caller. An award that succeeds invalidates the id
// for every caller, on every instance: each id has a generation, and an entry made under an
// older one is never served.
//
// In memory (no REDIS_URL): Yoga's LRU, bounded by CHALLENGE_CACHE_MAX_BYTES (each entry
// counted at least MIN_ENTRY_BYTES, so the byte bound always comes before the LRU's count bound).
// In Redis: an entry and its id's generation share a hash tag (the id), so one MGET reads both
// in one slot; each instance writes at most CHALLENGE_CACHE_MAX_BYTES per TTL (what it can hold
// there at once), and no entry larger than MAX_ENTRY_BYTES.

import { createLRUCache } from 'graphql-yoga';
import type { RedisConnection } from '../redis/client.js';

export const MIN_ENTRY_BYTES = 256;
export const MAX_ENTRY_BYTES = 64 * 1024;
/** Ids whose generation is remembered in memory; beyond it all generations restart (every entry is dropped). */
const MAX_GENERATIONS = 100_000;

export interface ReadCacheOptions<T> {
  ttlSeconds: number;
  maxBytes: number;
  redis: RedisConnection | null;
  keyPrefix: string;
  /** A record as stored text, and back (dates are not JSON). */
  encode(record: T): string;
  decode(text: string): T;
  /** hit: served from the cache; shared: joined an identical read in flight; miss: read upstream. */
  onRead?(result: 'hit' | 'shared' | 'miss'): void;
}

interface MemoryEntry {
  text: string;
  bytes: number;
  generation: number;
  expiresAt: number;
}

export class ReadCache<T> {
  private readonly inFlight = new Map<string, Promise<T>>();
  // In memory only.
  private readonly entries;
  private bytes = 0;
  private readonly generations = new Map<number, number>();
  private generationBase = 0;
  // In Redis only: bytes this instance wrote in the current and previous half-TTL.
  private written = 0;
  private previousWritten = 0;
  private writtenSince = 0;

  constructor(private readonly options: ReadCacheOptions<T>) {
    this.entries = createLRUCache<MemoryEntry>({ max: Math.max(1, Math.floor(options.maxBytes / MIN_ENTRY_BYTES)), ttl: 0 });
  }

  /** The caller's record for `id`: from the cache, from an identical read in flight, or from `load` (kept when it is a record). */
  read(caller: string, id: number, load: () => Promise<T | null>): Promise<T | null> {
    const key = `${id}:${caller}`;
    const joined = this.inFlight.get(key);
    if (joined) {
      this.options.onRead?.('shared');
      return joined;
    }
    const reading = this.lookUpOrLoad(caller, id, load).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, reading as Promise<T>);
    return reading;
  }

  /** Every caller's entry for `id` stops being served, here and (with Redis) on every instance. */
  async invalidate(id: number): Promise<void> {
    const { redis } = this.options;
    if (!redis) {
      if (this.generations.size >= MAX_GENERATIONS) {
        this.generations.clear();
        this.generationBase++;
      }
      this.generations.set(id, this.generationOf(id) + 1);
      return;
    }
    const key = this.generationKey(id);
    // The generation outlives every entry made under the one before it.
    await redis.redis.multi().incr(key).pexpire(key, this.options.ttlSeconds * 1000 + 60_000).exec().catch(() => {});
  }

  private async lookUpOrLoad(caller: string, id: number, load: () => Promise<T | null>): Promise<T | null> {
    const { redis } = this.options;
    if (!redis) {
      const generation = this.generationOf(id);
      const cached = this.memoryGet(`${id}:${caller}`, generation);
      if (cached !== undefined) return cached;
      this.options.onRead?.('miss');
      const record = await load();
      if (record !== null) this.memorySet(`${id}:${caller}`, record, generation);
      return record;
    }
    let generation = '0';
    try {
      await redis.firstConnection;
      const [text, current] = await redis.redis.mget(this.entryKey(id, caller), this.generationKey(id));
      generation = current ?? '0';
      const separator = text ? text.indexOf('\n') : -1;
      if (text && separator > 0 && text.slice(0, separator) === generation) {
        this.options.onRead?.('hit');
        return this.options.decode(text.slice(separator + 1));
      }
    } catch {
      // Redis cannot answer: read upstream, keep nothing.
      this.options.onRead?.('miss');
      return load();
    }
    this.options.onRead?.('miss');
    const record = await load();
    if (record !== null) this.redisSet(id, caller, record, generation);
    return record;
  }

  private generationOf(id: number): number {
    return this.generationBase * 1_000_000_000 + (this.generations.get(id) ?? 0);
  }

  private memoryGet(key: string, generation: number): T | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.generation !== generation || entry.expiresAt <= Date.now()) {
      this.memoryDelete(key, entry);
      return undefined;
    }
    this.options.onRead?.('hit');
    return this.options.decode(entry.text);
  }

  private memorySet(key: string, record: T, generation: number): void {
    const text = this.options.encode(record);
    const bytes = Math.max(MIN_ENTRY_BYTES, text.length * 2 + key.length * 2);
    if (bytes > Math.min(MAX_ENTRY_BYTES, this.options.maxBytes)) return;
    const old = this.entries.get(key);
    if (old) this.memoryDelete(key, old);
    while (this.bytes + bytes > this.options.maxBytes) {
      const oldest = this.entries.pop();
      if (oldest === undefined) break;
      this.bytes -= oldest.bytes;
    }
    this.entries.set(key, { text, bytes, generation, expiresAt: Date.now() + this.options.ttlSeconds * 1000 });
    this.bytes += bytes;
  }

  private memoryDelete(key: string, entry: MemoryEntry): void {
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }

  private redisSet(id: number, caller: string, record: T, generation: string): void {
    const text = `${generation}\n${this.options.encode(record)}`;
    if (text.length > MAX_ENTRY_BYTES || !this.mayWrite(text.length)) return;
    this.options.redis!.redis.set(this.entryKey(id, caller), text, 'PX', this.options.ttlSeconds * 1000).catch(() => {});
  }

  /** Whether this instance may write `bytes` more: at most maxBytes within about one TTL (entries older than that have expired). */
  private mayWrite(bytes: number): boolean {
    const now = Date.now();
    const half = (this.options.ttlSeconds * 1000) / 2;
    if (now - this.writtenSince >= half) {
      this.previousWritten = now - this.writtenSince >= 2 * half ? 0 : this.written;
      this.written = 0;
      this.writtenSince = now;
    }
    if (this.written + this.previousWritten + bytes > this.options.maxBytes) return false;
    this.written += bytes;
    return true;
  }

  // The id is the hash tag: an entry and its id's generation live in one slot.
  private entryKey(id: number, caller: string): string {
    return `${this.options.keyPrefix}challenge-cache:{${id}}:${caller}`;
  }

  private generationKey(id: number): string {
    return `${this.options.keyPrefix}challenge-cache:{${id}}:generation`;
  }
}
