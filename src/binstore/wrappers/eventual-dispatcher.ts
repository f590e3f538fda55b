import { clockTimer, type Clock } from '../../core/clock.js';
import type { BinaryProvider } from '../binary-provider.js';
import { isTransientError } from '../guard/provider-errors.js';
import type { EventualQueue } from './eventual-queue.js';
import { deleteOne, uploadOne, type Outcome } from './eventual-uploader.js';
import type { Logger } from './wrapper-support.js';

export type Kind = 'add' | 'delete';

export interface DispatcherOptions {
  queue: EventualQueue;
  child: BinaryProvider;
  /** Every time, timer and back-off of the dispatcher runs on this clock. */
  clock: Clock;
  /** Parallel uploads and deletes. */
  workers: number;
  /** Milliseconds between scans of the queue on disk; also the first back-off. */
  interval: number;
  /** An upload that makes no progress for this many milliseconds is abandoned. */
  stallTimeout: number;
  /** Longest back-off. */
  maxBackoff: number;
  /** `_pre` files untouched this long are leftovers of a crash. */
  staleAfter: number;
  /** Aborted when the provider closes: nothing new starts, uploads in flight are abandoned. */
  closing: AbortSignal;
  log: Logger;
  /** `eventual` or `eventual-cluster`, for log lines. */
  name: string;
}

/** The pause after `failures` failures in a row: `interval`, doubled per failure, at most `maxBackoff`. */
export function backoffDelay(interval: number, maxBackoff: number, failures: number): number {
  return Math.min(maxBackoff, interval * 2 ** Math.min(Math.max(1, failures) - 1, 20));
}

/**
 * The background work of an eventual provider: which queued binaries are pushed to the child
 * when. Work is started at once when it is queued, and found again by a scan of the queue on
 * disk every `interval` (other nodes sharing the directory, crash leftovers, retries). A
 * binary whose push failed waits for its back-off; a transient failure (the child is down)
 * also pauses everything new for the outage's own back-off.
 */
export class EventualDispatcher {
  readonly stats = { uploaded: 0, bytesUploaded: 0, deleted: 0, failures: 0, corrupt: 0 };
  /** Work known to be queued, in the order it was seen. */
  private readonly known = new Map<string, Kind>();
  private readonly inflight = new Map<string, Promise<Outcome>>();
  private readonly backoff = new Map<string, { until: number; failures: number }>();
  /** After a transient failure nothing new starts before this time. */
  private pausedUntil = 0;
  private outageFailures = 0;
  private lastStaleSweep = Number.NEGATIVE_INFINITY;
  private stopTimer: (() => void) | undefined;
  private waiters: (() => void)[] = [];

  constructor(private readonly o: DispatcherOptions) {}

  /** Sweeps stale staging files, reads the queue, then scans it every `interval`. */
  async start(): Promise<void> {
    await this.sweepStale();
    await this.rescan();
    this.schedule();
  }

  private schedule(): void {
    if (!this.o.closing.aborted) this.stopTimer = clockTimer(this.o.clock, () => void this.tick(), this.o.interval, { unref: true });
  }

  /** Stops the scans and waits for the work in flight (aborted by `closing`) to end. */
  async stop(): Promise<void> {
    this.stopTimer?.();
    this.notify();
    await Promise.allSettled([...this.inflight.values()]);
  }

  /** Resolves at the next change: an item finished, a scan ran, or `wake` was called. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  wake(): void {
    this.notify();
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  get idle(): boolean {
    return this.inflight.size === 0;
  }

  isInFlight(sha1: string): boolean {
    return this.inflight.has(sha1);
  }

  /** New work (a commit or a delete): started now when a worker is free. */
  queued(sha1: string, kind: Kind): void {
    this.known.set(sha1, kind);
    this.pump();
  }

  resetBackoff(): void {
    this.backoff.clear();
    this.pausedUntil = 0;
  }

  private async tick(): Promise<void> {
    try {
      if (this.o.clock.now() - this.lastStaleSweep >= Math.min(this.o.staleAfter, 60_000)) await this.sweepStale();
      await this.rescan();
    } catch (err) {
      this.o.log.warn({ err, dir: this.o.queue.root }, `${this.o.name}: cannot scan the queue`);
    }
    this.notify();
    this.schedule();
  }

  private async sweepStale(): Promise<void> {
    this.lastStaleSweep = this.o.clock.now();
    const removed = await this.o.queue.cleanStale(this.o.staleAfter, this.lastStaleSweep);
    if (removed > 0) this.o.log.info({ removed, dir: this.o.queue.preDir }, `${this.o.name}: removed stale staging files`);
  }

  /** Reads the queue from disk, then starts work. */
  async rescan(): Promise<void> {
    const deletes = await this.o.queue.listDeletes();
    for (const sha1 of deletes) this.known.set(sha1, 'delete');
    const deleted = new Set(deletes);
    for (const sha1 of await this.o.queue.listAdds()) if (!deleted.has(sha1) && !this.known.has(sha1)) this.known.set(sha1, 'add');
    this.pump();
  }

  /** Starts queued work while workers are free, skipping binaries in flight or backing off. */
  pump(): void {
    if (this.o.closing.aborted) return;
    const now = this.o.clock.now();
    if (now < this.pausedUntil) return;
    for (const [sha1, kind] of this.known) {
      if (this.inflight.size >= this.o.workers) return;
      if (this.inflight.has(sha1)) continue;
      const wait = this.backoff.get(sha1);
      if (wait && now < wait.until) continue;
      this.known.delete(sha1);
      this.launch(sha1, kind);
    }
  }

  /** Runs one item now: joins it when it is in flight, else starts it regardless of back-off. */
  runNow(sha1: string, kind: Kind): Promise<Outcome> {
    const running = this.inflight.get(sha1);
    if (running) return running;
    this.known.delete(sha1);
    return this.launch(sha1, kind);
  }

  private launch(sha1: string, kind: Kind): Promise<Outcome> {
    const { queue, child, clock, stallTimeout, closing } = this.o;
    const op = kind === 'add' ? uploadOne(queue, child, sha1, { stallMs: stallTimeout, closing, clock }) : deleteOne(queue, child, sha1);
    const run = op.then(
      (outcome) => {
        this.succeeded(sha1, outcome);
        return outcome;
      },
      (err: unknown) => {
        this.failed(sha1, kind, err);
        throw err;
      },
    );
    const tracked = run.finally(() => {
      this.inflight.delete(sha1);
      this.pump();
      this.notify();
    });
    tracked.catch(() => undefined);
    this.inflight.set(sha1, tracked);
    return tracked;
  }

  private succeeded(sha1: string, outcome: Outcome): void {
    this.backoff.delete(sha1);
    this.outageFailures = 0;
    if (outcome.kind === 'uploaded') {
      this.stats.uploaded++;
      this.stats.bytesUploaded += outcome.bytes;
    } else if (outcome.kind === 'deleted') this.stats.deleted++;
    else if (outcome.kind === 'corrupt') {
      this.stats.corrupt++;
      this.o.log.error({ sha1, movedTo: outcome.movedTo }, `${this.o.name}: a staged binary does not match its SHA-1; moved aside, not uploaded`);
    }
  }

  private failed(sha1: string, kind: Kind, err: unknown): void {
    this.stats.failures++;
    if (this.o.closing.aborted) return;
    const { clock, interval, maxBackoff } = this.o;
    const failures = (this.backoff.get(sha1)?.failures ?? 0) + 1;
    const delay = backoffDelay(interval, maxBackoff, failures);
    this.backoff.set(sha1, { until: clock.now() + delay, failures });
    if (isTransientError(err)) {
      this.outageFailures++;
      this.pausedUntil = clock.now() + backoffDelay(interval, maxBackoff, this.outageFailures);
    }
    // Still queued on disk: remember it so the next pump after the back-off picks it up.
    if (!this.known.has(sha1)) this.known.set(sha1, kind);
    this.o.log.warn({ err, sha1, failures, retryInMs: delay }, `${this.o.name}: ${kind === 'add' ? 'upload' : 'delete'} to the child failed; will try again`);
  }
}
