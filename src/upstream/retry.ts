// When a GET is tried again (UPSTREAM_READ_RETRIES). A read is safe to repeat; a POST never is
// and never comes here. A read is retried only after a failure that says "try again": no
// connection or a reset (nothing useful came back), 502/503/504, or a 429 whose Retry-After fits.
// Never after a timeout (the read already spent its deadline) or any other answer.
//
// Three bounds keep retries from hitting a struggling upstream harder: full-jitter exponential
// backoff, the read's own time (all tries end within UPSTREAM_TIMEOUT_MS of the first one's start,
// or the caller's answerBy), and a budget shared by all calls of the gateway: retries within the
// last RETRY_BUDGET_WINDOW_MS may be at most RETRY_BUDGET_SHARE of the calls plus RETRY_BUDGET_MIN.

import type { UpstreamError } from './errors.js';
import { WindowedCounts } from './windowed-counts.js';

export const RETRY_BACKOFF_BASE_MS = 50;
/**
 * A retry is made only if, after its backoff, at least this share of UPSTREAM_TIMEOUT_MS is left of
 * the read's deadline (1 s at the 10 s default): a try given less would mostly just time out.
 */
export const RETRY_MIN_TRY_SHARE = 0.1;
export const RETRY_BACKOFF_CAP_MS = 1_000;
/** The budget's window; counted in two halves, so it slides by half a window. */
export const RETRY_BUDGET_WINDOW_MS = 10_000;
/** Retries may be at most this share of the calls in the window... */
export const RETRY_BUDGET_SHARE = 0.1;
/** ...plus this many, so a quiet gateway can still retry its few reads. */
export const RETRY_BUDGET_MIN = 10;

const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/** Calls and retries over the budget's window (WindowedCounts): no allocation per call. */
export class RetryBudget {
  private readonly counts = new WindowedCounts(RETRY_BUDGET_WINDOW_MS);

  constructor(private readonly now: () => number = performance.now.bind(performance)) {}

  recordCall(): void {
    this.counts.addCall(this.now());
  }

  /** Takes one retry from the budget; false (nothing taken) when it is spent. */
  tryTakeRetry(): boolean {
    const now = this.now();
    if (this.counts.eventsAt(now) >= RETRY_BUDGET_MIN + RETRY_BUDGET_SHARE * this.counts.callsAt(now)) return false;
    this.counts.addEvent(now);
    return true;
  }
}

/** What a try of a GET came to: an answer's status and Retry-After (seconds), or the error it failed with. */
export type TryOutcome = { status: number; retryAfterSeconds: number | null } | { error: UpstreamError | unknown };

/** Whether the outcome is worth another try, and after how long (ms); null: it is not. Budget and deadline are the caller's. */
export function retryDelayMs(outcome: TryOutcome, retry: number, random: () => number = Math.random): number | null {
  if ('status' in outcome) {
    if (RETRYABLE_STATUSES.has(outcome.status)) return backoffMs(retry, random);
    // 429: only when it says when; the wait is what it asked (the deadline check decides whether it fits),
    // plus a base backoff so the retry comes after the caller's block (the caller gate's, maybe in Redis) has ended.
    if (outcome.status === 429 && outcome.retryAfterSeconds !== null) {
      return outcome.retryAfterSeconds * 1000 + (outcome.retryAfterSeconds > 0 ? RETRY_BACKOFF_BASE_MS : 0) + backoffMs(0, random) / 2;
    }
    return null;
  }
  const error = outcome.error as Partial<UpstreamError> | null;
  // No connection, a reset (no answer, not a timeout), never the gateway's own refusals.
  if (error?.kind === 'unavailable' && error.status === null && !error.circuitOpen && !error.limitedByGateway) return backoffMs(retry, random);
  return null;
}

/** Full jitter: anywhere from 0 to min(cap, base · 2^retry). */
function backoffMs(retry: number, random: () => number): number {
  return random() * Math.min(RETRY_BACKOFF_CAP_MS, RETRY_BACKOFF_BASE_MS * 2 ** retry);
}
