// subgraph.graphql (as committed) composes with another subgraph into a supergraph. The Guild's
// composition reports errors only (it has no hints), so "no errors" is the whole verdict.

import { compositionHasErrors } from '@theguild/federation-composition';
import { expect, test } from 'vitest';
import { composeSupergraph } from './leaderboard-subgraph.js';

test('subgraph.graphql composes with a second subgraph that extends Challenge and Ambassador', () => {
  const result = composeSupergraph({ challenges: 'http://challenges.test/graphql', leaderboard: 'http://leaderboard.test/graphql' });
  if (compositionHasErrors(result)) expect.fail(result.errors.map((e) => e.message).join('\n'));

  const supergraph = result.supergraphSdl;
  // Challenge is resolvable by id in both subgraphs; Ambassador only in the one that can read it.
  expect(supergraph).toContain('type Challenge @join__type(graph: CHALLENGES, key: "id") @join__type(graph: LEADERBOARD, key: "id")');
  expect(supergraph).toContain('type Ambassador @join__type(graph: CHALLENGES, key: "id", resolvable: false) @join__type(graph: LEADERBOARD, key: "id")');
  expect(supergraph).toContain('leaderboardPosition: Int @join__field(graph: LEADERBOARD)');
  expect(supergraph).toContain('email: String @join__field(graph: LEADERBOARD)');
  expect(supergraph).toContain('addChallengeHistory(ambassadorId: ID!, input: AddChallengeHistoryInput!): AddChallengeHistoryResult!');

  // What clients of the router see: both subgraphs' fields, none of federation's plumbing.
  expect(result.publicSdl).toMatch(/type Challenge \{[^}]*title\(lang: Locale\): String[^}]*leaderboardPosition: Int/);
  expect(result.publicSdl).not.toMatch(/_entities|_service|@key/);
});
