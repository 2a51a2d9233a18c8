// The metrics `outcome` label comes from the runtime type and fixed code lists, never from what a
// client can put in a response (an alias named `__typename` on a message); every refusal is
// logged with its code and counted; probes (/health, /ready, /metrics) are neither.

import { beforeEach, expect, test } from 'vitest';
import { useGatewayOn } from '../support/gateway.js';
import { startScriptableUpstream } from '../support/scriptable-upstream.js';

// On an AmbassadorNotFoundError, `__typename` here is its message ("Ambassador <id> does not exist.").
const ALIASED = `mutation ($id: ID!) {
  addChallengeHistory(ambassadorId: $id, input: { points: 1, score: 1 }) {
    ... on AddChallengeHistorySuccess { __typename }
    ... on AmbassadorNotFoundError { __typename: message }
  }
}`;

const running = useGatewayOn(startScriptableUpstream);
beforeEach(() => {
  running.upstream.reset();
  running.gw.logs.length = 0;
});

const metricsText = () => fetch(new URL('/metrics', running.gw.url)).then((res) => res.text());
const requestSeries = (text: string) => text.split('\n').filter((line) => line.startsWith('gateway_graphql_request_duration_seconds_count'));
const requestLines = () => running.gw.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.msg === 'request');

test('3000 requests whose aliased `__typename` carries 3000 distinct messages add one series, not 3000', async () => {
  running.upstream.respondWith({ status: 404, body: 'Not found' });
  await running.gw.graphql({ query: ALIASED, variables: { id: '1' } });
  const seriesBefore = requestSeries(await metricsText());

  const ids = Array.from({ length: 3000 }, (_, i) => String(1000 + i));
  for (let start = 0; start < ids.length; start += 20) {
    const answers = await Promise.all(ids.slice(start, start + 20).map((id) => running.gw.graphql({ query: ALIASED, variables: { id } })));
    for (const [i, answer] of answers.entries()) {
      expect(answer.body.data.addChallengeHistory.__typename).toBe(`Ambassador ${ids[start + i]} does not exist.`);
    }
  }

  const seriesAfter = requestSeries(await metricsText());
  expect(seriesAfter).toHaveLength(seriesBefore.length);
  expect(seriesAfter.join('\n')).not.toContain('does not exist');
  expect(seriesAfter.find((line) => line.includes('operation="addChallengeHistory"'))).toBe(
    'gateway_graphql_request_duration_seconds_count{operation="addChallengeHistory",outcome="ok"} 3001',
  );
  // The log line says no more than it knows either.
  expect(requestLines().every((line) => line.resultType === null)).toBe(true);
}, 120_000); // 3000 requests, 20 at a time: a few seconds alone, longer beside the rest of the suite

test('a real __typename is still the label', async () => {
  running.upstream.respondWith({ status: 404, body: 'Not found' });
  const res = await running.gw.graphql({ query: 'mutation { addChallengeHistory(ambassadorId: "5", input: { points: 1, score: 1 }) { __typename } }' });
  expect(res.body.data.addChallengeHistory.__typename).toBe('AmbassadorNotFoundError');
  expect(await metricsText()).toMatch(/^gateway_graphql_request_duration_seconds_count\{operation="addChallengeHistory",outcome="AmbassadorNotFoundError"\} 1$/m);
  expect(requestLines()[0]).toMatchObject({ resultType: 'AmbassadorNotFoundError' });
});

test.each([
  ['CSRF_PREVENTED', 415, '/graphql', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"query":"{ __typename }"}' }],
  ['NOT_FOUND', 404, '/graphql/', { method: 'GET' }],
  ['LENGTH_REQUIRED', 411, '/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: new Blob(['{}']).stream(), duplex: 'half' }],
])('a %s refusal is logged with its code and counted', async (code, status, path, init) => {
  const res = await fetch(new URL(path, running.gw.url), init as RequestInit);
  expect(res.status).toBe(status);
  expect((await res.json()).errors[0].extensions.code).toBe(code);
  expect(requestLines()).toEqual([expect.objectContaining({ status, errorCode: code, requestId: res.headers.get('x-request-id') })]);
  expect(await metricsText()).toMatch(new RegExp(`^gateway_graphql_request_duration_seconds_count\\{operation="none",outcome="${code}"\\} \\d+$`, 'm'));
});

test('probes are neither logged nor counted: /health, /ready, /metrics alike', async () => {
  const before = requestSeries(await metricsText());
  for (const path of ['/health', '/ready', '/metrics']) expect((await fetch(new URL(path, running.gw.url))).status).toBe(200);
  expect(requestLines()).toEqual([]);
  expect(requestSeries(await metricsText())).toEqual(before);
});
