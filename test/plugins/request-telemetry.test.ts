// The request's `rootFields` (the log line's field, the metrics' `operation` label, the span's
// name) names every root field the operation runs, whether selected directly, through a named
// fragment or through an inline fragment: the same fields the upstream call budget counts.

import { beforeEach, expect, test } from 'vitest';
import { useGatewayOn } from '../support/gateway.js';
import { challengeById, startScriptableUpstream } from '../support/scriptable-upstream.js';

const { upstream, gw } = useGatewayOn(startScriptableUpstream);
beforeEach(() => {
  upstream.reset();
  upstream.respondWith(challengeById());
  gw.logs.length = 0;
});

const requestLines = () => gw.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.msg === 'request');
const metricsText = () => fetch(new URL('/metrics', gw.url)).then((res) => res.text());
const requestCount = (text: string, operation: string) =>
  Number(new RegExp(`^gateway_graphql_request_duration_seconds_count\\{operation="${operation}",outcome="[^"]*"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);

const AWARD = 'addChallengeHistory(ambassadorId: "7", input: { points: 5, score: 1 }) { __typename }';

test.each([
  ['a named fragment', `mutation { ...Award } fragment Award on Mutation { ${AWARD} }`],
  ['an inline fragment', `mutation { ... on Mutation { ${AWARD} } }`],
  ['a fragment spread inside an inline fragment', `mutation { ... { ...Award } } fragment Award on Mutation { ${AWARD} }`],
])('a mutation field selected through %s is labelled, logged and counted', async (_how, query) => {
  const before = requestCount(await metricsText(), 'addChallengeHistory');
  const res = await gw.graphql({ query });
  expect(res.body.data.addChallengeHistory.__typename).toBe('AddChallengeHistorySuccess');
  expect(upstream.requests.filter((request) => request.method === 'POST')).toHaveLength(1);

  expect(requestLines()).toEqual([expect.objectContaining({ operationType: 'mutation', rootFields: 'addChallengeHistory', upstreamCalls: 1 })]);
  expect(requestCount(await metricsText(), 'addChallengeHistory')).toBe(before + 1);
});

test('root fields selected directly and through nested fragments are all named, each once, sorted', async () => {
  const query = `query {
    __typename
    ...Both
    ... on Query { again: challenge(id: "4") { id } }
  }
  fragment Both on Query { ...One challenge(id: "3") { id } }
  fragment One on Query { first: challenge(id: "2") { id } }`;
  const res = await gw.graphql({ query });
  expect(res.body.data).toMatchObject({ __typename: 'Query', first: { id: '2' }, challenge: { id: '3' }, again: { id: '4' } });
  expect(upstream.requests).toHaveLength(3);
  expect(requestLines()).toEqual([expect.objectContaining({ operationType: 'query', rootFields: '__typename,challenge', upstreamCalls: 3 })]);
  expect(requestCount(await metricsText(), '__typename,challenge')).toBeGreaterThanOrEqual(1);
});
