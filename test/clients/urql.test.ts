// urql (@urql/core with its document cache and fetch exchange) against a gateway on the sandbox upstream.

import { Client, cacheExchange, fetchExchange, gql } from '@urql/core';
import { expect, test } from 'vitest';
import { SANDBOX_TOKENS, startSandboxUpstream } from '../../src/sandbox/index.js';
import { useGatewayOn } from '../support/gateway.js';
import { ADD_CHALLENGE_HISTORY, INVALID_VARIABLES, NOT_FOUND_VARIABLES, SUCCESS_VARIABLES } from './operations.js';

const ADD = gql(ADD_CHALLENGE_HISTORY);

const { upstream: sandbox, gw } = useGatewayOn(startSandboxUpstream);

function urql(token: string): Client {
  return new Client({
    url: gw.url.href,
    exchanges: [cacheExchange, fetchExchange],
    fetchOptions: { headers: { authorization: `Bearer ${token}` } },
  });
}

test('success, AmbassadorNotFoundError and ValidationError, told apart by __typename', async () => {
  const client = urql(SANDBOX_TOKENS.manager);

  const success = await client.mutation(ADD, SUCCESS_VARIABLES).toPromise();
  expect(success.error).toBeUndefined();
  expect(success.data.addChallengeHistory).toMatchObject({
    __typename: 'AddChallengeHistorySuccess',
    challengeHistory: { points: 100, ambassador: { fullName: 'Ada Lovelace' }, challenge: { title: 'First sale' } },
  });

  const notFound = await client.mutation(ADD, NOT_FOUND_VARIABLES).toPromise();
  expect(notFound.data.addChallengeHistory).toEqual({ __typename: 'AmbassadorNotFoundError', message: 'Ambassador 999 does not exist.', ambassadorId: '999' });

  const invalid = await client.mutation(ADD, INVALID_VARIABLES).toPromise();
  expect(invalid.data.addChallengeHistory).toMatchObject({
    __typename: 'ValidationError',
    message: expect.any(String),
    fieldErrors: [{ field: 'challenge_id', path: ['input', 'challengeId'], messages: ['The selected challenge id is invalid.'] }],
  });
});

test('UNAUTHENTICATED is read from urql\'s CombinedError', async () => {
  const result = await urql('not-a-sandbox-token').mutation(ADD, SUCCESS_VARIABLES).toPromise();
  expect(result.data).toBeNull();
  expect(result.error?.graphQLErrors[0]?.extensions.code).toBe('UNAUTHENTICATED');
  expect(result.error?.networkError).toBeUndefined();
});
