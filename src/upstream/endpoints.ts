// The upstream endpoints the gateway calls (specs in the upstream's documentation), one
// descriptor each. Adding an endpoint starts here: docs/architecture.md, "How to add an endpoint".

import { decodeChallenge, decodeChallengeHistory } from './decode.js';
import { AmbassadorNotFoundError } from './errors.js';
import type { Endpoint } from './endpoint.js';
import type { ChallengeHistoryRecord, ChallengeRecord, NewChallengeHistory } from './types.js';

/** Records that an ambassador completed a challenge and awards its points. Never retried. */
export const ADD_CHALLENGE_HISTORY: Endpoint<'/manager/ambassadors/{id}/challenge-histories', NewChallengeHistory, ChallengeHistoryRecord> = {
  method: 'POST',
  route: '/manager/ambassadors/{id}/challenge-histories',
  encode: (input) => {
    const body: Record<string, unknown> = { points: input.points, score: input.score };
    if (input.message != null) body.message = input.message;
    if (input.challengeId != null) body.challenge_id = input.challengeId;
    return body;
  },
  decode: (body, { id }, input) => decodeChallengeHistory(body, { ambassadorId: id, challengeId: input.challengeId ?? null }),
  record: 'challenge history',
  // The ambassador does not exist: a typed result, nothing was recorded.
  notFound: ({ id }) => {
    throw new AmbassadorNotFoundError(String(id));
  },
};

/** One challenge; null when the upstream does not know the id. */
export const CHALLENGE: Endpoint<'/manager/challenges/{id}', void, ChallengeRecord | null> = {
  method: 'GET',
  route: '/manager/challenges/{id}',
  decode: (body, { id }) => decodeChallenge(body, id),
  record: 'challenge',
  notFound: () => null,
};
