// The sandbox upstream, through the gateway: what a newcomer sees after `npm start`.

import { expect, test } from 'vitest';
import { SANDBOX_TOKENS, startSandboxUpstream } from '../../src/sandbox/index.js';
import { useGatewayOn } from '../support/gateway.js';

const ADD = /* GraphQL */ `
  mutation ($ambassadorId: ID!, $input: AddChallengeHistoryInput!) {
    addChallengeHistory(ambassadorId: $ambassadorId, input: $input) {
      __typename
      ... on AddChallengeHistorySuccess { challengeHistory { id points ambassador { id fullName } challenge { id title nbWins } } }
      ... on AmbassadorNotFoundError { message ambassadorId }
      ... on ValidationError { message fieldErrors { field path messages } }
    }
  }
`;

const { upstream: sandbox, gw } = useGatewayOn(startSandboxUpstream);

const add = (variables: Record<string, unknown>, token: string = SANDBOX_TOKENS.manager) =>
  gw.graphql({ query: ADD, variables }, { token });

test('the manager token records a history and counts the win', async () => {
  const first = await add({ ambassadorId: '1', input: { points: 100, score: 87.5, challengeId: '1' } });
  const second = await add({ ambassadorId: '2', input: { points: 10, score: 1, challengeId: '1' } });
  expect(first.body.data.addChallengeHistory).toEqual({
    __typename: 'AddChallengeHistorySuccess',
    challengeHistory: { id: expect.any(String), points: 100, ambassador: { id: '1', fullName: 'Ada Lovelace' }, challenge: { id: '1', title: 'First sale', nbWins: 1 } },
  });
  expect(second.body.data.addChallengeHistory.challengeHistory.challenge.nbWins).toBe(2);
  expect(sandbox.histories).toHaveLength(2);
});

test('an unknown ambassador is AmbassadorNotFoundError', async () => {
  const res = await add({ ambassadorId: '999', input: { points: 1, score: 1 } });
  expect(res.body.data.addChallengeHistory).toMatchObject({ __typename: 'AmbassadorNotFoundError', ambassadorId: '999' });
});

test('what the real API refuses is a Laravel 422, mapped to ValidationError', async () => {
  const res = await add({ ambassadorId: '1', input: { points: -5, score: 1, challengeId: '999', message: 'x'.repeat(300) } });
  expect(res.body.data.addChallengeHistory).toEqual({
    __typename: 'ValidationError',
    message: 'The points field must be at least 0. (and 2 more errors)',
    fieldErrors: [
      { field: 'points', path: ['input', 'points'], messages: ['The points field must be at least 0.'] },
      { field: 'message', path: ['input', 'message'], messages: ['The message field must not be greater than 255 characters.'] },
      { field: 'challenge_id', path: ['input', 'challengeId'], messages: ['The selected challenge id is invalid.'] },
    ],
  });
});

test('the forbidden token gets FORBIDDEN, any other token UNAUTHENTICATED', async () => {
  const forbidden = await add({ ambassadorId: '1', input: { points: 1, score: 1 } }, SANDBOX_TOKENS.forbidden);
  const unknown = await add({ ambassadorId: '1', input: { points: 1, score: 1 } }, 'made-up');
  expect(forbidden.body.errors[0].extensions).toEqual({ code: 'FORBIDDEN', outcomeUnknown: false });
  expect(unknown.body.errors[0].extensions).toEqual({ code: 'UNAUTHENTICATED', outcomeUnknown: false });
});

test('challenges are readable, unknown ones are null', async () => {
  const res = await gw.graphql(
    { query: '{ c2: challenge(id: "2") { id title(lang: FR_FR) active challengeableType } c9: challenge(id: "9") { id } }' },
    { token: SANDBOX_TOKENS.manager },
  );
  expect(res.body).toEqual({
    data: { c2: { id: '2', title: 'Publiez trois avis', active: true, challengeableType: 'content' }, c9: null },
  });
});
