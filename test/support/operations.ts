// Operations and helpers that tests in several folders share.

import type { TestGateway } from './gateway.js';

export const ADD = /* GraphQL */ `
  mutation Add($ambassadorId: ID!, $input: AddChallengeHistoryInput!) {
    addChallengeHistory(ambassadorId: $ambassadorId, input: $input) {
      __typename
      ... on AddChallengeHistorySuccess { challengeHistory { id } }
      ... on Error { message }
    }
  }
`;

export const VALID_INPUT = { points: 42, score: 12.5, message: 'well done', challengeId: '3' };

export function addChallengeHistory(gw: Pick<TestGateway, 'graphql'>, ambassadorId = '7', options?: { token?: string | null }) {
  return gw.graphql({ query: ADD, variables: { ambassadorId, input: VALID_INPUT } }, options);
}

/** Polls a cheap condition (socket counts, a flag) until it holds; bounded. */
export async function eventually(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A latch a scripted upstream answer can wait on, so a test decides when a "slow" call ends. */
export function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}
