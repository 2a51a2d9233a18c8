// Calls and one kind of event among them (failures, retries) over a window that slides by half:
// the current and the previous half are counted, so the totals cover between one half and one
// whole window. No allocation per call. Shared by the circuit breaker and the read retry budget.

export class WindowedCounts {
  private halfStart = 0;
  private calls = 0;
  private events = 0;
  private previousCalls = 0;
  private previousEvents = 0;

  constructor(private readonly windowMs: number) {}

  addCall(now: number): void {
    this.roll(now);
    this.calls++;
  }

  addEvent(now: number): void {
    this.roll(now);
    this.events++;
  }

  /** Calls in about the last window. */
  callsAt(now: number): number {
    this.roll(now);
    return this.calls + this.previousCalls;
  }

  /** Events in about the last window. */
  eventsAt(now: number): number {
    this.roll(now);
    return this.events + this.previousEvents;
  }

  reset(): void {
    this.calls = this.events = this.previousCalls = this.previousEvents = 0;
  }

  private roll(now: number): void {
    const half = this.windowMs / 2;
    if (now - this.halfStart < half) return;
    const fresh = now - this.halfStart >= 2 * half;
    this.previousCalls = fresh ? 0 : this.calls;
    this.previousEvents = fresh ? 0 : this.events;
    this.calls = 0;
    this.events = 0;
    this.halfStart = now;
  }
}
