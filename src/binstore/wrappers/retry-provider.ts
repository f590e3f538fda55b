import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { clockSleep, systemClock, type Clock } from '../../core/clock.js';
import type { BinaryProvider, ByteRange, MaintenanceResult, StagedBinary, StageOptions } from '../binary-provider.js';
import type { ProviderType } from '../chain/types.js';
import { intParam } from '../chain/params.js';
import { isTransientError } from '../guard/provider-errors.js';
import { requireChild, silentLog, type Logger } from './wrapper-support.js';

/** The classification retry and eventual share (it lives with the guard's error normalising). */
export { isTransientError };

export interface RetryOptions {
  /** Attempts per operation, the first included (`maxTrys`, default 5). */
  maxTrys?: number;
  /** Milliseconds between attempts (`interval`, default 5000). */
  interval?: number;
  log?: Logger;
  /** Overrides which errors are worth another attempt (default: `isTransientError`). */
  isTransient?: (err: unknown) => boolean;
  /** Waits between attempts run on this clock's timers (default: the system clock). */
  clock?: Clock;
}

/**
 * The seed's `retry` provider: every operation of its child that fails with a transient
 * error is attempted again, up to `maxTrys` attempts with `interval` milliseconds between
 * them; then the last error is thrown. Staging consumes the caller's stream and is not
 * repeated; the commit of a staged binary (the upload) is. Reads are retried until a stream
 * is open; a stream that breaks later is the caller's to handle. `check` is not retried, so
 * a ping reports an outage at once.
 */
export class RetryProvider implements BinaryProvider {
  readonly type = 'retry';
  readonly openFile?: (sha1: string) => Promise<FileHandle>;
  readonly downloadUrl?: (sha1: string, size?: number) => Promise<string | undefined>;
  /** Offered only when the child balances or scrubs (the maintenance tasks skip stores without them). */
  readonly balance?: (signal?: AbortSignal) => Promise<MaintenanceResult>;
  readonly scrub?: (signal?: AbortSignal) => Promise<MaintenanceResult>;
  private readonly maxTrys: number;
  private readonly interval: number;
  private readonly log: Logger;
  private readonly transient: (err: unknown) => boolean;
  private readonly clock: Clock;
  private readonly closing = new AbortController();
  /** Attempts that failed and were tried again, since start (for metrics and tests). */
  retries = 0;

  constructor(
    readonly child: BinaryProvider,
    opts: RetryOptions = {},
  ) {
    this.maxTrys = Math.max(1, opts.maxTrys ?? 5);
    this.interval = opts.interval ?? 5000;
    this.log = opts.log ?? silentLog;
    this.transient = opts.isTransient ?? isTransientError;
    this.clock = opts.clock ?? systemClock;
    const { openFile, downloadUrl, balance, scrub } = child;
    if (balance) this.balance = (signal) => balance.call(child, signal);
    if (scrub) this.scrub = (signal) => scrub.call(child, signal);
    if (openFile) this.openFile = (sha1) => this.attempt('openFile', () => openFile.call(child, sha1));
    if (downloadUrl) this.downloadUrl = (sha1, size) => this.attempt('downloadUrl', () => downloadUrl.call(child, sha1, size));
  }

  /** Runs `op` until it succeeds, fails with an answer, or has been tried maxTrys times. */
  async attempt<T>(what: string, op: () => Promise<T>): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await op();
      } catch (err) {
        if (n >= this.maxTrys || !this.transient(err) || this.closing.signal.aborted) throw err;
        this.retries++;
        this.log.warn({ err, provider: this.child.type, attempt: n, maxTrys: this.maxTrys }, `${what} failed; trying again in ${this.interval} ms`);
        await clockSleep(this.clock, this.interval, this.closing.signal);
      }
    }
  }

  async stage(source: AsyncIterable<Uint8Array>, options?: StageOptions): Promise<StagedBinary> {
    const staged = await this.child.stage(source, options);
    return {
      size: staged.size,
      md5: staged.md5,
      sha1: staged.sha1,
      sha256: staged.sha256,
      commit: () => this.attempt('commit', () => staged.commit()),
      discard: () => staged.discard(),
    };
  }

  exists(sha1: string): Promise<boolean> {
    return this.attempt('exists', () => this.child.exists(sha1));
  }

  size(sha1: string): Promise<number | undefined> {
    return this.attempt('size', () => this.child.size(sha1));
  }

  read(sha1: string, range?: ByteRange): Promise<Readable> {
    return this.attempt('read', () => this.child.read(sha1, range));
  }

  readBuffer(sha1: string): Promise<Buffer> {
    return this.attempt('readBuffer', () => this.child.readBuffer(sha1));
  }

  delete(sha1: string): Promise<boolean> {
    return this.attempt('delete', () => this.child.delete(sha1));
  }

  /**
   * Lists the child; when the listing breaks with a transient error it starts again and
   * skips what was already yielded (the set of yielded keys is kept only while retrying).
   */
  async *list(): AsyncIterable<{ sha1: string; mtimeMs: number }> {
    const seen = new Set<string>();
    for (let n = 1; ; n++) {
      try {
        for await (const entry of this.child.list()) {
          if (seen.has(entry.sha1)) continue;
          seen.add(entry.sha1);
          yield entry;
        }
        return;
      } catch (err) {
        if (n >= this.maxTrys || !this.transient(err) || this.closing.signal.aborted) throw err;
        this.retries++;
        this.log.warn({ err, provider: this.child.type, attempt: n }, `list failed; trying again in ${this.interval} ms`);
        await clockSleep(this.clock, this.interval, this.closing.signal);
      }
    }
  }

  check(): Promise<void> {
    return this.child.check();
  }

  /** Stops waiting between attempts (a pending attempt fails with its last error), then closes the child. */
  async close(): Promise<void> {
    this.closing.abort();
    await this.child.close?.();
  }
}

export const retryProviderType: ProviderType = {
  type: 'retry',
  async create({ node, ctx, child }) {
    return new RetryProvider(requireChild(node, child), {
      maxTrys: intParam(node, 'maxTrys', 5),
      interval: intParam(node, 'interval', 5000),
      log: ctx.log,
      clock: ctx.clock,
    });
  },
};
