// Bounds on one HTTP request's fan-out to the upstream. Every operation of the request (one, or
// each of an HTTP batch) shares one UpstreamFanOut: a budget of calls reserved before the first
// call, one concurrency limit for all its calls, and no further POST once the upstream refused
// the token of one (reads keep their own answer per id: a 403 may concern one challenge only).

import { UpstreamError } from '../upstream/errors.js';
import { Semaphore } from '../upstream/semaphore.js';
import type { UpstreamErrorKind } from '../upstream/errors.js';

/** Runs `work` when a slot is free; at most the limit's size run at once, in arrival order. */
export type Limit = <R>(work: () => Promise<R>) => Promise<R>;

export function concurrencyLimit(size: number): Limit {
  const slots = new Semaphore(size);
  return (work) => slots.run(work);
}

export interface FanOutLimits {
  /** MAX_UPSTREAM_CALLS_PER_REQUEST: calls all operations of the request may reserve together. */
  maxCalls: number;
  /** BATCH_CONCURRENCY: POSTs of the request in flight at once. */
  postConcurrency: number;
  /** CHALLENGE_LOAD_CONCURRENCY: GETs of the request in flight at once. */
  getConcurrency: number;
}

// Answers that refuse the caller's token: every later call of the request would get the same.
const TOKEN_REFUSALS: ReadonlySet<UpstreamErrorKind> = new Set(['unauthorized', 'forbidden']);

export class UpstreamFanOut {
  private reserved = 0;
  private tokenRefusal: UpstreamError | null = null;
  private readonly posts: Limit;
  private readonly gets: Limit;
  // POSTs and GETs also share one limit: the larger of the two sizes, so neither kind waits on a
  // smaller limit than its own setting, and the request as a whole holds no more than that.
  private readonly all: Limit;

  constructor(private readonly limits: FanOutLimits) {
    this.posts = concurrencyLimit(limits.postConcurrency);
    this.gets = concurrencyLimit(limits.getConcurrency);
    this.all = concurrencyLimit(Math.max(limits.postConcurrency, limits.getConcurrency));
  }

  get maxCalls(): number {
    return this.limits.maxCalls;
  }

  /** Takes `calls` from the request's budget; false (and nothing taken) when they do not fit. */
  reserve(calls: number): boolean {
    if (this.reserved + calls > this.limits.maxCalls) return false;
    this.reserved += calls;
    return true;
  }

  /** Runs `work` (which sends at most one POST, through unlessTokenRefused) in one of the request's POST slots. */
  postSlot<R>(work: () => Promise<R>): Promise<R> {
    return this.posts(() => this.all(work));
  }

  get<R>(call: () => Promise<R>): Promise<R> {
    return this.gets(() => this.all(call));
  }

  /** Whether the upstream refused this request's token (401/403): its later POSTs are not sent, and keyed ones claim nothing. */
  get tokenRefused(): boolean {
    return this.tokenRefusal !== null;
  }

  /** Sends a POST unless the upstream refused one of this request's (then it answers that refusal, unsent). */
  async unlessTokenRefused<R>(call: () => Promise<R>): Promise<R> {
    if (this.tokenRefusal) throw notSent(this.tokenRefusal);
    try {
      return await call();
    } catch (error) {
      if (error instanceof UpstreamError && TOKEN_REFUSALS.has(error.kind)) this.tokenRefusal ??= error;
      throw error;
    }
  }
}

function notSent(refusal: UpstreamError): UpstreamError {
  return new UpstreamError(refusal.kind, `not sent: the upstream answered ${refusal.status ?? refusal.kind} to this request's token`, {
    status: refusal.status,
    requestMayHaveBeenProcessed: false,
  });
}
