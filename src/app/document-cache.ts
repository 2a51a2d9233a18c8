// Yoga's parse cache, bounded by bytes as well as by count: a document longer than
// MAX_CACHED_DOCUMENT_LENGTH is parsed for its own request only and never kept (a parsed
// document holds its whole source text, comments included). The fast lane admits documents
// up to the same length.

import { createLRUCache } from 'graphql-yoga';
import type { DocumentNode } from 'graphql';

/** Characters of operation text a cached (or fast-lane-admitted) document may have. */
export const MAX_CACHED_DOCUMENT_LENGTH = 32 * 1024;
/** Documents (and parse errors) kept; so at most 1,000 × 32 KiB of text each. */
const MAX_CACHED_DOCUMENTS = 1000;

interface Cache<T> {
  get(key: string): T | undefined;
  set(key: string, value: T): void;
}

function shortKeysOnly<T extends object>(): Cache<T> {
  const cache = createLRUCache<T>({ max: MAX_CACHED_DOCUMENTS });
  return {
    get: (key) => cache.get(key),
    set: (key, value) => {
      if (key.length <= MAX_CACHED_DOCUMENT_LENGTH) cache.set(key, value);
    },
  };
}

/** Yoga's `parserAndValidationCache` option. Validation results are kept per cached document (a WeakMap in Yoga). */
export function boundedParserCache() {
  return { documentCache: shortKeysOnly<DocumentNode>(), errorCache: shortKeysOnly<object>(), validationCache: true };
}
