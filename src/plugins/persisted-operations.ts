// Persisted operations, two modes chosen by configuration:
// - automatic persisted queries (default): a client sends a sha256 hash first and the document
//   only when the gateway answers PersistedQueryNotFound (Apollo Client's persisted-queries
//   link, urql's persistedExchange); the gateway keeps documents it has checked against their hash.
// - trusted documents (TRUSTED_DOCUMENTS_FILE): only the listed operations run, by hash; any
//   document sent in full is refused.

import { createHash } from 'node:crypto';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { createGraphQLError } from 'graphql-yoga';
import type { Plugin } from 'graphql-yoga';

/** Documents registered by automatic persisted queries; the oldest go first beyond this many. */
const APQ_MAX_DOCUMENTS = 1000;

export function usePersistedOperationModes(trustedDocuments: ReadonlyMap<string, string> | null): Plugin[] {
  if (trustedDocuments) {
    return [
      usePersistedOperations({
        getPersistedOperation: (hash) => trustedDocuments.get(hash) ?? null,
        allowArbitraryOperations: false,
        customErrors: {
          // Not "PersistedQueryNotFound": that makes APQ clients retry with the document, in vain here.
          notFound: { message: 'This operation is not in the trusted documents.', extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' } },
          persistedQueryOnly: { message: 'Only trusted documents run here: send a listed hash.', extensions: { code: 'PERSISTED_QUERY_ONLY' } },
        },
      }),
    ];
  }
  const documents = new Map<string, string>();
  return [
    useAutomaticPersistedQueryRegistration(documents),
    usePersistedOperations({
      getPersistedOperation: (hash) => documents.get(hash) ?? null,
      allowArbitraryOperations: true,
      // The message and code Apollo Client and urql look for before sending the document.
      customErrors: { notFound: { message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } } },
    }),
  ];
}

/** Stores a document sent with its hash, once the hash is checked: a client cannot poison another's hash. */
function useAutomaticPersistedQueryRegistration(documents: Map<string, string>): Plugin {
  return {
    onParams({ params }) {
      const hash = persistedQueryHash(params.extensions);
      if (hash === null || typeof params.query !== 'string' || documents.has(hash)) return;
      if (createHash('sha256').update(params.query).digest('hex') !== hash) {
        throw createGraphQLError('PersistedQueryHashMismatch', {
          extensions: { code: 'PERSISTED_QUERY_HASH_MISMATCH', http: { status: 400 } },
        });
      }
      if (documents.size >= APQ_MAX_DOCUMENTS) documents.delete(documents.keys().next().value as string);
      documents.set(hash, params.query);
    },
  };
}

function persistedQueryHash(extensions: Record<string, unknown> | undefined): string | null {
  const persisted = extensions?.persistedQuery as { version?: unknown; sha256Hash?: unknown } | undefined;
  return persisted?.version === 1 && typeof persisted.sha256Hash === 'string' ? persisted.sha256Hash : null;
}
