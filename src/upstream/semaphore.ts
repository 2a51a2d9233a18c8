// The one semaphore: at most `size` holders at once, the rest served in arrival order, each
// waiting at most as long as it says. The upstream client keeps its connection slots with it
// (a call the pool receives finds a connection free, and time spent waiting for one is spent
// here, where it can end a call that was never sent); a request's fan-out limits use it too.

/** A waiter's time ran out before a slot was free (for a call: it was never sent). */
export class SlotWaitExpired extends Error {
  constructor(readonly waitedMs: number) {
    super(`no slot free within ${Math.round(waitedMs)} ms`);
    this.name = 'SlotWaitExpired';
  }
}

interface Waiter {
  grant(release: () => void): void;
  timer: NodeJS.Timeout | undefined;
}

export class Semaphore {
  private free: number;
  // A Set keeps arrival order and forgets an expired waiter in O(1).
  private readonly waiting = new Set<Waiter>();

  constructor(size: number) {
    this.free = size;
  }

  /** Waiting for a slot now. */
  get queued(): number {
    return this.waiting.size;
  }

  /**
   * Resolves with the slot's release function once a slot is free; rejects with SlotWaitExpired
   * when none is within `waitMs`: at once when none is free and `waitMs` is 0, and always when
   * `waitMs` is negative (a call already too late to be sent). Infinity waits as long as it takes.
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
        timer:
          waitMs === Infinity
            ? undefined
            : setTimeout(() => {
                this.waiting.delete(waiter);
                reject(new SlotWaitExpired(performance.now() - started));
              }, waitMs),
      };
      this.waiting.add(waiter);
    });
  }

  /**
   * Runs `work` in a slot, waiting as long as it takes for one; the slot is released when it
   * settles. With a slot free, `work` starts at once, in the caller's tick.
   */
  run<R>(work: () => Promise<R>): Promise<R> {
    if (this.free > 0) {
      this.free--;
      return holding(work, this.releaser());
    }
    return this.acquire(Infinity).then((release) => holding(work, release));
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

async function holding<R>(work: () => Promise<R>, release: () => void): Promise<R> {
  try {
    return await work();
  } finally {
    release();
  }
}
