// The per-request challenge loader: every challenge read of one GraphQL request (Query.challenge,
// aliased or not, and _entities representations) goes through it, so each distinct id costs one
// GET /manager/challenges/{id}, and the GETs of one batch run at most `concurrency` at a time.
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
import type { UpstreamClient } from '../upstream/client.js';
import type { ChallengeRecord, UpstreamCallOptions } from '../upstream/types.js';

/** Challenge id (a parsed positive int32) -> the challenge, or null when the upstream says 404. */
export type ChallengeLoader = DataLoader<number, ChallengeRecord | null>;

export interface ChallengeLoaderOptions {
  upstream: Pick<UpstreamClient, 'getChallenge'>;
  /** The caller's token and correlation headers, sent with every GET of this loader. */
  call: UpstreamCallOptions;
  /** Most GETs in flight at once for one batch (CHALLENGE_LOAD_CONCURRENCY). */
  concurrency: number;
}

export function createChallengeLoader({ upstream, call, concurrency }: ChallengeLoaderOptions): ChallengeLoader {
  return new DataLoader<number, ChallengeRecord | null>((ids) =>
    mapSettled(ids, concurrency, (id) => upstream.getChallenge(id, call)),
  );
}

/**
 * Runs `work` for every item, at most `limit` at a time, and returns each result or error in the
 * items' order (DataLoader's contract: an Error in the array rejects only that key's load).
 */
async function mapSettled<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<(R | Error)[]> {
  const results = new Array<R | Error>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!).catch((error: unknown) =>
        error instanceof Error ? error : new Error(String(error)),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
