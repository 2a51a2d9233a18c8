// Whether the Redis the gateway writes to can keep an award's record, and whether it kept it.
// Fitness (from INFO, at start-up and on every reconnect): nothing may be evicted
// (maxmemory-policy noeviction) and the data must survive a restart (an append-only file, or
// REDIS_MIN_REPLICAS >= 1). Loss (an epoch key of the gateway's own that vanished or changed,
// or a settle that finds its record gone): logged, counted, and keyed awards refused for as
// long as an award claimed before the loss may still be in flight.

import { randomUUID } from 'node:crypto';
import type { RedisClient } from './redis-topology.js';
import type { Logger } from '../logging.js';
import { StartupError } from '../startup.js';
import type { RedisConnection } from './redis-client.js';
import { IdempotencyStoreUnavailable } from './store.js';

/** How often an idle gateway looks at the epoch key (one GET): a loss is logged and counted within this. */
const EPOCH_CHECK_MS = 2_000;

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
  /** The epoch this gateway last saw; null until read. */
  private epoch: string | null = null;
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
    // Cheap (one GET per interval, whatever the traffic): a loss while idle is logged and counted.
    this.timer = setInterval(() => {
      if (this.redis.status === 'ready') void this.checkEpoch();
    }, EPOCH_CHECK_MS);
    this.timer.unref();
  }

  get epochKey(): string {
    return this.options.epochKey;
  }

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
   * At start-up: an unfit store stops a production gateway (StartupError: main.ts prints the one
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
    if (line && this.refuses()) throw new StartupError(line);
  }

  /** Why a new claim must not be sent now (the store is unfit, or just lost its data); null when it may. */
  refusal(): IdempotencyStoreUnavailable | null {
    if (this.unfit) return new IdempotencyStoreUnavailable(this.unfit, { reason: 'unfit' });
    if (Date.now() < this.resetUntil) return new IdempotencyStoreUnavailable('the store lost its data moments ago', { reason: 'reset' });
    return null;
  }

  /** The epoch key's value read beside a claim: another value than the one this gateway knows is a loss. */
  observeEpoch(value: string | null): void {
    if (this.epoch !== null && value !== this.epoch) {
      this.lost('the epoch key vanished or changed');
      // Written again by the next check; until then every claim counts the same loss once.
      this.epoch = value;
      if (value === null) void this.checkEpoch();
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
  }

  private refuses(): boolean {
    return this.options.production && !this.options.unsafe;
  }

  /** The problem line of the store now (null: fit). */
  private async fitness(): Promise<string | null> {
    let info: string;
    try {
      info = (await Promise.all(['memory', 'persistence', 'replication'].map((section) => this.redis.info(section)))).join('\n');
    } catch (error) {
      return `Redis at REDIS_URL cannot be checked (INFO answered: ${(error as Error).message}): allow INFO for the gateway's user, or set REDIS_UNSAFE_STORE=true (unsafe for money).`;
    }
    const replicas = Number(/^connected_slaves:(\d+)/m.exec(info)?.[1] ?? 0);
    if (replicas < this.options.minReplicas) {
      // Not a refusal here: every claim is refused (reason replication) until enough replicas acknowledge.
      this.options.logger.warn('fewer Redis replicas than REDIS_MIN_REPLICAS', { replicas, minReplicas: this.options.minReplicas });
    }
    const problems = storeProblems(info, this.options.minReplicas);
    if (problems.length === 0) return null;
    return `Redis at REDIS_URL is not fit for idempotency records: ${problems.join('; ')}; or set REDIS_UNSAFE_STORE=true (unsafe for money).`;
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

  /** Reads the epoch key (writing one when there is none): another value than the known one is a loss. */
  private async checkEpoch(): Promise<void> {
    try {
      const value = await (this.redis as unknown as EpochCommand).idempotencyEpoch(this.options.epochKey, randomUUID());
      if (this.epoch === null) this.epoch = value;
      else if (value !== this.epoch) {
        this.lost('the epoch key vanished or changed');
        this.epoch = value;
      }
    } catch {
      // Unreachable or full: the next check (or claim) tells.
    }
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
