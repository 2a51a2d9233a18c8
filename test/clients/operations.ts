// The operation both client tests send, written as a frontend would: a fragment on the result
// union, one on the Error interface every refusal implements.

export const RESULT_FRAGMENTS = /* GraphQL */ `
  fragment RefusalFields on Error {
    message
  }

  fragment AddChallengeHistoryResultFields on AddChallengeHistoryResult {
    __typename
    ... on AddChallengeHistorySuccess {
      challengeHistory {
        id
        points
        ambassador { id fullName }
        challenge { id title }
      }
    }
    ...RefusalFields
    ... on AmbassadorNotFoundError { ambassadorId }
    ... on ValidationError { fieldErrors { field path messages } }
  }
`;

export const ADD_CHALLENGE_HISTORY = /* GraphQL */ `
  ${RESULT_FRAGMENTS}
  mutation AddChallengeHistory($ambassadorId: ID!, $input: AddChallengeHistoryInput!) {
    addChallengeHistory(ambassadorId: $ambassadorId, input: $input) {
      ...AddChallengeHistoryResultFields
    }
  }
`;

export const SUCCESS_VARIABLES = { ambassadorId: '1', input: { points: 100, score: 87.5, challengeId: '1' } };
export const NOT_FOUND_VARIABLES = { ambassadorId: '999', input: { points: 1, score: 1 } };
export const INVALID_VARIABLES = { ambassadorId: '1', input: { points: 1, score: 1, challengeId: '999' } };

/** What ADD_CHALLENGE_HISTORY selects, by member of the union. */
export type AddChallengeHistoryResult =
  | {
      __typename: 'AddChallengeHistorySuccess';
      challengeHistory: { id: string; points: number | null; ambassador: { id: string; fullName: string | null } | null; challenge: { id: string; title: string | null } | null };
    }
  | { __typename: 'AmbassadorNotFoundError'; message: string; ambassadorId: string }
  | { __typename: 'ValidationError'; message: string; fieldErrors: { field: string; path: string[] | null; messages: string[] }[] };

export interface AddChallengeHistoryData {
  addChallengeHistory: AddChallengeHistoryResult;
}
