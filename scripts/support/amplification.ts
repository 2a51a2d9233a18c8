// The amplification request of issue 18: one anonymous addChallengeHistories of `items` items the
// gateway's own argument checks refuse (ambassador id "x", an idempotencyKey of one space), each
// ValidationError selected through `aliases` aliases of `fieldErrors { field path messages }`.
// Within every per-request bound but GRAPHQL_MAX_COST (500 × 30 by default: cost 61,000); without
// that bound it made the gateway spend 0.4 s of CPU and write 6 MB.

export function amplificationRequest(items = 500, aliases = 30): { query: string; variables: { items: unknown[] } } {
  const selections = Array.from({ length: aliases }, (_, i) => `f${i}: fieldErrors { field path messages }`).join(' ');
  return {
    query: `mutation Amplify($items: [AddChallengeHistoryItemInput!]!) { addChallengeHistories(items: $items) { __typename ... on ValidationError { ${selections} } } }`,
    variables: {
      items: Array.from({ length: items }, () => ({ ambassadorId: 'x', input: { points: 1, score: 1, idempotencyKey: ' ' } })),
    },
  };
}
