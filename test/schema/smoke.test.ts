import { afterAll, beforeAll, expect, test } from 'vitest';
import { startGateway, TEST_TOKEN } from '../support/gateway.js';
import type { TestGateway } from '../support/gateway.js';
import { startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream } from '../support/scriptable-upstream.js';

let upstream: ScriptableUpstream;
let gw: TestGateway;
beforeAll(async () => {
  upstream = await startScriptableUpstream();
  gw = await startGateway({ upstreamUrl: upstream.url });
});
afterAll(async () => {
  await gw.close();
  await upstream.close();
});

test('smoke', async () => {
  const res = await gw.graphql({
    query: `mutation { addChallengeHistory(ambassadorId: "7", input: {points: 42, score: 12.5, challengeId: "3"}) { __typename ... on AddChallengeHistorySuccess { challengeHistory { id } } } }`,
  });
  expect(res.body).toEqual({ data: { addChallengeHistory: { __typename: 'AddChallengeHistorySuccess', challengeHistory: { id: '42' } } } });
  expect(upstream.requests[0]?.headers.authorization).toBe(`Bearer ${TEST_TOKEN}`);
});
