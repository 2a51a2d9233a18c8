// Fan-out bounds of one HTTP request, through the real gateway on loopback, counted in what the
// scriptable upstream received: the upstream-call budget (MAX_UPSTREAM_CALLS_PER_REQUEST, here
// BATCH_MAX_ITEMS = 50) over aliases, fragments, shared variables, _entities representations and
// HTTP batches, on Yoga's path and the fast lane's; one concurrency limit for all calls of a
// request; and no POST after the upstream refused the request's token.
// The figures scaled down by ten: 10 × 500 items → 10 × 50, an HTTP batch of 10 of them.

import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, test } from 'vitest';
import { startGateway, TEST_TOKEN, useGatewayOn } from '../support/gateway.js';
import { challengeById, startScriptableUpstream } from '../support/scriptable-upstream.js';

const BUDGET = 50;
const CONCURRENCY = 3;

const { upstream, gw } = useGatewayOn(startScriptableUpstream, {
  BATCH_MAX_ITEMS: String(BUDGET),
  BATCH_CONCURRENCY: String(CONCURRENCY),
  CHALLENGE_LOAD_CONCURRENCY: String(CONCURRENCY),
  UPSTREAM_TIMEOUT_MS: '2000',
});
beforeEach(() => {
  upstream.reset();
  upstream.respondWith(challengeById());
});

const RESULT = '__typename ... on ValidationError { message }';
/** `fields` aliased addChallengeHistories sharing the one $items variable. */
const aliasedBatches = (fields: number, tag = '') =>
  `${tag}mutation Many($items: [AddChallengeHistoryItemInput!]!) { ${Array.from(
    { length: fields },
    (_, i) => `b${i}: addChallengeHistories(items: $items) { ${RESULT} }`,
  ).join(' ')} }`;
const ENTITIES = 'query Entities($representations: [_Any!]!) { _entities(representations: $representations) { ... on Challenge { id } } }';

const items = (count: number) => Array.from({ length: count }, (_, i) => ({ ambassadorId: String(i + 1), input: { points: 1, score: 1 } }));
const representations = (count: number, distinctIds = count) =>
  Array.from({ length: count }, (_, i) => ({ __typename: 'Challenge', id: String((i % distinctIds) + 1) }));
const posts = () => upstream.requests.filter((r) => r.method === 'POST').length;
const gets = () => upstream.requests.filter((r) => r.method === 'GET').length;

/** POSTs a JSON array of operations (an HTTP batch). */
async function postBatch(operations: object[], url = gw.url): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${TEST_TOKEN}` },
    body: JSON.stringify(operations),
  });
  return { status: response.status, body: await response.json() };
}

const refusal = (upstreamCalls: number, mutation: boolean) => ({
  code: 'OPERATION_LIMIT_EXCEEDED',
  upstreamCalls,
  maxUpstreamCalls: BUDGET,
  ...(mutation ? { outcomeUnknown: false } : {}),
});

const fastLaneAnswers = async () =>
  (await gw.gateway.metrics.registry.getSingleMetric('gateway_fast_lane_requests_total')!.get()).values[0]?.value ?? 0;

describe('the budget: counted from the document and variables before any call', () => {
  test(`ten aliased addChallengeHistories sharing one ${BUDGET}-item variable are refused whole: 400, no POST`, async () => {
    const res = await gw.graphql({ query: aliasedBatches(10), variables: { items: items(BUDGET) } });
    expect(res.status).toBe(400);
    expect(res.body.data).toBeNull();
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0].extensions).toEqual(refusal(10 * BUDGET, true));
    expect(res.body.errors[0].message).toContain('Nothing was sent');
    expect(posts()).toBe(0);
  });

  test('fields inside fragments count at every spread, with their aliases', async () => {
    const query = `mutation Spread($items: [AddChallengeHistoryItemInput!]!) { ...Twice ... on Mutation { ...Twice } }
      fragment Twice on Mutation { x: addChallengeHistories(items: $items) { __typename } y: addChallengeHistories(items: $items) { __typename } }`;
    const res = await gw.graphql({ query, variables: { items: items(13) } }); // 4 × 13 = 52
    expect(res.status).toBe(400);
    expect(res.body.errors[0].extensions).toEqual(refusal(52, true));
    expect(posts()).toBe(0);
  });

  test('within the budget is served: ten aliased fields of 5 items are 50 POSTs, all answered', async () => {
    const res = await gw.graphql({ query: aliasedBatches(10), variables: { items: items(5) } });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    const results = Object.values(res.body.data).flat() as { __typename: string }[];
    expect(results).toHaveLength(BUDGET);
    expect(results.every((r) => r.__typename === 'AddChallengeHistorySuccess')).toBe(true);
    expect(posts()).toBe(BUDGET);
  });

  test.each([
    ['ten such operations', 10, 10],
    ['two operations that each fit alone', 2, 1],
  ])('an HTTP batch of %s is refused whole: 400, no POST', async (_label, operations, fields) => {
    const operation = { query: aliasedBatches(fields), variables: { items: items(BUDGET) } };
    const res = await postBatch(Array.from({ length: operations }, () => operation));
    expect(res.status).toBe(400);
    expect(res.body.errors[0].extensions).toEqual(refusal(operations * fields * BUDGET, true));
    expect(posts()).toBe(0);
  });

  test('an HTTP batch within the budget is served: ten operations of 5 items, 50 POSTs', async () => {
    const operation = { query: aliasedBatches(1), variables: { items: items(5) } };
    const res = await postBatch(Array.from({ length: 10 }, () => operation));
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(10);
    for (const answer of res.body) expect(answer.data.b0.map((r: { __typename: string }) => r.__typename)).toEqual(Array(5).fill('AddChallengeHistorySuccess'));
    expect(posts()).toBe(BUDGET);
  });

  test('_entities with 20,000 representations is refused: 400, no GET', async () => {
    const res = await gw.graphql({ query: ENTITIES, variables: { representations: representations(20_000, 100) } });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].extensions).toEqual(refusal(20_000, false));
    expect(gets()).toBe(0);
  });

  test(`_entities with ${BUDGET} representations is served`, async () => {
    const res = await gw.graphql({ query: ENTITIES, variables: { representations: representations(BUDGET) } });
    expect(res.status).toBe(200);
    expect(res.body.data._entities).toHaveLength(BUDGET);
    expect(gets()).toBe(BUDGET);
  });

  test('the fast lane refuses the same: a document Yoga admitted, sent again with more items, sends nothing', async () => {
    const query = aliasedBatches(10, '# fan-out through the lane\n');
    const admitted = await gw.graphql({ query, variables: { items: items(1) } });
    expect(admitted.body.errors).toBeUndefined();
    expect(posts()).toBe(10);
    upstream.reset();

    const lanesBefore = await fastLaneAnswers();
    const res = await gw.graphql({ query, variables: { items: items(BUDGET) } });
    expect(await fastLaneAnswers()).toBe(lanesBefore + 1);
    expect(res.status).toBe(400);
    expect(res.body.data).toBeNull();
    expect(res.body.errors[0].extensions).toEqual(refusal(10 * BUDGET, true));
    expect(posts()).toBe(0);
  });

  test('the fast lane refuses an _entities document with 20,000 representations: no GET', async () => {
    const query = `# entities through the lane\n${ENTITIES}`;
    expect((await gw.graphql({ query, variables: { representations: representations(1) } })).body.errors).toBeUndefined();
    upstream.reset();
    const lanesBefore = await fastLaneAnswers();
    const res = await gw.graphql({ query, variables: { representations: representations(20_000, 100) } });
    expect(await fastLaneAnswers()).toBe(lanesBefore + 1);
    expect(res.status).toBe(400);
    expect(res.body.errors.every((e: { extensions: object }) => e.extensions && (e.extensions as { code: string }).code === 'OPERATION_LIMIT_EXCEEDED')).toBe(true);
    expect(gets()).toBe(0);
  });
});

describe('operations sent by hash', () => {
  const query = aliasedBatches(1, '# by hash\n');
  const sha256Hash = createHash('sha256').update(query).digest('hex');
  const byHash = (count: number) => ({ variables: { items: items(count) }, extensions: { persistedQuery: { version: 1, sha256Hash } } });

  test('trusted documents: an HTTP batch over the budget is refused whole, no POST', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'fan-out-')), 'trusted.json');
    writeFileSync(file, JSON.stringify({ [sha256Hash]: query }));
    const trusted = await startGateway({ upstreamUrl: upstream.url, env: { BATCH_MAX_ITEMS: String(BUDGET), TRUSTED_DOCUMENTS_FILE: file } });
    try {
      const refused = await postBatch(Array.from({ length: 10 }, () => byHash(BUDGET)), trusted.url);
      expect(refused.status).toBe(400);
      expect(refused.body.errors[0].extensions).toEqual(refusal(10 * BUDGET, true));
      expect(posts()).toBe(0);

      const served = await postBatch([byHash(20), byHash(30)], trusted.url);
      expect(served.body.map((answer: { data: { b0: unknown[] } }) => answer.data.b0.length)).toEqual([20, 30]);
      expect(posts()).toBe(BUDGET);
    } finally {
      await trusted.close();
    }
  });

  test('automatic persisted queries known only by hash: each reserves at execution, the request never exceeds the budget', async () => {
    const registered = await gw.graphql({ query, ...byHash(1) });
    expect(registered.body.errors).toBeUndefined();
    upstream.reset();

    const res = await postBatch(Array.from({ length: 10 }, () => byHash(BUDGET)));
    const served = res.body.filter((answer: { errors?: unknown }) => !answer.errors);
    const refused = res.body.filter((answer: { errors?: { extensions: { code: string } }[] }) => answer.errors?.[0]?.extensions.code === 'OPERATION_LIMIT_EXCEEDED');
    expect([served.length, refused.length]).toEqual([1, 9]);
    expect(posts()).toBe(BUDGET);
  });
});

describe(`one concurrency limit for all calls of a request (BATCH_CONCURRENCY = CHALLENGE_LOAD_CONCURRENCY = ${CONCURRENCY})`, () => {
  beforeEach(() => {
    const answer = challengeById();
    upstream.respondWith(async (request) => ({ ...(await answer(request)), delayMs: 60 }));
  });

  // Root mutation fields run one after the other, so this holds by itself; kept as a guard.
  test('two aliased batch fields of one mutation stay within it', async () => {
    const res = await gw.graphql({ query: aliasedBatches(2), variables: { items: items(6) } });
    expect(res.body.errors).toBeUndefined();
    expect(posts()).toBe(12);
    expect(upstream.maxInFlight()).toBe(CONCURRENCY);
  });

  test('the operations of an HTTP batch share it', async () => {
    const operation = { query: aliasedBatches(1), variables: { items: items(6) } };
    const res = await postBatch([operation, operation]);
    expect(res.status).toBe(200);
    expect(posts()).toBe(12);
    expect(upstream.maxInFlight()).toBe(CONCURRENCY);
  });

  test('POSTs and GETs of one HTTP batch share it', async () => {
    const res = await postBatch([
      { query: aliasedBatches(1), variables: { items: items(6) } },
      { query: ENTITIES, variables: { representations: representations(6) } },
    ]);
    expect(res.status).toBe(200);
    expect([posts(), gets()]).toEqual([6, 6]);
    expect(upstream.maxInFlight()).toBe(CONCURRENCY);
  });
});

describe('after the upstream refuses the token, no further POST of the request is sent', () => {
  test.each([
    [401, 'UNAUTHENTICATED'],
    [403, 'FORBIDDEN'],
  ])('%i: the items not yet sent answer %s with outcomeUnknown: false, never sent', async (status, code) => {
    upstream.respondWith({ status, body: { message: 'no' } });
    const res = await gw.graphql({ query: aliasedBatches(2), variables: { items: items(10) } });

    // Only the calls already in flight when the first refusal arrived were sent.
    expect(posts()).toBe(CONCURRENCY);
    expect(res.body.data).toEqual({ b0: Array(10).fill(null), b1: Array(10).fill(null) });
    expect(res.body.errors).toHaveLength(20);
    for (const error of res.body.errors) expect(error.extensions).toEqual({ code, outcomeUnknown: false });
  });

  test('the same through the fast lane, and across the operations of an HTTP batch', async () => {
    const query = aliasedBatches(1, '# token refused through the lane\n');
    expect((await gw.graphql({ query, variables: { items: items(1) } })).body.errors).toBeUndefined();
    upstream.reset();
    upstream.respondWith({ status: 401, body: { message: 'Unauthenticated.' } });

    const lanesBefore = await fastLaneAnswers();
    const laned = await gw.graphql({ query, variables: { items: items(20) } });
    expect(await fastLaneAnswers()).toBe(lanesBefore + 1);
    expect(posts()).toBe(CONCURRENCY);
    expect(laned.body.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(Array(20).fill('UNAUTHENTICATED'));

    upstream.reset();
    upstream.respondWith({ status: 401, body: { message: 'Unauthenticated.' } });
    const batch = await postBatch([0, 1].map(() => ({ query, variables: { items: items(10) } })));
    expect(posts()).toBe(CONCURRENCY);
    expect(batch.body.flatMap((answer: { errors: unknown[] }) => answer.errors)).toHaveLength(20);
  });
});
