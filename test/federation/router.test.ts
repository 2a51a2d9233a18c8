// End to end through a real federation router: Hive Gateway's runtime, in this process, runs the
// supergraph composed from subgraph.graphql and the leaderboard subgraph, and routes to this
// gateway (on the scriptable upstream) and to the leaderboard subgraph, over loopback sockets.
// The router's header rule is the one the README tells operators to configure.

import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import type { GatewayRuntime } from '@graphql-hive/gateway-runtime';
import { compositionHasErrors } from '@theguild/federation-composition';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { postGraphQL, TEST_TOKEN, useGatewayOn } from '../support/gateway.js';
import { challengeById, challengeHistoryBody, startScriptableUpstream } from '../support/scriptable-upstream.js';
import {
  ambassadorEmail,
  composeSupergraph,
  leaderboardPosition,
  startLeaderboardSubgraph,
  SUBGRAPH_NAMES,
} from './leaderboard-subgraph.js';
import type { LeaderboardSubgraph } from './leaderboard-subgraph.js';

const ADD = /* GraphQL */ `
  mutation Add($ambassadorId: ID!, $input: AddChallengeHistoryInput!) {
    addChallengeHistory(ambassadorId: $ambassadorId, input: $input) {
      __typename
      ... on AddChallengeHistorySuccess {
        challengeHistory {
          id points
          ambassador { id fullName email }
          challenge { id title nbWins leaderboardPosition }
        }
      }
      ... on Error { message }
      ... on AmbassadorNotFoundError { ambassadorId }
      ... on ValidationError { fieldErrors { field path messages } }
    }
  }
`;
const INPUT = { points: 42, score: 12.5, challengeId: '3' };

const { upstream, gw } = useGatewayOn(startScriptableUpstream);
let leaderboard: LeaderboardSubgraph;
let router: GatewayRuntime;
let routerServer: Server;
let routerUrl: URL;

beforeAll(async () => {
  leaderboard = await startLeaderboardSubgraph();
  const composed = composeSupergraph({ challenges: gw.url.href, leaderboard: leaderboard.url.href });
  if (compositionHasErrors(composed)) throw new Error(composed.errors.map((e) => e.message).join('\n'));

  router = createGatewayRuntime({
    supergraph: composed.supergraphSdl,
    logging: false,
    propagateHeaders: {
      // The caller's token goes to the challenges subgraph only (it forwards it to the upstream).
      fromClientToSubgraphs: ({ request, subgraphName }) =>
        subgraphName === SUBGRAPH_NAMES.challenges
          ? { authorization: request.headers.get('authorization'), 'x-request-id': request.headers.get('x-request-id') }
          : {},
    },
  });
  routerServer = createServer(router);
  await new Promise<void>((resolve) => routerServer.listen(0, '127.0.0.1', resolve));
  routerUrl = new URL(`http://127.0.0.1:${(routerServer.address() as AddressInfo).port}/graphql`);
});
beforeEach(() => {
  upstream.reset();
  upstream.respondWith(challengeById());
  leaderboard.requests.length = 0;
});
afterAll(async () => {
  await new Promise<void>((resolve) => {
    routerServer.close(() => resolve());
    routerServer.closeAllConnections();
  });
  await router.dispose();
  await leaderboard.close();
});

const viaRouter = (query: string, variables?: Record<string, unknown>, options?: Parameters<typeof postGraphQL>[2]) =>
  postGraphQL(routerUrl, { query, variables }, options);

test('addChallengeHistory: planned across both subgraphs, the token reaching the upstream unchanged', async () => {
  const res = await viaRouter(ADD, { ambassadorId: '7', input: INPUT }, { headers: { 'x-request-id': 'router-test-1' } });

  expect(res.body).toEqual({
    data: {
      addChallengeHistory: {
        __typename: 'AddChallengeHistorySuccess',
        challengeHistory: {
          id: '42',
          points: 42,
          ambassador: { id: '7', fullName: 'Ada Lovelace', email: ambassadorEmail('7') }, // email: leaderboard
          challenge: { id: '3', title: 'Hello', nbWins: 9, leaderboardPosition: leaderboardPosition('3') },
        },
      },
    },
  });
  expect(upstream.requests).toHaveLength(1); // the POST, once: nothing in the plan repeats it
  expect(upstream.requests[0]).toMatchObject({ method: 'POST', url: '/api/v2/manager/ambassadors/7/challenge-histories' });
  expect(upstream.requests[0]!.headers.authorization).toBe(`Bearer ${TEST_TOKEN}`);
  expect(upstream.requests[0]!.headers['x-request-id']).toBe('router-test-1');
  // The router asked the leaderboard for the entities it adds, without the caller's token.
  expect(leaderboard.requests.length).toBeGreaterThan(0);
  for (const headers of leaderboard.requests) expect(headers).not.toHaveProperty('authorization');
});

test('challenge(id): read with the token, then extended by the leaderboard', async () => {
  const res = await viaRouter('query ($id: ID!) { challenge(id: $id) { id title active startDate leaderboardPosition } }', { id: '5' });
  expect(res.body).toEqual({
    data: {
      challenge: { id: '5', title: 'Challenge 5', active: true, startDate: '2026-01-01T00:00:00.000Z', leaderboardPosition: 50 },
    },
  });
  expect(upstream.requests.map((r) => [r.method, r.url, r.headers.authorization])).toEqual([
    ['GET', '/api/v2/manager/challenges/5', `Bearer ${TEST_TOKEN}`],
  ]);
});

test("the leaderboard's challenges are resolved by this subgraph's _entities: one GET per distinct id, with the token", async () => {
  // Hive Gateway sends each distinct representation once already; that the loader alone keeps
  // repeated representations to one GET is shown by calling _entities directly (test/loaders).
  leaderboard.feature(['3', '5', '3', '8', '5']);
  const res = await viaRouter('{ featuredChallenges { id title leaderboardPosition } }');
  expect(res.body.errors).toBeUndefined();
  expect(res.body.data.featuredChallenges).toEqual(
    ['3', '5', '3', '8', '5'].map((id) => ({ id, title: `Challenge ${id}`, leaderboardPosition: leaderboardPosition(id) })),
  );
  expect(upstream.requests.map((r) => r.url).sort()).toEqual(
    ['3', '5', '8'].map((id) => `/api/v2/manager/challenges/${id}`),
  );
  for (const request of upstream.requests) expect(request.headers.authorization).toBe(`Bearer ${TEST_TOKEN}`);
});

test('typed errors survive the hop: AmbassadorNotFoundError', async () => {
  upstream.respondWith({ status: 404, body: { message: 'Not found' } });
  const res = await viaRouter(ADD, { ambassadorId: '999', input: INPUT });
  expect(res.body).toEqual({
    data: {
      addChallengeHistory: { __typename: 'AmbassadorNotFoundError', message: 'Ambassador 999 does not exist.', ambassadorId: '999' },
    },
  });
});

test('typed errors survive the hop: ValidationError with its fieldErrors', async () => {
  upstream.respondWith({
    status: 422,
    body: {
      message: 'The points field must be at least 0. (and 1 more error)',
      errors: { points: ['The points field must be at least 0.'], challenge_id: ['The selected challenge id is invalid.'] },
    },
  });
  const res = await viaRouter(ADD, { ambassadorId: '7', input: { ...INPUT, points: -5 } });
  expect(res.body.data.addChallengeHistory).toEqual({
    __typename: 'ValidationError',
    message: 'The points field must be at least 0. (and 1 more error)',
    fieldErrors: [
      { field: 'points', path: ['input', 'points'], messages: ['The points field must be at least 0.'] },
      { field: 'challenge_id', path: ['input', 'challengeId'], messages: ['The selected challenge id is invalid.'] },
    ],
  });
});

test('extensions.code errors survive the hop, with outcomeUnknown on the mutation', async () => {
  upstream.respondWith({ status: 502 });
  const mutation = await viaRouter(ADD, { ambassadorId: '7', input: INPUT });
  expect(mutation.body.data).toBeNull();
  expect(mutation.body.errors[0]).toMatchObject({
    path: ['addChallengeHistory'],
    extensions: { code: 'UPSTREAM_UNAVAILABLE', outcomeUnknown: true },
  });
  expect(upstream.requests).toHaveLength(1);

  upstream.respondWith({ status: 403 });
  const query = await viaRouter('{ challenge(id: "5") { id leaderboardPosition } }');
  expect(query.body.data).toEqual({ challenge: null });
  expect(query.body.errors[0]).toMatchObject({ path: ['challenge'], extensions: { code: 'FORBIDDEN' } });

  upstream.respondWith({ status: 429, headers: { 'retry-after': '5' } });
  const limited = await viaRouter('{ challenge(id: "5") { id } }');
  expect(limited.body.errors[0]).toMatchObject({ path: ['challenge'], extensions: { code: 'RATE_LIMITED', retryAfter: 5 } });
});

test('no token at the router: UNAUTHENTICATED from this subgraph, and no upstream call', async () => {
  const res = await viaRouter(ADD, { ambassadorId: '7', input: INPUT }, { token: null });
  expect(res.body.data).toBeNull();
  expect(res.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  expect(upstream.requests).toHaveLength(0);
});
