// addChallengeHistories end to end: one request, many awards. Each item must come back exactly as
// addChallengeHistory would have answered it (checked by asking the single field the same thing),
// the upstream must see one POST per valid item and never more than BATCH_CONCURRENCY at once.

import { beforeEach, expect, test } from 'vitest';
import { useGatewayOn } from '../support/gateway.js';
import { challengeHistoryBody, startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { Responder, ScriptedResponse } from '../support/scriptable-upstream.js';

const RESULT_SELECTION = /* GraphQL */ `
  __typename
  ... on AddChallengeHistorySuccess { challengeHistory { id points ambassador { id } } }
  ... on Error { message }
  ... on AmbassadorNotFoundError { ambassadorId }
  ... on ValidationError { fieldErrors { field path messages } }
`;
const BATCH = `mutation Batch($items: [AddChallengeHistoryItemInput!]!) { addChallengeHistories(items: $items) { ${RESULT_SELECTION} } }`;
const SINGLE = `mutation One($ambassadorId: ID!, $input: AddChallengeHistoryInput!) {
  addChallengeHistory(ambassadorId: $ambassadorId, input: $input) { ${RESULT_SELECTION} }
}`;

const TIMEOUT_MS = 1000; // roomy: a loaded 2-core machine must not turn normal answers into timeouts
const CONCURRENCY = 3;
const MAX_ITEMS = 12;

/** Ambassador id (in the URL) -> the upstream's answer; unknown ids succeed with a record id of 100 + id. */
const BY_AMBASSADOR: Record<number, ScriptedResponse> = {
  2: { status: 404, body: { message: 'No query results.' } },
  3: { status: 422, body: { message: 'The points must be a number.', errors: { points: ['The points must be a number.'] } } },
  4: { status: 500, body: 'Internal Server Error' },
  5: { delayMs: TIMEOUT_MS * 3, body: challengeHistoryBody() },
};
const scriptedByAmbassador =
  (delayMs = 0): Responder =>
  (request) => {
    const id = Number(/\/ambassadors\/(\d+)\//.exec(request.url)?.[1]);
    const ambassador = { ...(challengeHistoryBody().ambassador as object), id_ambassador: id };
    return BY_AMBASSADOR[id] ?? { status: 201, delayMs, body: challengeHistoryBody({ id: 100 + id, ambassador }) };
  };

const item = (ambassadorId: string) => ({ ambassadorId, input: { points: 42, score: 12.5 } });

const ENV = {
  UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS),
  BATCH_CONCURRENCY: String(CONCURRENCY),
  BATCH_MAX_ITEMS: String(MAX_ITEMS),
  // Above BATCH_MAX_ITEMS (its default), so a field's own item bound is what refuses MAX_ITEMS + 1.
  MAX_UPSTREAM_CALLS_PER_REQUEST: String(MAX_ITEMS * 2),
};
const { upstream, gw } = useGatewayOn(startScriptableUpstream, ENV);
beforeEach(() => {
  upstream.reset();
  upstream.respondWith(scriptedByAmbassador());
});

test('each item answers, in order, exactly what addChallengeHistory answers for it; failures are null with their own error', async () => {
  const ids = ['1', '2', '3', '4', '5', 'not-an-id', '6'];
  const batch = await gw.graphql({ query: BATCH, variables: { items: ids.map(item) } });

  expect(batch.status).toBe(200);
  const results = batch.body.data.addChallengeHistories;
  expect(results).toHaveLength(ids.length);
  expect(results.map((r: { __typename: string } | null) => r?.__typename ?? null)).toEqual([
    'AddChallengeHistorySuccess',
    'AmbassadorNotFoundError',
    'ValidationError',
    null, // 500
    null, // timeout
    'ValidationError', // refused by the gateway, never sent
    'AddChallengeHistorySuccess',
  ]);
  expect(results[0].challengeHistory).toMatchObject({ id: '101', ambassador: { id: '1' } });
  expect(results[6].challengeHistory).toMatchObject({ id: '106', ambassador: { id: '6' } });

  // One POST per sendable item, to its own ambassador, none repeated.
  const posted = upstream.requests.map((r) => `${r.method} ${r.url}`).sort();
  expect(posted).toEqual(['1', '2', '3', '4', '5', '6'].map((id) => `POST /api/v2/manager/ambassadors/${id}/challenge-histories`));

  expect(batch.body.errors).toHaveLength(2);
  const errorAt = (index: number) => batch.body.errors.find((e: { path: unknown[] }) => e.path[1] === index);
  expect(errorAt(3)).toMatchObject({ path: ['addChallengeHistories', 3], extensions: { code: 'UPSTREAM_UNAVAILABLE', outcomeUnknown: true } });
  expect(errorAt(4)).toMatchObject({ path: ['addChallengeHistories', 4], extensions: { code: 'UPSTREAM_TIMEOUT', outcomeUnknown: true } });

  // The single field, asked the same things against the same script, answers the same.
  for (const [index, id] of ids.entries()) {
    const single = await gw.graphql({ query: SINGLE, variables: item(id) });
    const error = single.body.errors?.[0];
    expect(results[index]).toEqual(single.body.data?.addChallengeHistory ?? null);
    if (error) {
      const { locations: _inItsOwnDocument, ...sameError } = error;
      expect(errorAt(index)).toEqual({ ...sameError, locations: expect.any(Array), path: ['addChallengeHistories', index] });
    } else {
      expect(errorAt(index)).toBeUndefined();
    }
  }
});

test(`runs at most BATCH_CONCURRENCY (${CONCURRENCY}) upstream calls at once, and up to BATCH_MAX_ITEMS items`, async () => {
  upstream.respondWith(scriptedByAmbassador(30));
  const ids = Array.from({ length: MAX_ITEMS }, (_, i) => String(10 + i));
  const res = await gw.graphql({ query: BATCH, variables: { items: ids.map(item) } });

  expect(res.body.errors).toBeUndefined();
  expect(res.body.data.addChallengeHistories.map((r: { challengeHistory: { id: string } }) => r.challengeHistory.id)).toEqual(
    ids.map((id) => String(100 + Number(id))),
  );
  expect(upstream.requests).toHaveLength(MAX_ITEMS);
  expect(upstream.maxInFlight()).toBe(CONCURRENCY);
});

test('more than BATCH_MAX_ITEMS items is refused before any upstream call', async () => {
  const ids = Array.from({ length: MAX_ITEMS + 1 }, (_, i) => String(10 + i));
  const res = await gw.graphql({ query: BATCH, variables: { items: ids.map(item) } });

  expect(res.body.data).toBeNull();
  expect(res.body.errors).toEqual([
    {
      message: `addChallengeHistories takes at most ${MAX_ITEMS} items, got ${MAX_ITEMS + 1}.`,
      path: ['addChallengeHistories'],
      locations: expect.any(Array),
      extensions: { code: 'BAD_USER_INPUT', maxItems: MAX_ITEMS },
    },
  ]);
  expect(upstream.requests).toHaveLength(0);
});

test('an empty batch answers an empty list; without a token every item is UNAUTHENTICATED and nothing is sent', async () => {
  const empty = await gw.graphql({ query: BATCH, variables: { items: [] } });
  expect(empty.body).toEqual({ data: { addChallengeHistories: [] } });

  const res = await gw.graphql({ query: BATCH, variables: { items: [item('1'), item('2')] } }, { token: null });
  expect(res.body.data.addChallengeHistories).toEqual([null, null]);
  expect(res.body.errors.map((e: { path: unknown[]; extensions: unknown }) => [e.path, e.extensions])).toEqual([
    [['addChallengeHistories', 0], { code: 'UNAUTHENTICATED', outcomeUnknown: false }],
    [['addChallengeHistories', 1], { code: 'UNAUTHENTICATED', outcomeUnknown: false }],
  ]);
  expect(upstream.requests).toHaveLength(0);
});

test('an item with a non-finite literal is a ValidationError on its own path; the other items are sent', async () => {
  const res = await gw.graphql({
    query: `mutation { addChallengeHistories(items: [
      { ambassadorId: "1", input: { points: 1e400, score: 1 } }
      { ambassadorId: "6", input: { points: 1, score: 1 } }
    ]) { ${RESULT_SELECTION} } }`,
  });
  expect(res.body.errors).toBeUndefined();
  expect(res.body.data.addChallengeHistories[0]).toMatchObject({
    __typename: 'ValidationError',
    fieldErrors: [{ field: 'points', path: ['input', 'points'], messages: ['points must be a finite number.'] }],
  });
  expect(res.body.data.addChallengeHistories[1]).toMatchObject({ __typename: 'AddChallengeHistorySuccess' });
  expect(upstream.requests.map((r) => r.url)).toEqual(['/api/v2/manager/ambassadors/6/challenge-histories']);
});
