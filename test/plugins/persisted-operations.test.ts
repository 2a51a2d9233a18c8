// Automatic persisted queries as Apollo Client's persisted-queries link sends them, and the
// trusted-documents mode (TRUSTED_DOCUMENTS_FILE), end to end over real sockets.

import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApolloClient, CombinedGraphQLErrors, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { print } from 'graphql';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { startGateway, TEST_TOKEN } from '../support/gateway.js';
import type { TestGateway } from '../support/gateway.js';
import { startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream } from '../support/scriptable-upstream.js';
import { APQ_ENTRY_BYTES, MemoryPersistedQueryStore } from '../../src/plugins/persisted-operations.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const ADD = gql`
  mutation Add($ambassadorId: ID!) {
    addChallengeHistory(ambassadorId: $ambassadorId, input: { points: 42, score: 12.5 }) {
      __typename
      ... on AddChallengeHistorySuccess { challengeHistory { id } }
    }
  }
`;

let upstream: ScriptableUpstream;
beforeAll(async () => {
  upstream = await startScriptableUpstream();
});
afterAll(() => upstream.close());
beforeEach(() => upstream.reset());

/** Apollo Client with the persisted-queries link, and the bodies its HttpLink sent (recorded, then really fetched). */
function apolloWithPersistedQueries(gw: TestGateway) {
  const sent: { query?: string; extensions?: { persistedQuery?: { sha256Hash: string } } }[] = [];
  const recordingFetch: typeof fetch = (input, init) => {
    sent.push(JSON.parse(String(init?.body)));
    return fetch(input, init);
  };
  const client = new ApolloClient({
    link: new PersistedQueryLink({ sha256 }).concat(
      new HttpLink({ uri: gw.url.href, headers: { authorization: `Bearer ${TEST_TOKEN}` }, fetch: recordingFetch }),
    ),
    cache: new InMemoryCache(),
  });
  return { client, sent };
}

test('APQ: the hash alone first, the document after PersistedQueryNotFound, then the hash alone is enough', async () => {
  const gw = await startGateway({ upstreamUrl: upstream.url });
  try {
    const { client, sent } = apolloWithPersistedQueries(gw);

    const first = await client.mutate({ mutation: ADD, variables: { ambassadorId: '7' } });
    expect(first.data).toMatchObject({ addChallengeHistory: { __typename: 'AddChallengeHistorySuccess' } });
    expect(sent).toHaveLength(2);
    const hash = sent[0]!.extensions!.persistedQuery!.sha256Hash;
    expect(sent[0]!.query).toBeUndefined();
    expect(sent[1]!.query).toBeDefined();
    expect(sha256(sent[1]!.query!)).toBe(hash);

    const second = await client.mutate({ mutation: ADD, variables: { ambassadorId: '8' } });
    expect(second.data).toMatchObject({ addChallengeHistory: { __typename: 'AddChallengeHistorySuccess' } });
    expect(sent).toHaveLength(3);
    expect(sent[2]).toMatchObject({ extensions: { persistedQuery: { sha256Hash: hash } } });
    expect(sent[2]!.query).toBeUndefined();

    // Two mutations, two upstream POSTs: the PersistedQueryNotFound round trip executed nothing.
    expect(upstream.requests.map((r) => r.url)).toEqual([
      '/api/v2/manager/ambassadors/7/challenge-histories',
      '/api/v2/manager/ambassadors/8/challenge-histories',
    ]);

    // A document whose hash does not match is not stored (nor run).
    const forged = await gw.graphql({ query: '{ __typename }', extensions: { persistedQuery: { version: 1, sha256Hash: sha256('other') } } });
    expect(forged.body.errors[0].extensions.code).toBe('PERSISTED_QUERY_HASH_MISMATCH');
  } finally {
    await gw.close();
  }
});

test('trusted documents: only listed operations run, by hash; documents sent in full and unknown hashes are refused', async () => {
  // The manifest a build step writes: the document exactly as the client sends it (Apollo adds __typename).
  const listed = print(new InMemoryCache().transformDocument(ADD));
  const dir = mkdtempSync(join(tmpdir(), 'trusted-documents-'));
  const file = join(dir, 'persisted-documents.json');
  writeFileSync(file, JSON.stringify({ [sha256(listed)]: listed }));

  const gw = await startGateway({ upstreamUrl: upstream.url, env: { TRUSTED_DOCUMENTS_FILE: file } });
  try {
    const { client, sent } = apolloWithPersistedQueries(gw);
    const listedRun = await client.mutate({ mutation: ADD, variables: { ambassadorId: '7' } });
    expect(listedRun.data).toMatchObject({ addChallengeHistory: { __typename: 'AddChallengeHistorySuccess' } });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.query).toBeUndefined();

    const arbitrary = await gw.graphql({ query: print(ADD), variables: { ambassadorId: '7' } });
    expect(arbitrary.body.errors[0].extensions.code).toBe('PERSISTED_QUERY_ONLY');

    const unknown = await gw.graphql({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ __typename }') } } });
    expect(unknown.body.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');

    // Apollo's link, with an operation not in the list: refused at once, no retry with the document.
    const other = gql`mutation Other { addChallengeHistory(ambassadorId: "9", input: { points: 1, score: 1 }) { __typename } }`;
    const refused: unknown = await client.mutate({ mutation: other }).catch((e: unknown) => e);
    expect(CombinedGraphQLErrors.is(refused) && refused.errors[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    expect(sent).toHaveLength(2);

    expect(upstream.requests).toHaveLength(1);
  } finally {
    await gw.close();
  }
});

test('APQ: a document above APQ_MAX_DOCUMENT_BYTES runs but is not stored; the store keeps at most APQ_MAX_BYTES', async () => {
  const gw = await startGateway({ upstreamUrl: upstream.url, env: { APQ_MAX_DOCUMENT_BYTES: '1024' } });
  try {
    const large = `# ${'x'.repeat(2000)}\n{ __typename }`;
    const persistedQuery = { version: 1, sha256Hash: sha256(large) };
    const sent = await gw.graphql({ query: large, extensions: { persistedQuery } });
    expect(sent.body).toEqual({ data: { __typename: 'Query' } });
    const byHash = await gw.graphql({ extensions: { persistedQuery } });
    expect(byHash.body.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');

    const small = '{ __typename }';
    await gw.graphql({ query: small, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(small) } } });
    const smallByHash = await gw.graphql({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256(small) } } });
    expect(smallByHash.body).toEqual({ data: { __typename: 'Query' } });
  } finally {
    await gw.close();
  }
});

test('APQ memory store: the oldest documents go first once their bytes (APQ_ENTRY_BYTES each included) would pass the bound', async () => {
  const bound = 2 * APQ_ENTRY_BYTES + 100;
  const store = new MemoryPersistedQueryStore(bound);
  const documents = ['a', 'b', 'c', 'd'].map((name) => `{ ${name}: __typename ${'#'.repeat(30)} }`);
  for (const [i, document] of documents.entries()) await store.set(String(i), document);
  expect(store.size).toBeLessThanOrEqual(bound);
  expect(await store.get('0')).toBeNull();
  expect(await store.get('3')).toBe(documents[3]);
  // 800 registrations of a document near the bound keep the store at the bound.
  for (let i = 0; i < 800; i++) await store.set(`big-${i}`, 'y'.repeat(90));
  expect(store.size).toBeLessThanOrEqual(bound);
  await store.set('too-big', 'z'.repeat(bound - APQ_ENTRY_BYTES + 1));
  expect(await store.get('too-big')).toBeNull();
  // Tiny documents are charged their entry too: a flood of them holds as few as large ones.
  for (let i = 0; i < 1000; i++) await store.set(`tiny-${i}`, '{a}');
  expect(store.size).toBeLessThanOrEqual(bound);
  expect(await store.get('tiny-997')).toBeNull();
});
