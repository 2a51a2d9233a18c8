// The document GraphiQL opens with, written for a person in the editor (examples/operations.graphql
// is the one a typed client program sends: alike in shape, different in purpose). Its comments fit
// the query editor of a 1280-px-wide window; the page puts a new key in place of
// EXAMPLE_IDEMPOTENCY_KEY at each load (start-script.ts), so Run awards once and Run again answers
// replayed: true.

import { EXAMPLE_IDEMPOTENCY_KEY } from './start-script.js';

export const EXAMPLE_MUTATION = `# Record that ambassador 1 completed
# challenge 1. idempotencyKey names this
# award, new per page load: Run it twice
# and the second answers replayed: true,
# awarding nothing. Reload for a new award.
# Try ambassadorId "999"
# (AmbassadorNotFoundError), challengeId
# "999" (ValidationError), or another token
# in Headers (UNAUTHENTICATED / FORBIDDEN).
mutation AddChallengeHistory {
  addChallengeHistory(
    ambassadorId: "1"
    input: {
      points: 100
      score: 87.5
      message: "Great first sale!"
      challengeId: "1"
      idempotencyKey: "${EXAMPLE_IDEMPOTENCY_KEY}"
    }
  ) {
    __typename
    ... on AddChallengeHistorySuccess {
      replayed
      challengeHistory {
        id
        points
        score
        message
        createdAt
        ambassador { id fullName username }
        challenge { id title nbWins titles { lang content } }
      }
    }
    ... on AmbassadorNotFoundError { message ambassadorId }
    ... on ValidationError { message fieldErrors { field path messages } }
  }
}
`;
