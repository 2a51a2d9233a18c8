// Whether the Redis the gateway writes to can keep an award's record, and whether it kept it.
// Fitness (from INFO, at start-up and on every reconnect): nothing may be evicted
// (maxmemory-policy noeviction) and the data must survive a restart (an append-only file, or
// REDIS_MIN_REPLICAS >= 1). Loss (an epoch key of the gateway's own that vanished or changed,
// or a settle that finds its record gone): logged, counted, and keyed awards refused for as
// long as an award claimed before the loss may still be in flight.
// On a Cluster each master can lose its data alone: each has its own epoch key, hash-tagged into
// a slot it serves, checked every 2 s, and read beside each claim on the master taking the claim
// (ioredis pipelines commands of different slots when one master serves them all). Fitness is
// checked on every master, again whenever the Cluster's node list or slot map changes.

import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from '../redis/topology.js';
import type { Logger } from '../telemetry/logging.js';
import type { RedisConnection } from '../redis/client.js';
import { eachMaster } from '../redis/topology.js';
import { IdempotencyStoreUnavailable } from './store.js';

/** How often an idle gateway looks at the epoch key (one GET per master): a loss is logged and counted within this. */
const EPOCH_CHECK_MS = 2_000;

// ioredis' own slot function (CRC16 of the hash tag), the one its Cluster client routes by.
const keySlot = createRequire(import.meta.url)('cluster-key-slot') as (key: string) => number;

/** The store cannot keep money's records and production must not start on it: the message is the one line to print. */
export class UnfitStoreError extends Error {
  override name = 'UnfitStoreError';
}

export interface StoreCheckOptions {
  connection: RedisConnection;
  /** The gateway's own key; lives as long as the data does. */
  epochKey: string;
  /** Worst case from a claim to its settle: how long keyed awards are refused after a loss. */
  markMs: number;
  /** Production refuses an unfit store (exits at start-up, refuses keyed awards after a reconnect). */
  production: boolean;
  /** REDIS_UNSAFE_STORE: an unfit store is only warned about. */
  unsafe: boolean;
  /** REDIS_MIN_REPLICAS: replicas that acknowledge every claim (they stand in for persistence). */
  minReplicas: number;
  logger: Logger;
  /** Told of every loss detected (gateway_idempotency_store_resets_total). */
  onReset(): void;
}

/** The problems INFO shows for keeping awards' records (empty: fit). */
export function storeProblems(info: string, minReplicas: number): string[] {
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  const problems: string[] = [];
  const policy = field('maxmemory_policy');
  if (policy !== undefined && policy !== 'noeviction') {
    problems.push(`maxmemory-policy is ${policy}, so Redis may evict idempotency records: set maxmemory-policy noeviction`);
  }
  if (field('aof_enabled') !== '1' && minReplicas < 1) {
    problems.push(
      'appendonly is no and REDIS_MIN_REPLICAS is 0, so a restart of Redis loses every record: set appendonly yes (or REDIS_MIN_REPLICAS >= 1 with replicas)',
    );
  }
  return problems;
}

export class RedisStoreCheck {
  private readonly redis: RedisClient;
  /** The epoch this gateway last saw, per epoch key (one, or one per Cluster master); absent until read. */
  private readonly epochs = new Map<string, string>();
  /** Cluster: each master's epoch key and the slot it hashes to (valid while the master serves that slot). */
  private readonly clusterEpochKeys = new Map<string, { key: string; slot: number }>();
  private clusterCheckQueued = false;
  /** Until when keyed awards are refused after a loss (ms since the epoch). */
  private resetUntil = 0;
  /** Why the store is refused (production, after a reconnect found it unfit); null when it is not. */
  private unfit: string | null = null;
  /** The last problem line logged, so a reconnect to the same store does not log it again. */
  private lastProblem: string | null = null;
  private readonly firstCheck: Promise<string | null>;
  private resolveFirstCheck!: (line: string | null) => void;
  private checked = false;
  /** Start-up is over without a check: the first check's refusal is logged rather than printed by main.ts. */
  private startupPassed = false;
  private readonly timer: NodeJS.Timeout;
  private readonly onReady = () => void this.check();

  constructor(private readonly options: StoreCheckOptions) {
    this.redis = options.connection.redis;
    this.firstCheck = new Promise((resolve) => (this.resolveFirstCheck = resolve));
    this.redis.on('ready', this.onReady);
    // A new node, a node gone, a new slot map (a Cluster failover or resharding): check again.
    if (this.redis.isCluster) for (const event of ['+node', '-node', 'refresh']) this.redis.on(event, this.onTopologyChange);
    // Cheap (one GET per interval, whatever the traffic): a loss while idle is logged and counted.
    this.timer = setInterval(() => {
      if (this.redis.status === 'ready') void this.checkEpoch();
    }, EPOCH_CHECK_MS);
    this.timer.unref();
  }

  /**
   * The epoch key to read beside a claim of `key`: the one epoch key, or on a Cluster the epoch key
   * of the master that ioredis routes the key's slot to (null while the slot map is unknown).
   */
  epochKeyFor(key: string): string | null {
    if (!this.redis.isCluster) return this.options.epochKey;
    const master = (this.redis as Cluster).slots[keySlot(key)]?.[0];
    return master === undefined ? null : this.epochKeyOf(master);
  }

  /** A Cluster master's epoch key (`host:port` as ioredis names it), in a slot that master serves. */
  epochKeyOf(master: string): string | null {
    const slots = (this.redis as Cluster).slots;
    const known = this.clusterEpochKeys.get(master);
    if (known && slots[known.slot]?.[0] === master) return known.key;
    // The first of `<prefix>idempotency-epoch:{0}`, `{1}`, … whose slot this master serves (a few tries per master).
    for (let n = 0; n < 200_000; n++) {
      const key = `${this.options.epochKey}:{${n}}`;
      const slot = keySlot(key);
      if (slots[slot]?.[0] === master) {
        this.clusterEpochKeys.set(master, { key, slot });
        return key;
      }
    }
    return null;
  }

  private readonly onTopologyChange = () => {
    if (this.clusterCheckQueued) return;
    this.clusterCheckQueued = true;
    // One check for a burst of events (a refresh emits several).
    setTimeout(() => {
      this.clusterCheckQueued = false;
      if (this.redis.status === 'ready') void this.check();
    }, 100).unref();
  };

  get logger(): Logger {
    return this.options.logger;
  }

  /** On every (re)connection: fitness from INFO, then the epoch. */
  private async check(): Promise<void> {
    const line = await this.fitness();
    const first = !this.checked;
    this.checked = true;
    if (first) this.resolveFirstCheck(line);
    this.apply(line, first);
    await this.checkEpoch();
  }

  /**
   * At start-up: an unfit store stops a production gateway (UnfitStoreError, which start-up reports as the one
   * line and exits 1). A Redis not reachable yet is checked when it connects.
   */
  async startup(): Promise<void> {
    await this.options.connection.firstConnection;
    if (this.redis.status !== 'ready') {
      // Checked when Redis connects: a refusal then is logged (and keyed awards refused), not an exit.
      this.startupPassed = true;
      return;
    }
    const line = await this.firstCheck;
    if (line && this.refuses()) throw new UnfitStoreError(line);
  }

  /** Why a new claim must not be sent now (the store is unfit, or just lost its data); null when it may. */
  refusal(): IdempotencyStoreUnavailable | null {
    if (this.unfit) return new IdempotencyStoreUnavailable(this.unfit, { reason: 'unfit' });
    if (Date.now() < this.resetUntil) return new IdempotencyStoreUnavailable('the store lost its data moments ago', { reason: 'reset' });
    return null;
  }

  /** An epoch key's value read beside a claim: another value than the one this gateway knows is a loss. */
  observeEpoch(key: string, value: string | null): void {
    const known = this.epochs.get(key);
    if (known !== undefined && value !== known) {
      this.lost(`the epoch key ${key} vanished or changed`);
      // Written again by the next check; until then every claim counts the same loss once.
      if (value === null) {
        this.epochs.delete(key);
        void this.checkEpoch();
      } else this.epochs.set(key, value);
    }
  }

  /** A loss: logged as an error, counted, and keyed awards refused while earlier claims may be in flight. */
  lost(how: string): void {
    const now = Date.now();
    const already = now < this.resetUntil;
    this.resetUntil = now + this.options.markMs;
    if (already) return;
    this.options.onReset();
    this.options.logger.error('idempotency store lost its data', {
      how,
      refusingKeyedAwardsMs: this.options.markMs,
      advice: 'keys settled before the loss may be awarded again: keep appendonly yes (docs/operations.md)',
    });
  }

  close(): void {
    clearInterval(this.timer);
    this.redis.off('ready', this.onReady);
    if (this.redis.isCluster) for (const event of ['+node', '-node', 'refresh']) this.redis.off(event, this.onTopologyChange);
  }

  private refuses(): boolean {
    return this.options.production && !this.options.unsafe;
  }

  /** The problem line of the store now, from INFO of every master it writes to (null: fit). */
  private async fitness(): Promise<string | null> {
    const where = this.redis.isCluster ? 'Redis Cluster' : (this.redis as Redis).options.sentinels ? 'the Redis Sentinel master' : 'Redis at REDIS_URL';
    let infos: { master: string; info: string }[];
    try {
      infos = await eachMaster(this.options.connection, async (master: Redis) => ({
        master: `${master.options.host ?? ''}:${master.options.port ?? ''}`,
        info: (await Promise.all(['memory', 'persistence', 'replication', 'cluster'].map((section) => master.info(section)))).join('\n'),
      }));
    } catch (error) {
      return `${where} cannot be checked (INFO answered: ${(error as Error).message}): allow INFO for the gateway's user, or set REDIS_UNSAFE_STORE=true (unsafe for money).`;
    }
    const lines: string[] = [];
    for (const { master, info } of infos) {
      const replicas = Number(/^connected_slaves:(\d+)/m.exec(info)?.[1] ?? 0);
      if (replicas < this.options.minReplicas) {
        // Not a refusal here: every claim is refused (reason replication) until enough replicas acknowledge.
        this.options.logger.warn('fewer Redis replicas than REDIS_MIN_REPLICAS', { master, replicas, minReplicas: this.options.minReplicas });
      }
      const problems = storeProblems(info, this.options.minReplicas);
      // A Cluster node behind REDIS_URL or Sentinel: a plain client is answered MOVED for most keys.
      if (!this.redis.isCluster && /^cluster_enabled:1/m.test(info)) {
        problems.push('it is a Redis Cluster node (cluster_enabled:1), which answers MOVED to a plain client: list the nodes in REDIS_CLUSTER_NODES instead');
      }
      if (problems.length > 0) lines.push(`${this.redis.isCluster ? `${master}: ` : ''}${problems.join('; ')}`);
    }
    if (lines.length === 0) return null;
    return `${where} is not fit for idempotency records: ${lines.join('; ')}; or set REDIS_UNSAFE_STORE=true (unsafe for money).`;
  }

  private apply(line: string | null, first: boolean): void {
    const refuse = line !== null && this.refuses();
    // At start-up a refusal is main.ts's to print (one line, exit 1); after a reconnect keyed awards are refused instead.
    this.unfit = refuse ? line : null;
    if (line !== null && line !== this.lastProblem && !(first && refuse && !this.startupPassed)) {
      if (refuse) this.options.logger.error('idempotency store unfit: keyed awards are refused', { problem: line });
      else this.options.logger.warn('idempotency store unsafe for money', { problem: line });
    }
    this.lastProblem = line;
  }

  /** Reads each epoch key (writing one when there is none): another value than the known one is a loss. */
  private async checkEpoch(): Promise<void> {
    let keys: string[];
    if (this.redis.isCluster) {
      const masters = new Set((this.redis as Cluster).slots.map((nodes) => nodes?.[0]).filter((m): m is string => m !== undefined));
      keys = [...masters].map((master) => this.epochKeyOf(master)).filter((k): k is string => k !== null);
      // A master gone, or its slots moved: its epoch key is no longer this gateway's to watch.
      for (const [master] of this.clusterEpochKeys) if (!masters.has(master)) this.clusterEpochKeys.delete(master);
      for (const key of this.epochs.keys()) if (!keys.includes(key)) this.epochs.delete(key);
    } else keys = [this.options.epochKey];
    await Promise.all(
      keys.map(async (key) => {
        try {
          const value = await (this.redis as unknown as EpochCommand).idempotencyEpoch(key, randomUUID());
          const known = this.epochs.get(key);
          if (known !== undefined && value !== known) this.lost(`the epoch key ${key} vanished or changed`);
          this.epochs.set(key, value);
        } catch {
          // Unreachable or full: the next check (or claim) tells.
        }
      }),
    );
  }
}

// KEYS: epoch. ARGV: a new epoch. Answers the epoch, writing ARGV[1] when there is none.
export const EPOCH_SCRIPT = `
local epoch = redis.call('GET', KEYS[1])
if epoch then return epoch end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
`;

interface EpochCommand {
  idempotencyEpoch(key: string, candidate: string): Promise<string>;
}
