// Careless or hostile clients: amplification (aliases, batches), oversized or malformed
// requests, operation bounds, introspection and suggestions. Every refusal is a clear 4xx or
// coded error, happens before any upstream call, and leaves the gateway serving.

import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { startGateway, TEST_TOKEN, useGatewayOn } from '../support/gateway.js';
import type { GraphQLResponse } from '../support/gateway.js';
import { startScriptableUpstream } from '../support/scriptable-upstream.js';
import { ADD, VALID_INPUT } from '../support/operations.js';

const { upstream, gw } = useGatewayOn(startScriptableUpstream);
beforeEach(() => upstream.reset());

/** A mutation of `n` aliased addChallengeHistory fields. */
function aliasedMutation(n: number): string {
  const fields = Array.from(
    { length: n },
    (_, i) => `a${i}: addChallengeHistory(ambassadorId: "7", input: { points: 1, score: 1 }) { __typename }`,
  );
  return `mutation { ${fields.join('\n')} }`;
}

/** POSTs any body with any headers (fetch adds Content-Length for a string body). */
async function post(body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await fetch(gw.url, { method: 'POST', headers: { authorization: `Bearer ${TEST_TOKEN}`, ...headers }, body });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

function expectLimitRefusal({ status, body }: GraphQLResponse, message: RegExp) {
  expect(status).toBe(400);
  expect(body.data).toBeUndefined();
  expect(body.errors).toHaveLength(1);
  expect(body.errors[0].message).toMatch(message);
  expect(body.errors[0].extensions?.code).toBe('OPERATION_LIMIT_EXCEEDED');
}

afterAll(async () => {
  // Whatever was thrown at it, the gateway still serves.
  expect((await fetch(new URL('/health', gw.url))).status).toBe(200);
});

describe('amplification into upstream POSTs', () => {
  test('11 aliased addChallengeHistory fields are refused before any upstream call', async () => {
    expectLimitRefusal(await gw.graphql({ query: aliasedMutation(11) }), /at most 10 root fields; this one has 11/);
    expect(upstream.requests).toHaveLength(0);
  });

  test('root fields hidden in fragments count too', async () => {
    const query = `mutation { ...A ... on Mutation { ...B } }
      fragment A on Mutation { ${aliasedMutation(6).slice(10, -1)} }
      fragment B on Mutation { ${aliasedMutation(5).slice(10, -1).replaceAll(/a(\d)/g, 'b$1')} }`;
    expectLimitRefusal(await gw.graphql({ query }), /this one has 11/);
    expect(upstream.requests).toHaveLength(0);
  });

  test('10 aliased fields run, one POST each', async () => {
    const res = await gw.graphql({ query: aliasedMutation(10) });
    expect(res.body.errors).toBeUndefined();
    expect(Object.keys(res.body.data)).toHaveLength(10);
    expect(upstream.requests.filter((r) => r.method === 'POST')).toHaveLength(10);
  });

  test('an HTTP batch of 11 operations is refused before any upstream call; 2 run', async () => {
    const operation = { query: ADD, variables: { ambassadorId: '7', input: VALID_INPUT } };
    const refused = await post(JSON.stringify(Array(11).fill(operation)));
    expect(refused.status).toBe(413);
    expect(refused.json().errors[0].message).toBe('Batching is limited to 10 operations per request.');
    expect(upstream.requests).toHaveLength(0);

    const batch = await post(JSON.stringify([operation, operation]));
    expect(batch.status).toBe(200);
    expect(batch.json().map((r: { data: { addChallengeHistory: { __typename: string } } }) => r.data.addChallengeHistory.__typename)).toEqual([
      'AddChallengeHistorySuccess',
      'AddChallengeHistorySuccess',
    ]);
    expect(upstream.requests).toHaveLength(2);
  });
});

describe('operation bounds (graphql-armor)', () => {
  test('depth beyond 12', async () => {
    // This schema is shallower than 12, so the deep request names unknown fields; the bound is
    // checked first. (Introspection is exempt: GraphiQL's own query is deeper than 12.)
    const deep = `{ ${'a { '.repeat(13)}b${' }'.repeat(13)} }`;
    expectLimitRefusal(await gw.graphql({ query: deep }), /^Syntax Error: Query depth limit of 12 exceeded, found 14\.$/);
  });

  test('more than 30 aliases', async () => {
    const query = `{ ${Array.from({ length: 31 }, (_, i) => `t${i}: __schema { queryType { name } }`).join(' ')} }`;
    expectLimitRefusal(await gw.graphql({ query }), /Aliases limit of 30 exceeded, found 31/);
  });

  test('more than 3000 tokens', async () => {
    const query = `{ ${'__typename '.repeat(3001)} }`;
    expectLimitRefusal(await gw.graphql({ query }), /Token limit of 3000 exceeded/);
  });

  test('more than 20 directives', async () => {
    const query = `{ ${Array.from({ length: 21 }, () => '__typename @include(if: true)').join(' ')} }`;
    expectLimitRefusal(await gw.graphql({ query }), /Directives limit of 20 exceeded, found 21/);
  });

  test('every bound is read from the environment', async () => {
    const strict = await startGateway({
      upstreamUrl: upstream.url,
      env: {
        GRAPHQL_MAX_DEPTH: '2',
        GRAPHQL_MAX_ALIASES: '1',
        GRAPHQL_MAX_TOKENS: '100',
        GRAPHQL_MAX_DIRECTIVES: '1',
        GRAPHQL_MAX_ROOT_FIELDS: '1',
        GRAPHQL_MAX_BATCH: '1',
        MAX_REQUEST_BODY_BYTES: '2048',
      },
    });
    try {
      const ask = (query: string) => strict.graphql({ query }).then((r) => r.body.errors?.[0]?.message as string | undefined);
      expect(await ask('{ challenge(id: "1") { titles { lang } } }')).toMatch(/depth limit of 2/);
      expect(await ask('{ a: __schema { queryType { name } } b: __type(name: "Query") { name } }')).toMatch(/Aliases limit of 1/);
      expect(await ask(`{ ${'__typename '.repeat(101)} }`)).toMatch(/Token limit of 100/);
      expect(await ask('{ __typename @include(if: true) x: __typename @skip(if: false) }')).toMatch(/Directives limit of 1/);
      expect(await ask(aliasedMutation(2).replace('a0: ', ''))).toMatch(/at most 1 root fields/);
      const batch = await fetch(strict.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[{"query":"{__typename}"},{"query":"{__typename}"}]' });
      expect(batch.status).toBe(413);
      const big = await fetch(strict.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ __typename }`, variables: { pad: 'x'.repeat(2048) } }) });
      expect(big.status).toBe(413);
      expect(upstream.requests).toHaveLength(0);
    } finally {
      await strict.close();
    }
  });
});

describe('request bodies', () => {
  test('a body over 1 MiB is refused with 413 before it is read', async () => {
    const res = await post(JSON.stringify({ query: ADD, variables: { ambassadorId: '7', input: { ...VALID_INPUT, message: 'x'.repeat(1024 * 1024) } } }));
    expect(res.status).toBe(413);
    expect(res.json().errors[0]).toEqual({
      message: expect.stringMatching(/at most 1048576 are accepted/),
      extensions: { code: 'REQUEST_TOO_LARGE' },
    });
    expect(upstream.requests).toHaveLength(0);
  });

  test('a POST that does not declare its length is refused with 411 LENGTH_REQUIRED', async () => {
    const stream = new Blob([JSON.stringify({ query: '{ __typename }' })]).stream();
    const res = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(411);
    expect((await res.json()).errors[0].extensions.code).toBe('LENGTH_REQUIRED');
  });

  test.each([
    ['malformed JSON', '{"query": ', { 'content-type': 'application/json' }, 400, /POST body sent invalid JSON/],
    ['a JSON body that is not an operation', '"hello"', { 'content-type': 'application/json' }, 400, /POST body is expected to be object but received string/],
    ['an unknown operation name', JSON.stringify({ query: 'query A { __typename }', operationName: 'B' }), { 'content-type': 'application/json' }, 400, /Could not determine what operation to execute/],
  ])('%s: a clear 4xx, no crash', async (_label, body, headers, status, message) => {
    const res = await post(body, headers);
    expect(res.status).toBe(status);
    expect(res.json().errors[0].message).toMatch(message);
  });

  test('an unknown content type: 415 Unsupported Media Type', async () => {
    expect((await post('<query/>', { 'content-type': 'application/xml' })).status).toBe(415);
  });

  test('a mutation over GET is refused (405), even with a preflight header', async () => {
    const url = new URL(gw.url);
    url.searchParams.set('query', aliasedMutation(1));
    const res = await fetch(url, { headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_TOKEN}` } });
    expect(res.status).toBe(405);
    expect((await res.json()).errors[0].message).toBe('Can only perform a mutation operation from a POST request.');
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('introspection and field suggestions', () => {
  test('on by default outside production', async () => {
    const res = await gw.graphql({ query: '{ __schema { queryType { name } } }' });
    expect(res.body.data.__schema.queryType.name).toBe('Query');
    const typo = await gw.graphql({ query: '{ challeng(id: "1") { id } }' });
    expect(typo.body.errors[0].message).toMatch(/Did you mean "challenge"\?/);
  });

  test('off by default in production; each can be switched back on', async () => {
    const production = await startGateway({ upstreamUrl: upstream.url, env: { NODE_ENV: 'production' } });
    const reopened = await startGateway({
      upstreamUrl: upstream.url,
      env: { NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'true', GRAPHQL_FIELD_SUGGESTIONS: 'true' },
    });
    try {
      const introspection = await production.graphql({ query: '{ __schema { queryType { name } } }' });
      expect(introspection.status).toBe(400);
      expect(introspection.body.errors[0].message).toMatch(/introspection has been disabled/);
      const typo = await production.graphql({ query: '{ challeng(id: "1") { id } }' });
      expect(typo.body.errors[0].message).not.toMatch(/Did you mean/);
      expect(typo.body.errors[0].message).toMatch(/Cannot query field "challeng"/);

      expect((await reopened.graphql({ query: '{ __schema { queryType { name } } }' })).body.data.__schema.queryType.name).toBe('Query');
      expect((await reopened.graphql({ query: '{ challeng(id: "1") { id } }' })).body.errors[0].message).toMatch(/Did you mean/);
    } finally {
      await production.close();
      await reopened.close();
    }
  });
});
