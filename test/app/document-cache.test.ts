// Yoga's parse cache is bounded by bytes: documents longer than 32 KiB are parsed for their
// request only. Many distinct large documents (a long comment and `{ __typename }`, each new)
// leave the heap where it was; short ones are still cached.

import { expect, test } from 'vitest';
import { boundedParserCache, MAX_CACHED_DOCUMENT_LENGTH } from '../../src/app/document-cache.js';
import { useGatewayOn } from '../support/gateway.js';
import { heldMemory } from '../support/memory.js';
import { startScriptableUpstream } from '../support/scriptable-upstream.js';

const { gw } = useGatewayOn(startScriptableUpstream);

test('80 distinct 500 KB documents: the heap grows by far less than what they would pin', async () => {
  const padding = 'x'.repeat(500_000);
  const ask = (i: number) => gw.graphql({ query: `# ${i} ${padding}\n{ __typename }` }, { token: null });
  expect((await ask(-1)).body).toEqual({ data: { __typename: 'Query' } });
  const before = heldMemory();
  for (let i = 0; i < 80; i += 4) {
    const answers = await Promise.all([i, i + 1, i + 2, i + 3].map(ask));
    for (const answer of answers) expect(answer.body).toEqual({ data: { __typename: 'Query' } });
  }
  const grown = heldMemory() - before;
  // Cached, they would hold 80 × 500 KB = 40 MB of source text, a ratio of at least 1 (1.6 measured
  // with the unbounded cache); bounded, what is left is allocator noise (0.05 on a quiet machine,
  // up to 0.26 measured while other test files run beside it).
  expect(grown / (80 * padding.length)).toBeLessThan(0.5);
});

test('documents up to the bound are cached, longer ones are not', () => {
  const { documentCache } = boundedParserCache();
  const document = { kind: 'Document', definitions: [] } as never;
  const short = `{ __typename }${' '.repeat(MAX_CACHED_DOCUMENT_LENGTH - 14)}`;
  documentCache.set(short, document);
  documentCache.set(`${short} `, document);
  expect(documentCache.get(short)).toBe(document);
  expect(documentCache.get(`${short} `)).toBeUndefined();
});
