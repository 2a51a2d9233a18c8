// The shared store: every gateway instance on one Redis sees the same keys. A key is two Redis
// keys under one hash tag (so a Redis Cluster keeps them on one node): the record (JSON of the
// claim and, once settled, its outcome; lives IDEMPOTENCY_TTL_S) and the in-flight mark (lives
// the worst case from claim to settle). Claiming and settling are Lua scripts, so two instances
// racing on one key cannot both claim it.
// Beside every claim the gateway reads its epoch key (a loss of the store's data is seen before
// an award is sent on an empty store) and, with REDIS_MIN_REPLICAS, WAITs for the replicas.
// On a Cluster the pipeline goes to the master serving the key's slot: the epoch key read is that
// master's own (store-check.ts), and WAIT, keyless, goes with the pipeline to that master.

import { createHash } from 'node:crypto';
import type { Cluster } from 'ioredis';
import type { RedisConnection } from '../redis/client.js';
import { EPOCH_SCRIPT } from './store-check.js';
import type { RedisStoreCheck } from './store-check.js';
import { IdempotencyStoreUnavailable, keyState } from './store.js';
import type { Claim, ClaimOptions, IdempotencyStore, KeyState, RecordedOutcome, StoredRecord } from './store.js';

// KEYS: record, mark, and (until one IDEMPOTENCY_TTL_S after the upgrade to hash-tagged names)
// the record and mark under the earlier names. ARGV: started record JSON, record ms, mark ms.
// Answers nil when this call claimed the key, else {record JSON, mark's remaining ms}.
const CLAIM = `
local existing = redis.call('GET', KEYS[1])
if existing then return {existing, redis.call('PTTL', KEYS[2])} end
local legacy = redis.call('GET', KEYS[3])
if legacy then return {legacy, redis.call('PTTL', KEYS[4])} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
return false
`;

// KEYS: as CLAIM's. Answers nil or {record JSON, mark's remaining ms}.
const READ = `
local existing = redis.call('GET', KEYS[1])
if existing then return {existing, redis.call('PTTL', KEYS[2])} end
local legacy = redis.call('GET', KEYS[3])
if legacy then return {legacy, redis.call('PTTL', KEYS[4])} end
return false
`;

// KEYS: record, mark. ARGV: the record's opening with this attempt ({"attempt":"..."), settled
// record JSON ('' frees the key), record ms. Only the attempt that claimed the key settles it.
// Answers 1 when settled, 0 when another attempt holds the key, 2 when the record was gone
// (the store lost it: the outcome is written back, so a retry replays it).
const SETTLE = `
local existing = redis.call('GET', KEYS[1])
if not existing then
  if ARGV[2] ~= '' then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
  redis.call('DEL', KEYS[2])
  return 2
end
if string.sub(existing, 1, #ARGV[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
redis.call('DEL', KEYS[2])
return 1
`;

type Found = [record: string, markRemainingMs: number] | null;
type Keys = [record: string, mark: string, legacyRecord: string, legacyMark: string];

interface IdempotencyCommands {
  idempotencyClaim(...args: [...Keys, started: string, recordMs: number, markMs: number]): Promise<Found>;
  idempotencyRead(...keys: Keys): Promise<Found>;
  idempotencySettle(record: string, mark: string, attemptOpening: string, settled: string, recordMs: number): Promise<number>;
}

interface ClaimPipeline {
  idempotencyClaim(...args: [...Keys, started: string, recordMs: number, markMs: number]): ClaimPipeline;
  get(key: string): ClaimPipeline;
  asking(): ClaimPipeline;
  wait(replicas: number, timeoutMs: number): ClaimPipeline;
  exec(): Promise<readonly (readonly [Error | null, unknown])[] | null>;
}

export interface RedisStoreOptions {
  prefix: string;
  /** REDIS_TIMEOUT_MS: also the WAIT for replicas, and the wait for a reconnection before reading a lost claim back. */
  timeoutMs: number;
  /** REDIS_MIN_REPLICAS: replicas that must acknowledge a claim before the POST leaves. */
  minReplicas: number;
  check: RedisStoreCheck;
}

/**
 * Settles and frees that failed (a claim whose reply was lost, an outcome Redis could not take):
 * written once Redis answers again, so a key is never left started by a call whose outcome this
 * instance knows (bounded; retried every second and on every reconnection).
 */
const MAX_PENDING_WRITES = 10_000;
/** A claim sent again on a Cluster while its slot moves: at most this many times, within REDIS_TIMEOUT_MS. */
const MAX_CLAIM_REDIRECTIONS = 10;
const TRYAGAIN_DELAY_MS = 20;

/** Where a claim goes: by ioredis' slot map (node null), or to a node a redirection named. */
interface ClaimRoute {
  node: string | null;
  asking: boolean;
  /** Read the master's epoch key in the same pipeline. */
  epoch: boolean;
}
const PENDING_RETRY_MS = 1_000;

interface PendingWrite {
  claim: Claim;
  /** The settled record's JSON; '' frees the key. */
  settled: string;
  recordMs: number;
}

export class RedisIdempotencyStore implements IdempotencyStore {
  private readonly commands: IdempotencyCommands;
  private readonly pending = new Map<string, PendingWrite>();
  private readonly retryTimer: NodeJS.Timeout;
  private readonly onReady = () => void this.writePending();
  /** A Cluster was never a working store before the hash tags: there are no untagged records to read. */
  private readonly cluster: boolean;

  constructor(
    private readonly connection: RedisConnection,
    private readonly options: RedisStoreOptions,
  ) {
    const { redis } = connection;
    this.cluster = redis.isCluster;
    redis.defineCommand('idempotencyClaim', { lua: CLAIM, numberOfKeys: 4 });
    redis.defineCommand('idempotencyRead', { lua: READ, numberOfKeys: 4, readOnly: true });
    redis.defineCommand('idempotencySettle', { lua: SETTLE, numberOfKeys: 2 });
    redis.defineCommand('idempotencyEpoch', { lua: EPOCH_SCRIPT, numberOfKeys: 1 });
    this.commands = redis as unknown as IdempotencyCommands;
    redis.on('ready', this.onReady);
    this.retryTimer = setInterval(() => {
      if (this.pending.size > 0 && redis.status === 'ready') void this.writePending();
    }, PENDING_RETRY_MS);
    this.retryTimer.unref();
  }

  async claim(key: string, claim: Claim, { markMs, recordMs }: ClaimOptions): Promise<KeyState> {
    await this.connection.firstConnection;
    const keys = this.keys(key);
    if (this.pending.has(key)) await this.writePending(key);
    const { minReplicas, check } = this.options;
    const sent = await this.sendClaimFollowingCluster(keys, startedRecord(claim), recordMs, markMs);
    const { replies, epochKey } = sent;
    const [claimError, found] = replies[0] ?? [new Error('no reply to the claim'), null];
    if (claimError) return this.claimFailed(key, claim, claimError);
    if (epochKey !== null) {
      const [epochError, epoch] = replies[1] ?? [new Error('no reply'), null];
      if (!epochError) check.observeEpoch(epochKey, epoch as string | null);
    }
    if (found !== null) return stateOf(found as Found);
    const [waitError, acked] = replies[epochKey === null ? 1 : 2] ?? [null, 0];
    const replicas = waitError ? 0 : (acked as number);
    const refusal =
      check.refusal() ??
      (replicas < minReplicas
        ? new IdempotencyStoreUnavailable(`${replicas} of REDIS_MIN_REPLICAS=${minReplicas} replicas acknowledged the claim in time`, {
            reason: 'replication',
          })
        : null);
    if (refusal) {
      // Nothing was sent: the key is free again for the retry.
      await this.free(key, claim).catch(() => this.pendLater(key, { claim, settled: '', recordMs: 0 }));
      throw refusal;
    }
    return { status: 'free' };
  }

  /**
   * Sends the claim; on a Cluster, sends it again while the answer says it did not run because its
   * slot is moving (MOVED, ASK, TRYAGAIN; or ioredis refused the pipeline before sending it), within
   * REDIS_TIMEOUT_MS. ioredis follows these for a pipeline only when every command in it is
   * read-only, and WAIT is not.
   */
  private async sendClaimFollowingCluster(keys: Keys, started: string, recordMs: number, markMs: number) {
    let route: ClaimRoute = { node: null, asking: false, epoch: true };
    const deadline = Date.now() + this.options.timeoutMs;
    for (let attempt = 1; ; attempt++) {
      const sent = await this.sendClaim(keys, started, recordMs, markMs, route);
      if (!this.cluster || attempt >= MAX_CLAIM_REDIRECTIONS || Date.now() >= deadline) return sent;
      const message = sent.replies[0]?.[0]?.message ?? '';
      const redirected = /^(MOVED|ASK) \d+ (\S+)/.exec(message);
      if (redirected) {
        if (redirected[1] === 'MOVED') (this.connection.redis as Cluster).refreshSlotsCache();
        // ioredis' slot map does not know the node serves the slot yet: it would refuse another slot in the pipeline.
        route = { node: redirected[2]!, asking: redirected[1] === 'ASK', epoch: false };
      } else if (message.startsWith('TRYAGAIN')) {
        // A fresh key in a slot being imported: Redis runs a multi-key script there once the keys moved.
        await new Promise((resolve) => setTimeout(resolve, TRYAGAIN_DELAY_MS));
      } else if (message.includes('should belong to the same slots allocation group')) {
        route = { ...route, epoch: false };
      } else return sent;
    }
  }

  /**
   * One write, one round trip: the claim, the epoch read after it, the replicas' acknowledgement of
   * it (WAIT, keyless, goes with the pipeline to the node that ran the claim).
   */
  private async sendClaim(keys: Keys, started: string, recordMs: number, markMs: number, route: ClaimRoute) {
    const { minReplicas, timeoutMs, check } = this.options;
    const pipeline = this.connection.redis.pipeline() as unknown as ClaimPipeline;
    if (route.node !== null) (pipeline as unknown as { preferKey: string }).preferKey = route.node;
    if (route.asking) pipeline.asking();
    pipeline.idempotencyClaim(...keys, started, recordMs, markMs);
    // Without it (a redirected claim), the periodic check reads that master's epoch key.
    const epochKey = route.epoch ? check.epochKeyFor(keys[0]) : null;
    if (epochKey !== null) pipeline.get(epochKey);
    if (minReplicas > 0) pipeline.wait(minReplicas, timeoutMs);
    const replies = await pipeline.exec().then(
      (all) => (all ?? []).slice(route.asking ? 1 : 0),
      (error: Error) => [[error, null] as const],
    );
    return { replies, epochKey };
  }

  read(key: string): Promise<KeyState> {
    return this.send(() => this.commands.idempotencyRead(...this.keys(key))).then(stateOf);
  }

  async settle(key: string, claim: Claim, outcome: RecordedOutcome | null, recordMs: number): Promise<void> {
    const settled =
      outcome === null ? '' : JSON.stringify({ attempt: claim.attempt, tokenHash: claim.tokenHash, fingerprint: claim.fingerprint, outcome });
    try {
      await this.write(key, { claim, settled, recordMs });
    } catch (error) {
      // Written once Redis answers again: the outcome this request knows is never left unrecorded.
      this.pendLater(key, { claim, settled, recordMs });
      throw error;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.retryTimer);
    this.connection.redis.off('ready', this.onReady);
    this.options.check.close();
  }

  /**
   * A claim without an answer: unreachable or full, the claim did not run; otherwise its reply
   * may be lost after Redis ran it, so the key is read back (once the connection is up again)
   * and freed when this attempt holds it. Never an answer that is not true, and never a key
   * left started by a call that was not sent (a failed freeing is tried again until it works).
   */
  private async claimFailed(key: string, claim: Claim, error: Error): Promise<KeyState> {
    if (/^OOM /.test(error.message) || /\bOOM command not allowed\b/.test(error.message)) {
      throw new IdempotencyStoreUnavailable('the store is full (OOM command not allowed)', { reason: 'full', cause: error });
    }
    const unavailable = new IdempotencyStoreUnavailable(`redis: ${error.message}`, { cause: error });
    if (/Stream isn't writeable/.test(error.message)) throw unavailable;
    try {
      await this.ready();
      const found = await this.commands.idempotencyRead(...this.keys(key));
      if (found !== null && !found[0].startsWith(attemptOpening(claim))) return stateOf(found);
      if (found !== null) await this.free(key, claim);
    } catch {
      this.pendLater(key, { claim, settled: '', recordMs: 0 });
    }
    throw unavailable;
  }

  private free(key: string, claim: Claim): Promise<void> {
    return this.write(key, { claim, settled: '', recordMs: 0 });
  }

  /** Settles (or frees, settled '') the key if this attempt holds it; a record found gone is written back. */
  private async write(key: string, { claim, settled, recordMs }: PendingWrite): Promise<void> {
    const [record, mark] = this.keys(key);
    const result = await this.send(() => this.commands.idempotencySettle(record, mark, attemptOpening(claim), settled, recordMs));
    this.pending.delete(key);
    if (settled === '') return;
    if (result === 2) this.options.check.lost('a settle found its record gone (written back)');
    // Another attempt claimed the key while this one was in flight: only a loss of the record lets that happen.
    if (result === 0) this.options.check.lost('a settle found its key claimed by another attempt');
  }

  private pendLater(key: string, write: PendingWrite): void {
    if (this.pending.size >= MAX_PENDING_WRITES && !this.pending.has(key)) {
      this.options.check.logger.error('idempotency record not written and too many pending: it stays started', { pending: this.pending.size });
      return;
    }
    this.pending.set(key, write);
  }

  /** Writes what could not be written (or one key's): each only if its attempt still holds the key. */
  private async writePending(only?: string): Promise<void> {
    const entries = only === undefined ? [...this.pending] : [[only, this.pending.get(only)!] as const];
    await Promise.all(entries.map(([key, write]) => this.write(key, write).catch(() => {})));
  }

  /** Resolves once the connection is up, or throws after REDIS_TIMEOUT_MS. */
  private ready(): Promise<void> {
    const { redis } = this.connection;
    if (redis.status === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        redis.off('ready', up);
        reject(new Error('not reconnected in time'));
      }, this.options.timeoutMs);
      function up() {
        clearTimeout(timer);
        resolve();
      }
      redis.once('ready', up);
    });
  }

  private keys(key: string): Keys {
    const { prefix } = this.options;
    // One hash tag per key: a digest, since a client's key may itself hold braces.
    const tag = `${prefix}idempotency:{${createHash('sha256').update(key).digest('base64url')}}`;
    // On a Cluster the legacy names would be another slot (CROSSSLOT): the tagged ones stand in for them.
    if (this.cluster) return [tag, `${tag}:mark`, tag, `${tag}:mark`];
    return [tag, `${tag}:mark`, `${prefix}idempotency:${key}`, `${prefix}idempotency-mark:${key}`];
  }

  private async send<T>(command: () => Promise<T>): Promise<T> {
    await this.connection.firstConnection;
    try {
      return await command();
    } catch (error) {
      const message = (error as Error).message;
      const reason = /\bOOM command not allowed\b/.test(message) ? 'full' : 'unreachable';
      throw new IdempotencyStoreUnavailable(`redis: ${message}`, { cause: error, reason });
    }
  }
}

/** The started record, attempt first (settle compares the record's opening, no JSON parse in Lua). */
function startedRecord(claim: Claim): string {
  return JSON.stringify({ attempt: claim.attempt, tokenHash: claim.tokenHash, fingerprint: claim.fingerprint, outcome: null });
}

function attemptOpening(claim: Claim): string {
  return `{"attempt":${JSON.stringify(claim.attempt)}`;
}

function stateOf(found: Found): KeyState {
  return found === null ? { status: 'free' } : keyState(JSON.parse(found[0]) as StoredRecord, found[1]);
}
