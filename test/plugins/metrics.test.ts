// Prometheus metrics at /metrics: GraphQL requests by root fields and outcome, upstream calls by status.

import { expect, test } from 'vitest';
import { TEST_TOKEN, useGatewayOn } from '../support/gateway.js';
import { challengeHistoryBody, startScriptableUpstream } from '../support/scriptable-upstream.js';

const MUTATION = `mutation ($id: ID!) {
  addChallengeHistory(ambassadorId: $id, input: { points: 1, score: 1 }) { __typename }
}`;

const { upstream, gw } = useGatewayOn(startScriptableUpstream);

test('counts and times requests by operation and outcome, and upstream calls by route template and status', async () => {
  upstream.queue({ status: 200, body: challengeHistoryBody() }, { status: 404 });
  await gw.graphql({ query: MUTATION, variables: { id: '7' } }, { headers: { 'x-request-id': 'metrics-req-1' } });
  await gw.graphql({ query: MUTATION, variables: { id: '8' } });
  await gw.graphql({ query: MUTATION, variables: { id: '9' } }, { token: null });

  const res = await fetch(new URL('/metrics', gw.url));
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  const text = await res.text();
  const count = (metric: string) => Number(new RegExp(`^${escape(metric)} (\\d+)$`, 'm').exec(text)?.[1]);

  expect(count('gateway_graphql_request_duration_seconds_count{operation="addChallengeHistory",outcome="AddChallengeHistorySuccess"}')).toBe(1);
  expect(count('gateway_graphql_request_duration_seconds_count{operation="addChallengeHistory",outcome="AmbassadorNotFoundError"}')).toBe(1);
  expect(count('gateway_graphql_request_duration_seconds_count{operation="addChallengeHistory",outcome="UNAUTHENTICATED"}')).toBe(1);
  const route = 'route="/manager/ambassadors/{id}/challenge-histories"';
  expect(count(`gateway_upstream_request_duration_seconds_count{method="POST",${route},status="200"}`)).toBe(1);
  expect(count(`gateway_upstream_request_duration_seconds_count{method="POST",${route},status="404"}`)).toBe(1);
  expect(text).toContain('process_cpu_user_seconds_total');

  // No token, request id or concrete id in any label.
  expect(text).not.toContain(TEST_TOKEN);
  expect(text).not.toContain('metrics-req-1');
  expect(text).not.toMatch(/ambassadors\/\d/);
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
