// Persisted operations, two modes chosen by configuration:
// - automatic persisted queries (default): a client sends a sha256 hash first and the document
//   only when the gateway answers PersistedQueryNotFound (Apollo Client's persisted-queries
//   link, urql's persistedExchange); the gateway keeps documents it has checked against their hash,
//   in memory (bounded by bytes) or, with REDIS_URL, in Redis so that every instance knows them.
// - trusted documents (TRUSTED_DOCUMENTS_FILE): only the listed operations run, by hash; any
//   document sent in full is refused.

import { createHash } from 'node:crypto';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { createGraphQLError } from 'graphql-yoga';
import type { Plugin } from 'graphql-yoga';
import type { GatewayConfig } from '../config.js';
import type { RedisConnection } from '../idempotency/redis-client.js';
import { ErrorCode } from '../errors/registry.js';

/** How long Redis keeps a registered document after its last registration. */
const APQ_REDIS_TTL_S = 7 * 86_400;

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
  const documents = redis ? new RedisPersistedQueryStore(redis, redisKeyPrefix) : new MemoryPersistedQueryStore(apqMaxBytes);
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
        throw createGraphQLError('PersistedQueryHashMismatch', {
          extensions: { code: ErrorCode.PERSISTED_QUERY_HASH_MISMATCH, http: { status: 400 } },
        });
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
    const size = Buffer.byteLength(document);
    if (size > this.maxBytes) return;
    for (const oldest of this.documents.keys()) {
      if (this.bytes + size <= this.maxBytes) break;
      this.delete(oldest);
    }
    this.documents.set(hash, document);
    this.bytes += size;
  }

  /** Bytes of the documents held (for tests of the bound). */
  get size(): number {
    return this.bytes;
  }

  private delete(hash: string): void {
    const document = this.documents.get(hash);
    if (document === undefined) return;
    this.bytes -= Buffer.byteLength(document);
    this.documents.delete(hash);
  }
}

/** Shared by every instance on one Redis; each command bounded by REDIS_TIMEOUT_MS, a failure is "not found". */
class RedisPersistedQueryStore implements PersistedQueryStore {
  constructor(
    private readonly connection: RedisConnection,
    private readonly prefix: string,
  ) {}

  async get(hash: string): Promise<string | null> {
    await this.connection.firstConnection;
    return this.connection.redis.get(this.key(hash)).catch(() => null);
  }

  async set(hash: string, document: string): Promise<void> {
    await this.connection.firstConnection;
    await this.connection.redis.set(this.key(hash), document, 'EX', APQ_REDIS_TTL_S).catch(() => {});
  }

  private key(hash: string): string {
    return `${this.prefix}apq:${hash}`;
  }
}

function persistedQueryHash(extensions: Record<string, unknown> | undefined): string | null {
  const persisted = extensions?.persistedQuery as { version?: unknown; sha256Hash?: unknown } | undefined;
  return persisted?.version === 1 && typeof persisted.sha256Hash === 'string' ? persisted.sha256Hash : null;
}
