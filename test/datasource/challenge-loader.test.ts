// The per-request challenge loader, through the real gateway on loopback: what the scriptable
// upstream received (how many GETs, with which token, how many at once) for _entities calls and
// aliased challenge(id:) fields, and how each id's failure reaches the client.

import { beforeEach, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../../src/app/config.js';
import { TEST_TOKEN, useGatewayOn } from '../support/gateway.js';
import { challengeById, startScriptableUpstream } from '../support/scriptable-upstream.js';
import type { ScriptableUpstream, ScriptedResponse } from '../support/scriptable-upstream.js';

const ENTITIES = /* GraphQL */ `
  query ($representations: [_Any!]!) {
    _entities(representations: $representations) {
      __typename
      ... on Challenge { id title active }
    }
  }
`;

const CONCURRENCY = 2;

const { upstream, gw } = useGatewayOn(startScriptableUpstream, { CHALLENGE_LOAD_CONCURRENCY: String(CONCURRENCY), UPSTREAM_TIMEOUT_MS: '1000' });
beforeEach(() => {
  upstream.reset();
  upstream.respondWith(challengeById());
});

const challenges = (...ids: (string | number)[]) => ids.map((id) => ({ __typename: 'Challenge', id: String(id) }));
const getsOf = (up: ScriptableUpstream) => up.requests.filter((r) => r.method === 'GET').map((r) => r.url).sort();
const entities = (representations: object[], options?: { token?: string | null }) =>
  gw.graphql({ query: ENTITIES, variables: { representations } }, options);

/** Answers by challenge id: `byId[id]` when scripted, else the challenge. */
function scriptById(byId: Record<number, ScriptedResponse>): void {
  const ok = challengeById();
  upstream.respondWith((request) => byId[Number(/(\d+)$/.exec(request.url)?.[1])] ?? ok(request));
}

test('100 Challenge representations over 7 distinct ids cost 7 GETs, answered in order', async () => {
  const ids = Array.from({ length: 100 }, (_, i) => (i % 7) + 1);
  const res = await entities(challenges(...ids));

  expect(res.body.errors).toBeUndefined();
  expect(res.body.data._entities.map((c: { id: string }) => c.id)).toEqual(ids.map(String));
  expect(res.body.data._entities[0]).toEqual({ __typename: 'Challenge', id: '1', title: 'Challenge 1', active: true });
  expect(getsOf(upstream)).toEqual([1, 2, 3, 4, 5, 6, 7].map((id) => `/api/v2/manager/challenges/${id}`));
  for (const request of upstream.requests) expect(request.headers.authorization).toBe(`Bearer ${TEST_TOKEN}`);
});

test('aliased challenge(id:) fields cost one GET per distinct id', async () => {
  const res = await gw.graphql({
    query: '{ a: challenge(id: "3") { id } b: challenge(id: "3") { title } c: challenge(id: "5") { id } d: challenge(id: "5") { active } }',
  });
  expect(res.body).toEqual({ data: { a: { id: '3' }, b: { title: 'Challenge 3' }, c: { id: '5' }, d: { active: true } } });
  expect(getsOf(upstream)).toEqual(['/api/v2/manager/challenges/3', '/api/v2/manager/challenges/5']);
});

test(`the GETs of one batch run at most CHALLENGE_LOAD_CONCURRENCY (${CONCURRENCY}) at a time`, async () => {
  let inFlight = 0;
  let mostInFlight = 0;
  const ok = challengeById();
  upstream.respondWith(async (request) => {
    mostInFlight = Math.max(mostInFlight, ++inFlight);
    await new Promise((resolve) => setTimeout(resolve, 60)); // upstream latency, so calls overlap
    inFlight -= 1;
    return ok(request);
  });
  const res = await entities(challenges(1, 2, 3, 4, 5, 6));
  expect(res.body.data._entities).toHaveLength(6);
  expect(upstream.requests).toHaveLength(6);
  expect(mostInFlight).toBe(CONCURRENCY);
});

test("each id's failure is its own coded error; the other ids still answer", async () => {
  scriptById({
    4: { status: 403 },
    5: { status: 401, body: { message: 'Unauthorized.' } },
    6: { status: 404, body: 'Not found' },
    7: { status: 200, delayMs: 3_000 }, // beyond UPSTREAM_TIMEOUT_MS
  });
  const res = await entities(challenges(3, 4, 5, 6, 7, 4));

  expect(res.body.data._entities).toEqual([{ __typename: 'Challenge', id: '3', title: 'Challenge 3', active: true }, null, null, null, null, null]);
  const codes = Object.fromEntries(res.body.errors.map((e: { path: unknown[]; extensions: { code: string } }) => [e.path.join('.'), e.extensions.code]));
  expect(codes).toEqual({
    '_entities.1': 'FORBIDDEN',
    '_entities.2': 'UNAUTHENTICATED',
    '_entities.4': 'UPSTREAM_TIMEOUT',
    '_entities.5': 'FORBIDDEN', // the repeated id shares the one GET's answer
  });
  expect(getsOf(upstream)).toHaveLength(5);
  for (const error of res.body.errors) expect(error.extensions).not.toHaveProperty('outcomeUnknown');
});

test('aliased challenge(id:) fields fail alone, with the same codes', async () => {
  scriptById({ 4: { status: 403 }, 5: { status: 429, headers: { 'retry-after': '7' } } });
  // Its own caller: one answered 429 with Retry-After is refused locally until then (later tests use TEST_TOKEN).
  const res = await gw.graphql({ query: '{ a: challenge(id: "3") { id } b: challenge(id: "4") { id } c: challenge(id: "5") { id } }' }, { token: 'aliased-fields-token-0123456789' });
  expect(res.body.data).toEqual({ a: { id: '3' }, b: null, c: null });
  expect(res.body.errors).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ path: ['b'], extensions: { code: 'FORBIDDEN' } }),
      expect.objectContaining({ path: ['c'], extensions: { code: 'RATE_LIMITED', retryAfter: 7 } }),
    ]),
  );
});

test('an invalid id in a representation is BAD_USER_INPUT for that one, without a GET', async () => {
  const res = await entities(challenges(3, '1/../2', 0));
  expect(res.body.data._entities).toEqual([expect.objectContaining({ id: '3' }), null, null]);
  expect(res.body.errors.map((e: { path: unknown[]; extensions: { code: string } }) => [e.path, e.extensions.code])).toEqual([
    [['_entities', 1], 'BAD_USER_INPUT'],
    [['_entities', 2], 'BAD_USER_INPUT'],
  ]);
  expect(getsOf(upstream)).toEqual(['/api/v2/manager/challenges/3']);
});

test('without a token, _entities is UNAUTHENTICATED and nothing is read', async () => {
  const res = await entities(challenges(3, 4), { token: null });
  expect(res.body.data._entities).toEqual([null, null]);
  expect(res.body.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
  expect(upstream.requests).toHaveLength(0);
});

test('loaders are never shared: concurrent callers each get their own GET, with their own token', async () => {
  const [first, second] = await Promise.all([
    entities(challenges(3, 3), { token: 'caller-one' }),
    entities(challenges(3, 3), { token: 'caller-two' }),
  ]);
  expect(first.body.data._entities).toHaveLength(2);
  expect(second.body.data._entities).toHaveLength(2);
  expect(upstream.requests.map((r) => r.headers.authorization).sort()).toEqual(['Bearer caller-one', 'Bearer caller-two']);
});

test('this subgraph refuses Ambassador references (its key is not resolvable), one representation at a time', async () => {
  const res = await gw.graphql({
    query: 'query ($r: [_Any!]!) { _entities(representations: $r) { __typename } }',
    variables: { r: [{ __typename: 'Ambassador', id: '7' }, { __typename: 'Challenge', id: '3' }] },
  });
  expect(res.body.data._entities).toEqual([null, { __typename: 'Challenge' }]);
  expect(res.body.errors).toHaveLength(1);
  expect(res.body.errors[0]).toMatchObject({ path: ['_entities', 0], message: expect.stringMatching(/cannot resolve Ambassador references/) });
  expect(getsOf(upstream)).toEqual(['/api/v2/manager/challenges/3']);
});

test('CHALLENGE_LOAD_CONCURRENCY defaults to 8 and must be a whole number from 1', () => {
  expect(loadConfig({}).challengeLoadConcurrency).toBe(8);
  expect(gw.config.challengeLoadConcurrency).toBe(CONCURRENCY);
  expect(() => loadConfig({ CHALLENGE_LOAD_CONCURRENCY: '0' })).toThrow(ConfigError);
  expect(() => loadConfig({ CHALLENGE_LOAD_CONCURRENCY: 'many' })).toThrow(/CHALLENGE_LOAD_CONCURRENCY must be a whole number/);
});
