// Persisted operations, two modes chosen by configuration:
// - automatic persisted queries (default): a client sends a sha256 hash first and the document
//   only when the gateway answers PersistedQueryNotFound (Apollo Client's persisted-queries
//   link, urql's persistedExchange); the gateway keeps documents it has checked against their hash,
//   in memory (bounded by bytes) or, with REDIS_URL, in Redis so that every instance knows them.
// - trusted documents (TRUSTED_DOCUMENTS_FILE): only the listed operations run, by hash; any
//   document sent in full is refused.

import { createHash } from 'node:crypto';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import type { Plugin } from 'graphql-yoga';
import type { GatewayConfig } from '../app/config.js';
import type { RedisConnection } from '../redis/client.js';
import { codedError } from '../errors/factory.js';
import { ErrorCode } from '../errors/registry.js';

/** How long Redis keeps a registered document after its last registration. */
const APQ_REDIS_TTL_S = 7 * 86_400;

/**
 * Bytes a stored document costs beyond its text (its key, the map or index entries, its size): a
 * flood of tiny documents is bounded by APQ_MAX_BYTES as well as one of large ones.
 */
export const APQ_ENTRY_BYTES = 1024;

/** Where APQ documents are kept; a store that cannot answer says "not found" (the client then sends the document). */
export interface PersistedQueryStore {
  get(hash: string): Promise<string | null>;
  set(hash: string, document: string): Promise<void>;
}

export function usePersistedOperationModes(
  config: Pick<GatewayConfig, 'trustedDocuments' | 'idempotency'>,
  redis: RedisConnection | null,
): Plugin[] {
  const { trustedDocuments } = config;
  if (trustedDocuments) {
    return [
      usePersistedOperations({
        getPersistedOperation: (hash) => trustedDocuments.get(hash) ?? null,
        allowArbitraryOperations: false,
        customErrors: {
          // Not "PersistedQueryNotFound": that makes APQ clients retry with the document, in vain here.
          notFound: { message: 'This operation is not in the trusted documents.', extensions: { code: ErrorCode.PERSISTED_QUERY_NOT_IN_LIST } },
          persistedQueryOnly: { message: 'Only trusted documents run here: send a listed hash.', extensions: { code: ErrorCode.PERSISTED_QUERY_ONLY } },
        },
      }),
    ];
  }
  const { apqMaxDocumentBytes, apqMaxBytes, redisKeyPrefix } = config.idempotency;
  const documents = redis ? new RedisPersistedQueryStore(redis, redisKeyPrefix, apqMaxBytes) : new MemoryPersistedQueryStore(apqMaxBytes);
  return [
    useAutomaticPersistedQueryRegistration(documents, apqMaxDocumentBytes),
    usePersistedOperations({
      getPersistedOperation: (hash) => documents.get(hash),
      allowArbitraryOperations: true,
      // The message and code Apollo Client and urql look for before sending the document.
      customErrors: { notFound: { message: 'PersistedQueryNotFound', extensions: { code: ErrorCode.PERSISTED_QUERY_NOT_FOUND } } },
    }),
  ];
}

/**
 * Stores a document sent with its hash, once the hash is checked: a client cannot poison another's
 * hash. A document larger than maxDocumentBytes runs but is not stored (its client keeps sending it).
 */
function useAutomaticPersistedQueryRegistration(documents: PersistedQueryStore, maxDocumentBytes: number): Plugin {
  return {
    async onParams({ params }) {
      const hash = persistedQueryHash(params.extensions);
      if (hash === null || typeof params.query !== 'string') return;
      if (createHash('sha256').update(params.query).digest('hex') !== hash) {
        throw codedError(ErrorCode.PERSISTED_QUERY_HASH_MISMATCH, 'PersistedQueryHashMismatch', { http: { status: 400 } });
      }
      if (Buffer.byteLength(params.query) <= maxDocumentBytes) await documents.set(hash, params.query);
    },
  };
}

/** Per process; the oldest registrations go first once the documents' bytes would pass maxBytes. */
export class MemoryPersistedQueryStore implements PersistedQueryStore {
  private readonly documents = new Map<string, string>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  async get(hash: string): Promise<string | null> {
    return this.documents.get(hash) ?? null;
  }

  async set(hash: string, document: string): Promise<void> {
    this.delete(hash);
    const size = Buffer.byteLength(document) + APQ_ENTRY_BYTES;
    if (size > this.maxBytes) return;
    for (const oldest of this.documents.keys()) {
      if (this.bytes + size <= this.maxBytes) break;
      this.delete(oldest);
    }
    this.documents.set(hash, document);
    this.bytes += size;
  }

  /** Bytes charged for the documents held, APQ_ENTRY_BYTES each included (for tests of the bound). */
  get size(): number {
    return this.bytes;
  }

  private delete(hash: string): void {
    const document = this.documents.get(hash);
    if (document === undefined) return;
    this.bytes -= Buffer.byteLength(document) + APQ_ENTRY_BYTES;
    this.documents.delete(hash);
  }
}

// KEYS: the document, the index (sorted set: hash -> last registration, ms), the sizes (hash:
// hash -> bytes charged), the byte counter. ARGV: hash, document, max bytes, TTL ms, bytes a
// document costs beyond its text, the prefix of documents' keys.
// Registers the document within the budget, atomically for every instance: documents whose TTL
// passed leave the index, then the oldest registrations go until the new one fits. It touches APQ
// keys only (never an idempotency record), and never relies on Redis's own eviction. Answers 1 when
// stored, 0 when the document alone exceeds the budget.
const REGISTER = `
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local maxBytes, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local size = string.len(ARGV[2]) + tonumber(ARGV[5])
local function forget(hash)
  local charged = redis.call('HGET', KEYS[3], hash)
  if charged then
    redis.call('DECRBY', KEYS[4], charged)
    redis.call('HDEL', KEYS[3], hash)
  end
  redis.call('ZREM', KEYS[2], hash)
  redis.call('DEL', ARGV[6] .. hash)
end
for _, hash in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', nowMs - ttl, 'LIMIT', 0, 16)) do forget(hash) end
forget(ARGV[1])
if size > maxBytes then return 0 end
local bytes = tonumber(redis.call('GET', KEYS[4]) or '0')
while bytes + size > maxBytes do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)
  if #oldest == 0 then
    -- A counter with no document left to account for it (its keys were lost): start it again.
    redis.call('SET', KEYS[4], 0)
    bytes = 0
  else
    forget(oldest[1])
    bytes = tonumber(redis.call('GET', KEYS[4]) or '0')
  end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
redis.call('HSET', KEYS[3], ARGV[1], size)
redis.call('ZADD', KEYS[2], nowMs, ARGV[1])
redis.call('INCRBY', KEYS[4], size)
return 1
`;

interface RegisterCommand {
  apqRegister(document: string, index: string, sizes: string, counter: string, ...args: (string | number)[]): Promise<number>;
}

/**
 * Shared by every instance on one Redis, within APQ_MAX_BYTES for all of them together; each
 * command bounded by REDIS_TIMEOUT_MS, a failure is "not found". Every key carries one hash tag
 * ({apq}), so the registration script's keys sit in one Redis Cluster slot.
 */
export class RedisPersistedQueryStore implements PersistedQueryStore {
  private readonly keyPrefix: string;

  constructor(
    private readonly connection: RedisConnection,
    prefix: string,
    private readonly maxBytes: number,
  ) {
    this.keyPrefix = `${prefix}apq:{apq}:`;
    connection.redis.defineCommand('apqRegister', { lua: REGISTER, numberOfKeys: 4 });
  }

  async get(hash: string): Promise<string | null> {
    await this.connection.firstConnection;
    return this.connection.redis.get(this.documentKey(hash)).catch(() => null);
  }

  async set(hash: string, document: string): Promise<void> {
    await this.connection.firstConnection;
    const { redis } = this.connection as unknown as { redis: RegisterCommand };
    const [index, sizes, counter] = ['index', 'sizes', 'bytes'].map((name) => `${this.keyPrefix}${name}`) as [string, string, string];
    await redis
      .apqRegister(this.documentKey(hash), index, sizes, counter, hash, document, this.maxBytes, APQ_REDIS_TTL_S * 1000, APQ_ENTRY_BYTES, `${this.keyPrefix}doc:`)
      .catch(() => {});
  }

  private documentKey(hash: string): string {
    return `${this.keyPrefix}doc:${hash}`;
  }
}

function persistedQueryHash(extensions: Record<string, unknown> | undefined): string | null {
  const persisted = extensions?.persistedQuery as { version?: unknown; sha256Hash?: unknown } | undefined;
  return persisted?.version === 1 && typeof persisted.sha256Hash === 'string' ? persisted.sha256Hash : null;
}
