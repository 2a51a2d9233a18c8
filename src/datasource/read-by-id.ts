// The per-request loader of any "read by id" endpoint: every read of one GraphQL operation goes
// through it, so each distinct id costs one upstream call (aliases, _entities representations),
// and every call runs within the HTTP request's concurrency limit.
//
// One loader per operation context, made with that caller's API: its cache holds what one caller
// may read, and must never answer another caller. Knows nothing of GraphQL: failures come out as
// they were thrown, per id.

import DataLoader from 'dataloader';
import type { Limit } from './fan-out.js';

/** Upstream id (a parsed positive int32) -> its record (or null, when the endpoint says so for a 404). */
export type ReadByIdLoader<Result> = DataLoader<number, Result>;

/** A loader that reads each id with `read`, at most `limit` of them at once. */
export function createReadByIdLoader<Result>(read: (id: number) => Promise<Result>, limit: Limit): ReadByIdLoader<Result> {
  // DataLoader's contract: an Error in the array rejects only that key's load.
  return new DataLoader<number, Result>((ids) =>
    Promise.all(ids.map((id) => limit(() => read(id)).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))))),
  );
}
