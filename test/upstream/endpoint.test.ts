// Endpoint descriptors run by the client on real loopback sockets: the route template filled with
// checked int32 parameters, the body encoder, the decoder and what each endpoint says a 404 means.

import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { AmbassadorNotFoundError } from '../../src/upstream/errors.js';
import { UpstreamClient } from '../../src/upstream/client.js';
import { expandRoute } from '../../src/upstream/endpoint.js';
import { ADD_CHALLENGE_HISTORY, CHALLENGE } from '../../src/upstream/endpoints.js';
import { UpstreamError } from '../../src/upstream/errors.js';
import { challengeBody, challengeHistoryBody, startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream } from '../support/scriptable-upstream.js';

let upstream: ScriptableUpstream;
let client: UpstreamClient;
const call = { token: 'secret-token', headers: { 'x-request-id': 'req-1' } };

beforeAll(async () => {
  upstream = await startScriptableUpstream();
  client = new UpstreamClient({ baseUrl: new URL('/api/v2/', upstream.url), timeoutMs: 2_000, maxResponseBytes: 65_536, connections: 2 });
});
beforeEach(() => upstream.reset());
afterAll(async () => {
  await client.destroy();
  await upstream.close();
});

test('a read: the route filled in under the base path, the token and correlation headers sent, the body decoded', async () => {
  upstream.respondWith({ status: 200, body: challengeBody(5) });
  const challenge = await client.call(CHALLENGE, { id: 5 }, undefined, call);
  expect(challenge?.id).toBe(5);
  expect(upstream.requests).toHaveLength(1);
  const [request] = upstream.requests;
  expect(request).toMatchObject({ method: 'GET', url: '/api/v2/manager/challenges/5', body: '' });
  expect(request!.headers).toMatchObject({ authorization: 'Bearer secret-token', 'x-request-id': 'req-1' });
});

test("a read's 404 is its answer (null); the POST's 404 is a typed AmbassadorNotFoundError", async () => {
  upstream.respondWith({ status: 404, body: { message: 'Not found' } });
  await expect(client.call(CHALLENGE, { id: 6 }, undefined, call)).resolves.toBeNull();
  const error = await client.call(ADD_CHALLENGE_HISTORY, { id: 7 }, { points: 1, score: 2 }, call).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AmbassadorNotFoundError);
  expect((error as AmbassadorNotFoundError).ambassadorId).toBe('7');
  expect(upstream.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
    'GET /api/v2/manager/challenges/6',
    'POST /api/v2/manager/ambassadors/7/challenge-histories',
  ]);
});

test("the POST's encoder: snake_case keys, absent optional values left out", async () => {
  upstream.respondWith({ status: 201, body: challengeHistoryBody() });
  await client.call(ADD_CHALLENGE_HISTORY, { id: 7 }, { points: 10, score: 1.5, message: null, challengeId: 3 }, call);
  await client.call(ADD_CHALLENGE_HISTORY, { id: 8 }, { points: 1, score: 0, message: 'hi' }, call);
  expect(upstream.requests.map((r) => r.json)).toEqual([
    { points: 10, score: 1.5, challenge_id: 3 },
    { points: 1, score: 0, message: 'hi' },
  ]);
  expect(upstream.requests[0]!.headers['content-type']).toBe('application/json');
});

test('a 2xx body that is not JSON: bad_response, outcome unknown for the POST only', async () => {
  upstream.respondWith({ status: 200, body: '<html>maintenance</html>' });
  const read = await client.call(CHALLENGE, { id: 5 }, undefined, call).catch((e: unknown) => e);
  const write = await client.call(ADD_CHALLENGE_HISTORY, { id: 7 }, { points: 1, score: 1 }, call).catch((e: unknown) => e);
  expect(read).toMatchObject({ kind: 'bad_response', requestMayHaveBeenProcessed: false, message: 'upstream 2xx body is not a usable challenge' });
  expect(write).toMatchObject({ kind: 'bad_response', requestMayHaveBeenProcessed: true, message: 'upstream 2xx body is not a usable challenge history' });
  expect(read).toBeInstanceOf(UpstreamError);
});

test.each([0, -1, 2 ** 31, 1.5, Number.NaN, '5' as unknown as number])('route parameter %s is refused before anything is sent', async (id) => {
  expect(() => expandRoute(CHALLENGE.route, { id })).toThrow(RangeError);
  await expect(client.call(CHALLENGE, { id }, undefined, call)).rejects.toThrow(/must be a positive int32/);
  expect(upstream.requests).toHaveLength(0);
});

test('expandRoute fills every parameter of a template', () => {
  expect(expandRoute('/a/{id}/b/{other}', { id: 1, other: 2_147_483_647 })).toBe('/a/1/b/2147483647');
});
