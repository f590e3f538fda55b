/** Injected wherever time matters, so cluster code can be tested with a fake clock. */
export interface Clock {
  now(): number;
  /**
   * Optional timers of this clock's own time: calls `fn` once `ms` have passed on this clock
   * and returns a function that cancels it. A clock without them waits in real time (see
   * `clockTimer`), as the system clock does.
   */
  setTimer?(fn: () => void, ms: number): () => void;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * Calls `fn` after `ms` of `clock`'s time: on the clock's own timers when it has them, else on
 * a real timer. `unref`: a real timer does not keep the process alive (periodic housekeeping).
 * Returns a function that cancels the call.
 */
export function clockTimer(clock: Clock, fn: () => void, ms: number, opts: { unref?: boolean } = {}): () => void {
  if (clock.setTimer) return clock.setTimer(fn, ms);
  const t = setTimeout(fn, ms);
  if (opts.unref) t.unref();
  return () => clearTimeout(t);
}

/** Resolves after `ms` of `clock`'s time, or at once when `signal` aborts. */
export function clockSleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const cancel = clockTimer(clock, done, ms);
    function done() {
      cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A clock that stands still until `advance` moves it; timers run in real time (it has none of its own). */
export class FakeClock implements Clock {
  constructor(protected current = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/**
 * A FakeClock with timers of its own: they fire, in time order, only when `advance` passes
 * their time. For tests of back-off and periodic work that never wait in real time.
 */
export class FakeTimerClock extends FakeClock {
  private timers: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;

  setTimer(fn: () => void, ms: number): () => void {
    const timer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Timers waiting to fire. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  override advance(ms: number): void {
    const until = this.current + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = Math.max(this.current, due.at);
      due.fn();
    }
    this.current = until;
  }
}

export function isoDate(ms: number): string {
  return new Date(ms).toISOString();
}
