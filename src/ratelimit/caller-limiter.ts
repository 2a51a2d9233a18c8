// ratelimit/: per-caller admission before an upstream call: CALLER_RATE_LIMIT, and the upstream's 429 Retry-After.
//
// Per-caller limits on upstream calls: CALLER_RATE_LIMIT calls per CALLER_RATE_WINDOW_S per
// caller (the token's hash), and a caller the upstream answered 429 with Retry-After is refused
// locally until then. With Redis (REDIS_URL) both are shared by every instance: one script per
// call reads the caller's block and counts the call, on keys with the caller's hash as their hash
// tag (one slot). Without Redis they are per instance, in bounded maps.
//
// The 429 block is always on; the count only with CALLER_RATE_LIMIT > 0. With no caller blocked
// and no count, a call costs one map-size check (no hash), with Redis too: a block is published to
// every instance (Redis pub/sub, one channel) and kept in each one's map, so no call asks Redis.
// A block an instance misses (it started later, or was disconnected) costs one call the upstream
// answers 429 again, which blocks it there: nothing is sent that the upstream would process.
// With a count, one script per call counts it and reads the shared block.
//
// A Retry-After is honoured for at most MAX_HONOURED_RETRY_AFTER_S: a buggy or hostile upstream
// header ("86400") must not lock a caller out for a day. Once it ends, the caller's next call
// goes to the upstream, whose new 429 blocks it again: at most one call per caller per minute.
//
// When Redis cannot answer, CALLER_RATE_LIMIT_FAIL_OPEN decides: let the call go (default: a
// store outage should not stop awards the upstream would accept) or refuse it unsent.

import { hashToken } from '../idempotency/index.js';
import type { RedisConnection } from '../redis/client.js';
import type { Logger } from '../telemetry/logging.js';
import type { CallerGate } from '../upstream/types.js';

/** Callers tracked in memory at once (counts and blocks each); beyond it the oldest are forgotten. */
export const MAX_TRACKED_CALLERS = 100_000;

/** The longest upstream Retry-After this gateway honours with a local block (see above). */
export const MAX_HONOURED_RETRY_AFTER_S = 60;

export type CallerRefusalReason = 'limit' | 'upstream_429' | 'store';

export interface CallerLimiterOptions {
  /** Calls per window per caller; 0: no count (the upstream's 429 is still honoured). */
  limit: number;
  windowSeconds: number;
  failOpen: boolean;
  redis: RedisConnection | null;
  keyPrefix: string;
  logger: Logger;
  onRefused(reason: CallerRefusalReason): void;
}

// KEYS[1] the caller's count, KEYS[2] its block. ARGV: limit (0: no count), window ms.
// Answers {1, 0} (go) or {0, ms to wait, 1 when blocked by a 429}.
const ADMIT = `
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then return {0, blocked, 1} end
if tonumber(ARGV[1]) == 0 then return {1, 0, 0} end
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if n > tonumber(ARGV[1]) then
  local left = redis.call('PTTL', KEYS[1])
  if left < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]); left = tonumber(ARGV[2]) end
  return {0, left, 0}
end
return {1, 0, 0}
`;

interface AdmitCommand {
  gatewayCallerAdmit(count: string, block: string, limit: number, windowMs: number): Promise<[number, number, number]>;
}

/** The little of an ioredis client (Redis or Cluster) the block subscriber uses. */
interface Subscriber {
  on(event: 'error' | 'ready', listener: () => void): unknown;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  subscribe(channel: string): Promise<unknown>;
  disconnect(): void;
}

export class CallerLimiter implements CallerGate {
  /** Callers blocked after a 429: token hash -> Date.now() until which. */
  private readonly blocks = new Map<string, number>();
  /** Without Redis: token hash -> [window start, calls in it]. */
  private readonly counts = new Map<string, [number, number]>();
  private storeDown = false;
  /** With Redis: the connection that hears other instances' blocks (subscribed once ready, again after each reconnect). */
  private readonly subscriber: Subscriber | null = null;

  constructor(private readonly options: CallerLimiterOptions) {
    const { redis } = options;
    if (!redis) return;
    redis.redis.defineCommand('gatewayCallerAdmit', { lua: ADMIT, numberOfKeys: 2 });
    // One server, Sentinel or Cluster: each client's duplicate() is a connection of the same topology.
    const subscriber = (redis.redis as unknown as { duplicate(): Subscriber }).duplicate();
    subscriber.on('error', () => {}); // the main connection logs Redis outages
    subscriber.on('ready', () => void subscriber.subscribe(this.channel).catch(() => {}));
    subscriber.on('message', (_channel: string, message: string) => this.heard(message));
    this.subscriber = subscriber;
  }

  admit(token: string): Promise<number | null> | null {
    const { redis, limit } = this.options;
    // No count and nobody blocked (the default): nothing to ask, not even the hash.
    if (limit === 0 && this.blocks.size === 0) return null;
    this.forgetOldestIfEnded();
    const caller = hashToken(token);
    const blocked = this.localBlock(caller);
    if (blocked !== null) return blocked;
    if (limit === 0) return null;
    return redis ? this.admitShared(caller) : Promise.resolve(this.admitLocal(caller));
  }

  upstreamLimited(token: string, retryAfterSeconds: number): void {
    const ms = Math.min(retryAfterSeconds, MAX_HONOURED_RETRY_AFTER_S) * 1000;
    if (!(ms > 0)) return;
    const caller = hashToken(token);
    remember(this.blocks, caller, Date.now() + ms);
    const { redis } = this.options;
    if (redis) {
      // The key for the counting script; the message for every instance's map.
      redis.redis.set(this.keys(caller)[1], '1', 'PX', ms).catch(() => {});
      redis.redis.publish(this.channel, `${caller} ${ms}`).catch(() => {});
    }
  }

  close(): void {
    this.subscriber?.disconnect();
  }

  /** Another instance's block ("<token hash> <ms>"): kept until then, at most MAX_HONOURED_RETRY_AFTER_S. */
  private heard(message: string): void {
    const [caller, ms] = message.split(' ');
    const wait = Number(ms);
    if (caller === undefined || !/^[0-9a-f]{64}$/.test(caller) || !(wait > 0)) return;
    remember(this.blocks, caller, Date.now() + Math.min(wait, MAX_HONOURED_RETRY_AFTER_S * 1000));
  }

  private get channel(): string {
    return `${this.options.keyPrefix}caller-blocks`;
  }

  /** One ended block less per call (the oldest set; most end in that order): blocks of callers who never come back do not stay. */
  private forgetOldestIfEnded(): void {
    const oldest = this.blocks.entries().next();
    if (!oldest.done && oldest.value[1] <= Date.now()) this.blocks.delete(oldest.value[0]);
  }

  /** Seconds until a locally known block ends, or null. */
  private localBlock(caller: string): Promise<number | null> | null {
    const until = this.blocks.get(caller);
    if (until === undefined) return null;
    const left = until - Date.now();
    if (left <= 0) {
      this.blocks.delete(caller);
      return null;
    }
    this.options.onRefused('upstream_429');
    return Promise.resolve(Math.ceil(left / 1000));
  }

  private admitLocal(caller: string): number | null {
    const now = Date.now();
    const windowMs = this.options.windowSeconds * 1000;
    let entry = this.counts.get(caller);
    if (entry === undefined || now - entry[0] >= windowMs) {
      entry = [now, 0];
      remember(this.counts, caller, entry);
    }
    entry[1]++;
    if (entry[1] <= this.options.limit) return null;
    this.options.onRefused('limit');
    return Math.max(1, Math.ceil((entry[0] + windowMs - now) / 1000));
  }

  private async admitShared(caller: string): Promise<number | null> {
    const { redis, limit, windowSeconds, failOpen, logger } = this.options;
    try {
      await redis!.firstConnection;
      const [go, waitMs, byUpstream] = await (redis!.redis as unknown as AdmitCommand).gatewayCallerAdmit(...this.keys(caller), limit, windowSeconds * 1000);
      if (this.storeDown) logger.info('caller rate limit: store answering again');
      this.storeDown = false;
      if (go === 1) return null;
      this.options.onRefused(byUpstream === 1 ? 'upstream_429' : 'limit');
      return Math.max(1, Math.ceil(waitMs / 1000));
    } catch (error) {
      if (!this.storeDown) logger.warn(`caller rate limit: store unavailable, failing ${failOpen ? 'open' : 'closed'}`, { error: (error as Error).message });
      this.storeDown = true;
      if (failOpen) return null;
      this.options.onRefused('store');
      return 1;
    }
  }

  /** The caller's keys, its hash as the hash tag: one slot for the script. */
  private keys(caller: string): [count: string, block: string] {
    return [`${this.options.keyPrefix}caller:{${caller}}:calls`, `${this.options.keyPrefix}caller:{${caller}}:blocked`];
  }
}

/** Sets `key` as the newest entry; past MAX_TRACKED_CALLERS the oldest entry goes. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_TRACKED_CALLERS) map.delete(map.keys().next().value!);
}
