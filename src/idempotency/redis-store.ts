// The shared store: every gateway instance on one Redis sees the same keys. A key is two Redis
// keys: the record (JSON of the claim and, once settled, its outcome; lives IDEMPOTENCY_TTL_S)
// and the in-flight mark (lives the upstream deadline plus a margin). Claiming and settling are
// Lua scripts, so two instances racing on one key cannot both claim it.

import { hashToken } from './keys.js';
import type { RedisConnection } from './redis-client.js';
import { IdempotencyStoreUnavailable, keyState } from './store.js';
import type { Claim, ClaimOptions, IdempotencyStore, KeyState, RecordedOutcome, StoredRecord } from './store.js';

// KEYS: record, mark. ARGV: started record JSON, record ms, mark ms.
// Answers nil when this call claimed the key, else {record JSON, mark's remaining ms}.
const CLAIM = `
local existing = redis.call('GET', KEYS[1])
if existing then return {existing, redis.call('PTTL', KEYS[2])} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
return false
`;

// KEYS: record, mark. Answers nil or {record JSON, mark's remaining ms}.
const READ = `
local existing = redis.call('GET', KEYS[1])
if existing then return {existing, redis.call('PTTL', KEYS[2])} end
return false
`;

// KEYS: record, mark. ARGV: attempt, settled record JSON ('' frees the key), record ms.
// Only the attempt that claimed the key settles it.
const SETTLE = `
local existing = redis.call('GET', KEYS[1])
if not existing or cjson.decode(existing).attempt ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
redis.call('DEL', KEYS[2])
return 1
`;

type Found = [record: string, markRemainingMs: number] | null;

interface IdempotencyCommands {
  idempotencyClaim(record: string, mark: string, started: string, recordMs: number, markMs: number): Promise<Found>;
  idempotencyRead(record: string, mark: string): Promise<Found>;
  idempotencySettle(record: string, mark: string, attempt: string, settled: string, recordMs: number): Promise<number>;
}

export class RedisIdempotencyStore implements IdempotencyStore {
  private readonly commands: IdempotencyCommands;

  constructor(
    private readonly connection: RedisConnection,
    private readonly prefix: string,
  ) {
    const { redis } = connection;
    redis.defineCommand('idempotencyClaim', { lua: CLAIM, numberOfKeys: 2 });
    redis.defineCommand('idempotencyRead', { lua: READ, numberOfKeys: 2, readOnly: true });
    redis.defineCommand('idempotencySettle', { lua: SETTLE, numberOfKeys: 2 });
    this.commands = redis as unknown as IdempotencyCommands;
  }

  claim(key: string, claim: Claim, { markMs, recordMs }: ClaimOptions): Promise<KeyState> {
    const started: StoredRecord = { ...claim, outcome: null };
    return this.found(() => this.commands.idempotencyClaim(...this.keys(key), JSON.stringify(started), recordMs, markMs));
  }

  read(key: string): Promise<KeyState> {
    return this.found(() => this.commands.idempotencyRead(...this.keys(key)));
  }

  async settle(key: string, claim: Claim, outcome: RecordedOutcome | null, recordMs: number): Promise<void> {
    const settled = outcome === null ? '' : JSON.stringify({ ...claim, outcome } satisfies StoredRecord);
    await this.send(() => this.commands.idempotencySettle(...this.keys(key), claim.attempt, settled, recordMs));
  }

  async close(): Promise<void> {}

  // One hash tag for every key a script touches, so a Cluster keeps them in one slot. The tag is a
  // hash of the key: a client's key may itself contain braces, which would change the tag.
  private keys(key: string): [record: string, mark: string] {
    const tag = hashToken(key).slice(0, 16);
    return [`${this.prefix}idempotency:{${tag}}${key}`, `${this.prefix}idempotency-mark:{${tag}}${key}`];
  }

  private async found(command: () => Promise<Found>): Promise<KeyState> {
    const found = await this.send(command);
    return found === null ? { status: 'free' } : keyState(JSON.parse(found[0]) as StoredRecord, found[1]);
  }

  private async send<T>(command: () => Promise<T>): Promise<T> {
    await this.connection.firstConnection;
    try {
      return await command();
    } catch (error) {
      throw new IdempotencyStoreUnavailable(`redis: ${(error as Error).message}`, { cause: error });
    }
  }
}
