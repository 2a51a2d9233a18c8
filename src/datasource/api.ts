// datasource/: the upstream as resolvers see it, bound to the caller: the per-request API, its fan-out budget, loaders and read cache.
//
// The upstream as one GraphQL operation's resolvers see it: each endpoint a method, bound to the
// caller (token, correlation headers, call recorder) and to the HTTP request's fan-out limits.
// Resolvers never handle the token or build call options. Every failure comes out as what the
// client gets: a typed result, or a coded GraphQLError (src/errors/upstream-failures.ts).
//
// Without a token every call is refused here, before anything is sent: UNAUTHENTICATED (with
// outcomeUnknown: false from a write).

import type { ChallengeCache } from './challenge-cache.js';
import type { UpstreamFanOut } from './fan-out.js';
import { createReadByIdLoader } from './read-by-id.js';
import type { ReadByIdLoader } from './read-by-id.js';
import { idempotencyRefusalError } from '../errors/idempotency-refusals.js';
import { validationErrorFromUpstream } from '../errors/results.js';
import { mapUpstreamError } from '../errors/upstream-failures.js';
import type { WriteOutcome } from '../errors/upstream-failures.js';
import { IdempotencyRefusal, hashToken } from '../idempotency/index.js';
import type { Idempotency } from '../idempotency/index.js';
import type { UpstreamClient } from '../upstream/client.js';
import type { Endpoint, RouteParams } from '../upstream/endpoint.js';
import { ADD_CHALLENGE_HISTORY, CHALLENGE } from '../upstream/endpoints.js';
import { UpstreamError } from '../upstream/errors.js';
import type { ChallengeHistoryRecord, ChallengeRecord, NewChallengeHistory, UpstreamCallOptions, UpstreamCallRecorder } from '../upstream/types.js';

export interface Caller {
  /** The bearer token, or null when the request carries no usable one (every call is then refused). */
  token: string | null;
  /** Sent with every call (x-request-id, traceparent); never credentials. */
  headers: Record<string, string>;
  /** Told of each call, for the request's log line and spans. */
  recorder: UpstreamCallRecorder;
}

/** Keyed awards: at most one POST per idempotency key. */
export type AwardIdempotency = Idempotency<ChallengeHistoryRecord>;

export interface UpstreamApiOptions {
  client: UpstreamClient;
  caller: Caller;
  /** The HTTP request's call budget, concurrency limits and token-refusal stop. */
  fanOut: UpstreamFanOut;
  /** Runs keyed awards at most once per idempotency key. */
  idempotency: AwardIdempotency;
  /** Challenge reads kept per caller across requests (CHALLENGE_CACHE_TTL_S); null: off. */
  challengeCache?: ChallengeCache | null;
}

/** What a mutation field says of its upstream write's failures. */
export interface WriteField extends WriteOutcome {
  /** Where each upstream body field came from in the operation: a 422's FieldError.path. */
  argumentPaths: Readonly<Record<string, readonly string[]>>;
}

const NO_TOKEN = new UpstreamError('no_token', 'no bearer token: not sent');

export class UpstreamApi {
  /** GET /manager/challenges/{id} through this operation's loader (one GET per id); null when the upstream does not know it. */
  readonly challenge: (id: number) => Promise<ChallengeRecord | null>;
  /** The token's hash, made on first use: the cache's key for this caller. */
  private callerHash: string | undefined;

  constructor(private readonly options: UpstreamApiOptions) {
    this.challenge = this.reader(CHALLENGE, options.challengeCache ?? null);
  }

  /**
   * POST /manager/ambassadors/{id}/challenge-histories, never retried; with an idempotencyKey at
   * most once per key. Throws AmbassadorNotFoundError (404), ValidationError (422) or a coded error.
   */
  async addChallengeHistory(
    ambassadorId: number,
    input: NewChallengeHistory & { idempotencyKey?: string | null },
    field: WriteField,
  ): Promise<ChallengeHistoryRecord> {
    const { idempotency, fanOut } = this.options;
    const token = this.token(field);
    const award = {
      ambassadorId,
      points: input.points,
      score: input.score,
      message: input.message ?? null,
      challengeId: input.challengeId ?? null,
    };
    const post = async () => {
      const history = await this.write(ADD_CHALLENGE_HISTORY, { id: ambassadorId }, award, token, field);
      // The challenge's nbWins changed: no caller's cached read of it is served again.
      const challengeId = history.challenge?.id ?? award.challengeId;
      if (challengeId !== null && this.options.challengeCache) await this.options.challengeCache.invalidate(challengeId);
      return history;
    };
    // The request's POST slot first, then the key's claim: a claimed key's in-flight mark must not
    // run out while the award waits behind the request's other POSTs. Once the upstream refused
    // the token, a keyed item claims nothing: it answers that refusal unsent, as an unkeyed one does.
    const key = input.idempotencyKey;
    return fanOut.postSlot(async () => {
      if (key == null || fanOut.tokenRefused) return post();
      // The award's fingerprint: two requests with these equal would send the same award.
      const args = [ambassadorId, award.points, award.score, award.message, award.challengeId];
      try {
        return await idempotency.run(key, token, args, post);
      } catch (error) {
        throw error instanceof IdempotencyRefusal ? idempotencyRefusalError(error.reason) : error;
      }
    });
  }

  /**
   * A per-operation loader over a "read by id" endpoint: its GETs run in the request's GET slots,
   * and its cache is this caller's only. Never primed with records embedded in other answers:
   * those lack fields the read has (a challenge in a challenge-history answer has no startDate).
   */
  private reader<Route extends `${string}{id}${string}`, Result>(
    endpoint: Endpoint<Route, void, Result>,
    cache: { read(caller: string, id: number, load: () => Promise<Result>): Promise<Result> } | null,
  ): (id: number) => Promise<Result> {
    let loader: ReadByIdLoader<Result> | undefined;
    return async (id) => {
      const token = this.token();
      loader ??= this.readByIdLoader(endpoint, token, cache);
      try {
        return await loader.load(id);
      } catch (error) {
        throw mapUpstreamError(error);
      }
    };
  }

  /** The operation's loader over `endpoint`: each id read through the cache when there is one, in the request's GET slots. */
  private readByIdLoader<Route extends `${string}{id}${string}`, Result>(
    endpoint: Endpoint<Route, void, Result>,
    token: string,
    cache: { read(caller: string, id: number, load: () => Promise<Result>): Promise<Result> } | null,
  ): ReadByIdLoader<Result> {
    const get = (each: number) => this.options.client.call(endpoint, { id: each } as RouteParams<Route>, undefined, this.callOptions(token));
    return createReadByIdLoader(
      cache ? (each) => cache.read((this.callerHash ??= hashToken(token)), each, () => get(each)) : get,
      (call) => this.options.fanOut.get(call),
    );
  }

  /** One POST unless the request's token was refused already; its failure as the client gets it. */
  private async write<Route extends string, Input, Result>(
    endpoint: Endpoint<Route, Input, Result>,
    params: RouteParams<Route>,
    input: Input,
    token: string,
    field: WriteField,
  ): Promise<Result> {
    try {
      return await this.options.fanOut.unlessTokenRefused(() => this.options.client.call(endpoint, params, input, this.callOptions(token)));
    } catch (error) {
      throw error instanceof UpstreamError && error.validation
        ? validationErrorFromUpstream(error.validation, field.argumentPaths)
        : mapUpstreamError(error, field);
    }
  }

  /** The caller's token; without one, the refusal every call gets (a write's says outcomeUnknown: false). */
  private token(write?: WriteOutcome): string {
    const { token } = this.options.caller;
    if (token === null) throw mapUpstreamError(NO_TOKEN, write);
    return token;
  }

  private callOptions(token: string): UpstreamCallOptions {
    const { headers, recorder } = this.options.caller;
    return { token, headers, recorder };
  }
}
