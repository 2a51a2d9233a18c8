// Apollo Client (its real HttpLink and InMemoryCache, with the generated possibleTypes) against
// a gateway on the sandbox upstream.

import { ApolloClient, CombinedGraphQLErrors, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { expect, test } from 'vitest';
import type { TypedDocumentNode } from '@apollo/client';
import possibleTypesResult from '../../src/generated/possible-types.json' with { type: 'json' };
import { SANDBOX_TOKENS, startSandboxUpstream } from '../../src/sandbox/index.js';
import { useGatewayOn } from '../support/gateway.js';
import type { AddChallengeHistoryData } from './operations.js';
import { ADD_CHALLENGE_HISTORY, RESULT_FRAGMENTS, INVALID_VARIABLES, NOT_FOUND_VARIABLES, SUCCESS_VARIABLES } from './operations.js';

const ADD: TypedDocumentNode<AddChallengeHistoryData> = gql(ADD_CHALLENGE_HISTORY);
const CACHED_RESULT = gql`
  fragment CachedResult on Mutation {
    addChallengeHistory(ambassadorId: $ambassadorId, input: $input) { ...AddChallengeHistoryResultFields }
  }
  ${RESULT_FRAGMENTS}
`;

const { upstream: sandbox, gw } = useGatewayOn(startSandboxUpstream);

function apollo(token: string) {
  return new ApolloClient({
    link: new HttpLink({ uri: gw.url.href, headers: { authorization: `Bearer ${token}` } }),
    cache: new InMemoryCache({ possibleTypes: possibleTypesResult.possibleTypes }),
  });
}

/** The mutation's result as the cache holds it (read back through the union and interface fragments). */
function readFromCache(client: ApolloClient, variables: Record<string, unknown>) {
  return client.cache.readFragment({ id: 'ROOT_MUTATION', fragment: CACHED_RESULT, fragmentName: 'CachedResult', variables });
}

test('success, AmbassadorNotFoundError and ValidationError, read through __typename and fragments, and cached whole', async () => {
  const client = apollo(SANDBOX_TOKENS.manager);

  const success = await client.mutate({ mutation: ADD, variables: SUCCESS_VARIABLES, keepRootFields: true });
  const result = success.data!.addChallengeHistory;
  if (result.__typename !== 'AddChallengeHistorySuccess') throw new Error(`expected a success, got ${result.__typename}`);
  expect(result.challengeHistory).toMatchObject({ points: 100, ambassador: { id: '1', fullName: 'Ada Lovelace' }, challenge: { id: '1', title: 'First sale' } });
  // Normalized by id, so other queries see it.
  const historyId = client.cache.identify(result.challengeHistory);
  expect(client.cache.readFragment({ id: historyId, fragment: gql`fragment P on ChallengeHistory { points }` })).toMatchObject({ points: 100 });

  const notFound = await client.mutate({ mutation: ADD, variables: NOT_FOUND_VARIABLES, keepRootFields: true });
  expect(notFound.data?.addChallengeHistory).toEqual({
    __typename: 'AmbassadorNotFoundError',
    message: 'Ambassador 999 does not exist.',
    ambassadorId: '999',
  });
  // Read back from the cache through the union and Error-interface fragments (possibleTypes).
  expect(readFromCache(client, NOT_FOUND_VARIABLES)).toEqual(notFound.data);

  const invalid = await client.mutate({ mutation: ADD, variables: INVALID_VARIABLES, keepRootFields: true });
  expect(invalid.data?.addChallengeHistory).toMatchObject({
    __typename: 'ValidationError',
    message: expect.any(String),
    fieldErrors: [{ __typename: 'FieldError', field: 'challenge_id', path: ['input', 'challengeId'], messages: ['The selected challenge id is invalid.'] }],
  });
  expect(readFromCache(client, INVALID_VARIABLES)).toEqual(invalid.data);
});

test('UNAUTHENTICATED is read from the error Apollo Client rejects with', async () => {
  const client = apollo('not-a-sandbox-token');
  const error: unknown = await client.mutate({ mutation: ADD, variables: SUCCESS_VARIABLES }).catch((e: unknown) => e);
  expect(CombinedGraphQLErrors.is(error)).toBe(true);
  const { errors } = error as CombinedGraphQLErrors;
  expect(errors[0]?.extensions?.code).toBe('UNAUTHENTICATED');
});
