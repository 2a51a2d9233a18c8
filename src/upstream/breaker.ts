// upstream/: the REST client: endpoints described once, one send path, its bounds, breaker and retries; knows no GraphQL.
//
// A circuit breaker for one upstream origin. UPSTREAM_BREAKER_FAILURES failures that say the
// upstream is unwell (no connection, a reset, a timeout, a 5xx; never a 4xx, which is an answer)
// within UPSTREAM_BREAKER_WINDOW_MS, when they are also at least FAILURE_SHARE of the calls
// answered or failed in about that window (so a busy gateway's 2% of 5xx never opens it), open it: for UPSTREAM_BREAKER_OPEN_MS every call is refused
// before it is sent, so a client learns at once that nothing was sent instead of waiting for a
// connect or a deadline and then hearing "outcome unknown". Then it is half-open: a few trial
// calls go through, reads first (a GET is safe to repeat; a write waits READS_FIRST_MS for a read
// to test the water). A trial that gets an answer closes it; one that fails opens it again.
//
// No allocation per call: the failure times live in a ring of fixed size.

import { WindowedCounts } from './windowed-counts.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerSettings {
  /** Failures within windowMs that open the breaker; 0 turns it off. */
  failures: number;
  windowMs: number;
  openMs: number;
}

/** Of the calls settled in about the window, the share that must have failed for the breaker to open. */
export const FAILURE_SHARE = 0.5;
/** Trial calls in flight at once while half-open. */
export const HALF_OPEN_TRIALS = 2;
/** How long a half-open breaker keeps its trials for reads before a write may be one. */
export const READS_FIRST_MS = 1_000;

/** What admit() decided: send as usual, send as a trial, or refuse unsent. */
export type Admission = 'refused' | 'normal' | 'trial';

/**
 * How an admitted call ended, as far as the upstream's health goes: `answered` (any status below
 * 500, or a body the gateway could not use), `unwell` (no connection, a reset, a timeout, a 5xx),
 * or `not_sent` (it gave up waiting for a free connection: nothing learnt of the upstream).
 */
export type CallHealth = 'answered' | 'unwell' | 'not_sent';

export interface BreakerTransition {
  from: BreakerState;
  to: BreakerState;
  /** Failures counted within the window when it opened; 0 otherwise. */
  failures: number;
}

export class CircuitBreaker {
  private current: BreakerState = 'closed';
  /** Times of the last `failures` failures, oldest at `next` once the ring is full. */
  private readonly ring: Float64Array;
  private next = 0;
  private counted = 0;
  private openedAt = 0;
  private halfOpenedAt = 0;
  private trialsInFlight = 0;
  /** Calls and failures settled in about the window (the share's denominator). */
  private readonly settled: WindowedCounts;

  constructor(
    private readonly settings: BreakerSettings,
    private readonly onTransition: (transition: BreakerTransition) => void,
    private readonly now: () => number = performance.now.bind(performance),
  ) {
    this.ring = new Float64Array(Math.max(1, settings.failures));
    this.settled = new WindowedCounts(settings.windowMs);
  }

  get state(): BreakerState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.settings.openMs) return 'half_open';
    return this.current;
  }

  /** Milliseconds until an open breaker lets a trial through; 0 when not open. */
  get retryInMs(): number {
    return this.current === 'open' ? Math.max(0, this.openedAt + this.settings.openMs - this.now()) : 0;
  }

  admit(method: 'GET' | 'POST'): Admission {
    if (this.current === 'closed') return 'normal';
    const now = this.now();
    if (this.current === 'open') {
      if (now - this.openedAt < this.settings.openMs) return 'refused';
      this.halfOpenedAt = now;
      this.move('half_open', 0);
    }
    if (this.trialsInFlight >= HALF_OPEN_TRIALS) return 'refused';
    if (method !== 'GET' && now - this.halfOpenedAt < READS_FIRST_MS) return 'refused';
    this.trialsInFlight++;
    return 'trial';
  }

  /** Tells the breaker how an admitted call ended. */
  settle(admission: Admission, health: CallHealth): void {
    if (admission === 'trial') {
      this.trialsInFlight--;
      if (this.current !== 'half_open') return; // already decided by another trial
      if (health === 'answered') this.close();
      else if (health === 'unwell') this.open(0);
      return;
    }
    if (health === 'not_sent' || this.current !== 'closed') return;
    const now = this.now();
    this.settled.addCall(now);
    if (health !== 'unwell') return;
    this.settled.addEvent(now);
    const size = this.ring.length;
    this.ring[this.next] = now;
    this.next = (this.next + 1) % size;
    if (this.counted < size) this.counted++;
    // Full ring: the oldest of the last `failures` failures is at `next`.
    if (this.counted === size && now - this.ring[this.next % size]! <= this.settings.windowMs && this.settled.eventsAt(now) >= FAILURE_SHARE * this.settled.callsAt(now)) {
      this.open(size);
    }
  }

  private open(failures: number): void {
    this.openedAt = this.now();
    this.move('open', failures);
  }

  private close(): void {
    this.counted = 0;
    this.next = 0;
    this.settled.reset();
    this.move('closed', 0);
  }

  private move(to: BreakerState, failures: number): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    this.onTransition({ from, to, failures });
  }
}
