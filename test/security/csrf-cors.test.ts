// CSRF, CORS and the bearer token: nothing a browser sends cross-site without a preflight runs
// an operation; no origin is allowed cross-origin unless listed; the Authorization header never
// reaches a log line, an error or a metric, whatever happens to the request.

import { Client, fetchExchange, gql } from '@urql/core';
import { beforeEach, describe, expect, test } from 'vitest';
import { startGateway, useGatewayOn } from '../support/gateway.js';
import type { TestGateway } from '../support/gateway.js';
import { challengeHistoryBody, startScriptableUpstream } from '../support/scriptable-upstream.js';
import { ADD, VALID_INPUT, addChallengeHistory } from '../support/operations.js';

const MARKER_TOKEN = 'csrf-leak-marker-token-31f0a';
const OPERATION = JSON.stringify({ query: ADD, variables: { ambassadorId: '7', input: VALID_INPUT } });

const { upstream, gw } = useGatewayOn(startScriptableUpstream);
beforeEach(() => upstream.reset());

/** A GET carrying an operation; `token: null` sends no Authorization header. */
function getOperation(query: string, headers: Record<string, string>, token: string | null = MARKER_TOKEN) {
  const url = new URL(gw.url);
  url.searchParams.set('query', query);
  return fetch(url, { headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...headers } });
}

describe('CSRF: requests a browser sends cross-site without a preflight are refused', () => {
  test.each([
    ['application/x-www-form-urlencoded', `query=${encodeURIComponent(ADD)}`],
    ['multipart/form-data; boundary=x', `--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${OPERATION}\r\n--x--\r\n`],
    ['text/plain', OPERATION],
    ['text/plain;charset=UTF-8', OPERATION],
  ])('POST %s: 415, nothing runs', async (contentType, body) => {
    const res = await fetch(gw.url, { method: 'POST', headers: { 'content-type': contentType, authorization: `Bearer ${MARKER_TOKEN}` }, body });
    expect(res.status).toBe(415);
    expect((await res.json()).errors[0]).toEqual({
      message: expect.stringMatching(/must be sent as Content-Type: application\/json/),
      extensions: { code: 'CSRF_PREVENTED' },
    });
    expect(upstream.requests).toHaveLength(0);
  });

  test('POST with no Content-Type (a Blob body in no-cors mode): 415', async () => {
    const res = await fetch(gw.url, { method: 'POST', body: new Uint8Array(Buffer.from(OPERATION)) });
    expect(res.status).toBe(415);
    expect(upstream.requests).toHaveLength(0);
  });

  test('GET with only simple headers: 400, nothing runs', async () => {
    const res = await getOperation('{ challenge(id: "1") { id } }', { accept: 'application/json' }, null);
    expect(res.status).toBe(400);
    expect((await res.json()).errors[0]).toEqual({
      message: expect.stringMatching(/needs a header that forces a CORS preflight/),
      extensions: { code: 'CSRF_PREVENTED' },
    });
    expect(upstream.requests).toHaveLength(0);
  });

  test.each([
    ['content-type: application/json (Apollo Client)', { 'content-type': 'application/json' }],
    ['apollo-require-preflight', { 'apollo-require-preflight': 'true' }],
    ['x-apollo-operation-name', { 'x-apollo-operation-name': 'C' }],
    ['authorization alone (urql)', { authorization: `Bearer ${MARKER_TOKEN}` }],
  ])('GET with %s runs', async (_label, headers) => {
    const res = await getOperation('query C { __typename }', headers, null);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
  });

  test("urql's default GET for short queries runs", async () => {
    upstream.respondWith({ status: 200, body: { id: 1, titles: [], images: [], descriptions: [] } });
    const client = new Client({
      url: gw.url.href,
      exchanges: [fetchExchange],
      fetchOptions: { headers: { authorization: `Bearer ${MARKER_TOKEN}` } },
    });
    const result = await client.query(gql`query UrqlGet { challenge(id: "1") { id } }`, {}).toPromise();
    const logged = gw.logs.map((line) => JSON.parse(line)).find((entry) => entry.operationName === 'UrqlGet');
    expect(logged?.method).toBe('GET');
    expect(result.error).toBeUndefined();
    expect(result.data).toEqual({ challenge: { id: '1' } });
    expect(upstream.requests).toHaveLength(1);
  });

  test('the GraphiQL page (a GET with no operation) still opens', async () => {
    const res = await fetch(gw.url, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<html');
  });
});

describe('CORS', () => {
  const preflight = (target: TestGateway, origin: string) =>
    fetch(target.url, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
    });

  test('no origin is allowed cross-origin by default', async () => {
    const res = await preflight(gw, 'https://evil.example');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const post = await fetch(gw.url, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/json' }, body: '{"query":"{__typename}"}' });
    expect(post.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('CORS_ORIGINS allows the listed origins and no other', async () => {
    const listed = await startGateway({ upstreamUrl: upstream.url, env: { CORS_ORIGINS: 'https://app.example.test, https://admin.example.test' } });
    try {
      const allowed = await preflight(listed, 'https://admin.example.test');
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://admin.example.test');
      expect(allowed.headers.get('access-control-allow-methods')).toBe('GET, POST');
      const other = await preflight(listed, 'https://evil.example');
      expect(other.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
    } finally {
      await listed.close();
    }
  });
});

test('the Authorization header reaches no log line, error or metric, even when requests fail or are refused', async () => {
  upstream.queue({ status: 200, body: challengeHistoryBody() }, { status: 500 }, { reset: 'before-response' }, { status: 302, headers: { location: 'http://127.0.0.1:1/' } });
  const token = { token: MARKER_TOKEN };
  const answers = [
    ...(await Promise.all([1, 2, 3, 4].map(() => addChallengeHistory(gw, '7', token)))).map((r) => JSON.stringify(r.body)),
    JSON.stringify((await gw.graphql({ query: '{ nope }' }, token)).body),
    JSON.stringify((await gw.graphql({ query: `mutation { ${'addChallengeHistory(ambassadorId: "1", input: {points: 1, score: 1}) { __typename } '.repeat(11)} }` }, token)).body),
    await (await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'text/plain', authorization: `Bearer ${MARKER_TOKEN}` }, body: OPERATION })).text(),
    await (await getOperation('{ __typename }', {})).text(),
    await (await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${MARKER_TOKEN}` }, body: '{"query": ' })).text(),
  ];
  const metrics = await (await fetch(new URL('/metrics', gw.url))).text();

  expect(upstream.requests.map((r) => r.headers.authorization)).toEqual(Array(4).fill(`Bearer ${MARKER_TOKEN}`));
  for (const text of [...answers, metrics, ...gw.logs]) {
    expect(text).not.toContain(MARKER_TOKEN);
    expect(text.toLowerCase()).not.toContain('bearer');
  }
});
