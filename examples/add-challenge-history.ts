// A small typed client: records that an ambassador completed a challenge, and handles each
// member of the result union. Its operation is typed by codegen (examples/generated/operations.ts).
//
//   npm start                                     # in another terminal: the gateway on the sandbox
//   npx tsx examples/add-challenge-history.ts     # ambassador 1, challenge 1, 100 points
//   npx tsx examples/add-challenge-history.ts 999 # AmbassadorNotFoundError
//
// GATEWAY_URL (default http://127.0.0.1:4000/graphql) and GATEWAY_TOKEN (default: the sandbox's
// manager token) point it elsewhere; IDEMPOTENCY_KEY (default: a new UUID) names the award. Exit code: 0 recorded, 2 refused, 1 error.

import { randomUUID } from 'node:crypto';
import { Client, fetchExchange } from '@urql/core';
import { AddChallengeHistoryDocument } from './generated/operations.js';
import type { AddChallengeHistoryMutation } from './generated/operations.js';

const url = process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000/graphql';
const token = process.env.GATEWAY_TOKEN ?? 'sandbox-manager-token';
const [ambassadorId = '1', challengeId = '1', points = '100'] = process.argv.slice(2);

const client = new Client({
  url,
  exchanges: [fetchExchange],
  fetchOptions: { headers: { authorization: `Bearer ${token}` } },
});

// One key per intended award: a real client keeps it with the pending award and sends it again on
// every retry, so a retry after a lost answer never awards twice (IDEMPOTENCY_KEY sets it here).
const idempotencyKey = process.env.IDEMPOTENCY_KEY ?? randomUUID();

const { data, error } = await client
  .mutation(AddChallengeHistoryDocument, {
    ambassadorId,
    input: { points: Number(points), score: 87.5, message: 'Recorded by the example client', challengeId, idempotencyKey },
  })
  .toPromise();

if (error || !data) {
  // A GraphQL error (UNAUTHENTICATED, UPSTREAM_TIMEOUT, ...) or a network error.
  const code = error?.graphQLErrors[0]?.extensions.code;
  console.error(`Failed${code ? ` (${String(code)})` : ''}: ${error?.message ?? 'no data'}`);
  process.exit(1);
}
process.exit(report(data.addChallengeHistory));

function report(result: AddChallengeHistoryMutation['addChallengeHistory']): number {
  switch (result.__typename) {
    case 'AddChallengeHistorySuccess': {
      const { id, points: awarded, ambassador, challenge } = result.challengeHistory;
      const replayed = result.replayed ? ' (a retry of an earlier request with this key: nothing new awarded)' : '';
      console.log(`Recorded challenge history ${id}: ${awarded} points for ${ambassador?.fullName} (${challenge?.title}).${replayed}`);
      return 0;
    }
    case 'AmbassadorNotFoundError':
      console.log(`Refused: ${result.message}`);
      return 2;
    case 'ValidationError':
      console.log(`Refused: ${result.message}`);
      for (const fieldError of result.fieldErrors) console.log(`  ${fieldError.path?.join('.') ?? fieldError.field}: ${fieldError.messages.join(' ')}`);
      return 2;
  }
}
