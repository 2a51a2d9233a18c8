// The upper bound of upstream calls read from a document and its variables (as sent), which the
// budget reserves before any call, and the answer cost the same walk counts. The end-to-end refusals
// are in test/security/fan-out.test.ts and test/security/amplification.test.ts.

import { parse } from 'graphql';
import { describe, expect, test } from 'vitest';
import { subgraphSchema } from '../../src/schema/index.js';
import { countUpstreamCalls, measureOperation } from '../../src/schema/upstream-calls.js';

const count = (query: string, variables?: Record<string, unknown>, operationName?: string) =>
  countUpstreamCalls(subgraphSchema, parse(query), operationName, variables);
const item = { ambassadorId: '1', input: { points: 1, score: 1 } };

test.each<[string, string, Record<string, unknown>?, number?]>([
  ['one challenge', '{ challenge(id: "1") { id } }', undefined, 1],
  ['aliases count each (repeated ids too)', '{ a: challenge(id: "1") { id } b: challenge(id: "1") { id } }', undefined, 2],
  ['fields that call nothing', '{ __typename _service { sdl } }', undefined, 0],
  ['a literal list of representations', '{ _entities(representations: [{ __typename: "Challenge", id: "1" }, { __typename: "Challenge", id: "2" }]) { __typename } }', undefined, 2],
  ['a list variable', 'query ($r: [_Any!]!) { _entities(representations: $r) { __typename } }', { r: [1, 2, 3] }, 3],
  ['variables inside a literal list', 'query ($a: _Any!, $b: _Any!) { _entities(representations: [$a, $b]) { __typename } }', { a: 1, b: 2 }, 2],
  ['one addChallengeHistory', 'mutation { addChallengeHistory(ambassadorId: "1", input: { points: 1, score: 1 }) { __typename } }', undefined, 1],
  ['items through a shared variable, per alias', 'mutation ($i: [AddChallengeHistoryItemInput!]!) { a: addChallengeHistories(items: $i) { __typename } b: addChallengeHistories(items: $i) { __typename } }', { i: [item, item, item] }, 6],
  ['a single item where a list is expected', 'mutation ($i: AddChallengeHistoryItemInput!) { addChallengeHistories(items: [$i]) { __typename } x: addChallengeHistories(items: { ambassadorId: "1", input: { points: 1, score: 1 } }) { __typename } }', { i: item }, 2],
  ['a missing or null variable', 'mutation ($i: [AddChallengeHistoryItemInput!]) { addChallengeHistories(items: $i) { __typename } }', {}, 0],
  ['fragments at every spread, inline fragments, @skip ignored', 'query { ...F ... on Query { ...F } c: challenge(id: "3") @skip(if: true) { id } } fragment F on Query { challenge(id: "1") { id } }', undefined, 3],
  ['a fragment cycle is not followed', 'query { ...A } fragment A on Query { challenge(id: "1") { id } ...B } fragment B on Query { ...A }', undefined, 1],
  ['no such operation', 'query A { challenge(id: "1") { id } }', undefined, 0],
])('%s', (_label, query, variables, expected) => {
  expect(count(query, variables, query.startsWith('query A') ? 'B' : undefined)).toBe(expected);
});

test('only the named operation counts', () => {
  const document = 'query A { challenge(id: "1") { id } } query B { a: challenge(id: "1") { id } b: challenge(id: "2") { id } }';
  expect([count(document, {}, 'A'), count(document, {}, 'B')]).toEqual([1, 2]);
});

describe('the answer cost (GRAPHQL_MAX_COST), from the same walk', () => {
  const measure = (query: string, variables?: Record<string, unknown>) => measureOperation(subgraphSchema, parse(query), undefined, variables);
  const fieldErrors = (aliases: number) => Array.from({ length: aliases }, (_, i) => `f${i}: fieldErrors { field path messages }`).join(' ');

  test.each<[string, string, Record<string, unknown> | undefined, number]>([
    ['each field counts 1 plus its selection', '{ challenge(id: "1") { id titles { lang content } } }', undefined, 5],
    ['aliases count each', '{ a: challenge(id: "1") { id } b: challenge(id: "1") { id } }', undefined, 4],
    ['a list variable multiplies the selection under it', `mutation ($i: [AddChallengeHistoryItemInput!]!) { addChallengeHistories(items: $i) { __typename ... on ValidationError { ${fieldErrors(2)} } } }`, { i: [item, item, item] }, 3 * (1 + 1 + 2 * 4)],
    ['a literal list too', '{ _entities(representations: [{ __typename: "Challenge", id: "1" }, { __typename: "Challenge", id: "2" }]) { __typename ... on Challenge { id } } }', undefined, 2 * 3],
    ['every union branch counts', 'mutation { addChallengeHistory(ambassadorId: "1", input: { points: 1, score: 1 }) { __typename ... on AmbassadorNotFoundError { message } ... on ValidationError { message } } }', undefined, 4],
  ])('%s', (_label, query, variables, cost) => {
    expect(measure(query, variables).cost).toBe(cost);
  });

  test("the issue's amplification request: 500 items × 30 aliases of fieldErrors cost 61,000; a list from a variable is marked", () => {
    const query = `mutation ($i: [AddChallengeHistoryItemInput!]!) { addChallengeHistories(items: $i) { __typename ... on ValidationError { ${fieldErrors(30)} } } }`;
    expect(measure(query, { i: Array(500).fill(item) })).toEqual({ calls: 500, cost: 61_000, readsVariables: true });
    expect(measure('{ challenge(id: "1") { id } }').readsVariables).toBe(false);
  });

  test('nested fragment spreads count at every spread but are walked once each: 40 levels of two spreads cost 2^40 (unwalkable otherwise)', () => {
    const levels = 40;
    const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i} on Challenge { ${i + 1 < levels ? `a: ...F${i + 1} b: id ...F${i + 1}` : 'id'} }`);
    const query = `{ challenge(id: "1") { ...F0 } } ${fragments.join(' ').replaceAll('a: ...', '...')}`;
    expect(measure(query).cost).toBe(2 ** levels);
  });
});

test('a fragment spread inside its own selection (refused by validation, after the batch budget has measured it) is not followed', () => {
  const query = '{ challenge(id: "1") { ...C } } fragment C on Challenge { id titles { ...T } } fragment T on I18nContent { lang x: challenge { ...C } }';
  const { calls, cost } = measureOperation(subgraphSchema, parse(query), undefined, {});
  // Each selection is counted at most once round the cycle: 5 fields, and titles' and C's fields once more.
  expect(calls).toBe(1);
  expect(cost).toBeGreaterThanOrEqual(5);
  expect(cost).toBeLessThanOrEqual(8);
});
