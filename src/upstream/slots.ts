// The gateway's own queue in front of the connection pool: at most `size` calls are handed to
// the pool at once (one per connection), so a call the pool receives finds a connection free
// and time spent waiting for one is spent here, where it can end a call that was never sent.

/**
 * UPSTREAM_QUEUE_TIMEOUT_MS's default: half the default deadline. A call that waited this long
 * behind a full pool meets an upstream already answering slower than the pool drains; failing
 * it unsent (outcome known, safe to retry) beats holding the client for an answer that would
 * likely time out with its outcome unknown.
 */
export const DEFAULT_QUEUE_TIMEOUT_MS = 5_000;

/** A call waited for a free connection until its dispatch deadline: it was never sent. */
export class SlotWaitExpired extends Error {
  constructor(readonly waitedMs: number) {
    super(`no upstream connection free within ${Math.round(waitedMs)} ms`);
    this.name = 'SlotWaitExpired';
  }
}

interface Waiter {
  grant(release: () => void): void;
  timer: NodeJS.Timeout;
}

export class ConnectionSlots {
  private free: number;
  // A Set keeps arrival order and forgets an expired waiter in O(1).
  private readonly waiting = new Set<Waiter>();

  constructor(size: number) {
    this.free = size;
  }

  /** Calls waiting for a connection now. */
  get queued(): number {
    return this.waiting.size;
  }

  /**
   * Resolves with the slot's release function once a connection is free; rejects with
   * SlotWaitExpired when none is within `waitMs`: at once when none is free and `waitMs` is 0,
   * and always when `waitMs` is negative (the call is already too late to be sent).
   */
  acquire(waitMs: number): Promise<() => void> {
    if (waitMs < 0) return Promise.reject(new SlotWaitExpired(0));
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(this.releaser());
    }
    if (waitMs === 0) return Promise.reject(new SlotWaitExpired(0));
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: (release) => {
          clearTimeout(waiter.timer);
          resolve(release);
        },
        timer: setTimeout(() => {
          this.waiting.delete(waiter);
          reject(new SlotWaitExpired(performance.now() - started));
        }, waitMs),
      };
      this.waiting.add(waiter);
    });
  }

  /** A release that works once: the slot goes straight to the longest waiter, else back to the pool. */
  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.values().next();
      if (next.done) {
        this.free++;
        return;
      }
      this.waiting.delete(next.value);
      next.value.grant(this.releaser());
    };
  }
}
