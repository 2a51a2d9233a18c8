// The per-request challenge loader: every challenge read of one GraphQL request (Query.challenge,
// aliased or not, and _entities representations) goes through it, so each distinct id costs one
// GET /manager/challenges/{id}, and every GET runs within the HTTP request's concurrency limit.
//
// One loader per request, made in the context factory with that request's token: its cache holds
// what one caller may read, and must never answer another caller.
//
// It is never primed with the challenge embedded in an addChallengeHistory answer. That record
// lacks startDate, endDate, active, challengeableType and challengeable (and carries nbWins, which
// the GET lacks), so priming would turn a later read's real values into nulls. And a mutation
// operation reads no challenge through the loader: its selections read the embedded record itself.
//
// Knows nothing of GraphQL: failures come out as the client's UpstreamErrors, per id.

import DataLoader from 'dataloader';
import type { Limit } from '../concurrency.js';
import type { UpstreamClient } from '../upstream/client.js';
import type { ChallengeRecord, UpstreamCallOptions } from '../upstream/types.js';

/** Challenge id (a parsed positive int32) -> the challenge, or null when the upstream says 404. */
export type ChallengeLoader = DataLoader<number, ChallengeRecord | null>;

export interface ChallengeLoaderOptions {
  upstream: Pick<UpstreamClient, 'getChallenge'>;
  /** The caller's token and correlation headers, sent with every GET of this loader. */
  call: UpstreamCallOptions;
  /** Runs each GET: the HTTP request's limit (CHALLENGE_LOAD_CONCURRENCY, shared with its other calls). */
  limit: Limit;
}

export function createChallengeLoader({ upstream, call, limit }: ChallengeLoaderOptions): ChallengeLoader {
  // DataLoader's contract: an Error in the array rejects only that key's load.
  return new DataLoader<number, ChallengeRecord | null>((ids) =>
    Promise.all(
      ids.map((id) =>
        limit(() => upstream.getChallenge(id, call)).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))),
      ),
    ),
  );
}
