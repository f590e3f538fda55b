/** Releases what one wiring step opened (a pool, a timer, a connection). */
export type Close = () => unknown;

/** What a wiring step returns: the value it built and how to release it. */
export interface Wired<T> {
  value: T;
  close: Close;
}

/** Where a failed close is reported. */
export interface CloseLog {
  warn(obj: unknown, msg?: string): void;
}

/**
 * The one teardown stack of a node process. Each wiring step of the composition root pushes
 * its close as soon as its value exists; `close()` runs them newest first, so everything is
 * released before what it was built on (the scheduler before the locks, the locks before the
 * database). Each close runs once; a close that throws is logged and the others still run.
 * The same stack serves a start-up that fails halfway (what was built so far is closed) and
 * the shutdown of a running node.
 */
export class Lifecycle {
  private readonly stack: { name: string; close: Close }[] = [];
  private closing: Promise<void> | undefined;

  constructor(private readonly log: CloseLog) {}

  /** Adds a close under a name (the name is logged when it fails). */
  push(name: string, close: Close): void {
    if (this.closing) throw new Error(`The node is closing: '${name}' cannot be added to its lifecycle`);
    this.stack.push({ name, close });
  }

  /** Pushes a wiring step's close and hands back its value. */
  own<T>(name: string, wired: Wired<T>): T {
    this.push(name, wired.close);
    return wired.value;
  }

  /** Runs every close, newest first; later calls wait for the same run. */
  close(): Promise<void> {
    this.closing ??= this.unwind();
    return this.closing;
  }

  private async unwind(): Promise<void> {
    for (let step = this.stack.pop(); step; step = this.stack.pop()) {
      try {
        await step.close();
      } catch (err) {
        this.log.warn({ err, step: step.name }, `closing ${step.name} failed`);
      }
    }
  }
}
