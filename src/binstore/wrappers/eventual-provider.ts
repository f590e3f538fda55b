import { createReadStream } from 'node:fs';
import { open, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { clockTimer, systemClock, type Clock } from '../../core/clock.js';
import type { BinaryProvider, ByteRange, MaintenanceResult, StagedBinary, StageOptions } from '../binary-provider.js';
import { intParam } from '../chain/params.js';
import type { ProviderType } from '../chain/types.js';
import { EventualDispatcher, type Kind } from './eventual-dispatcher.js';
import { EventualQueue, type PendingCounts } from './eventual-queue.js';
import { baseDir, isEnoent, notFound, requireChild, silentLog, spoolToHandle, type Logger } from './wrapper-support.js';

export interface EventualOptions {
  /** `<baseDataDir>/eventual`. */
  dir: string;
  /** `_add` for eventual, `_queue` for eventual-cluster. */
  queueName?: '_add' | '_queue';
  /** Parallel uploads and deletes. */
  workers?: number;
  /** Milliseconds between scans of the queue on disk (new writes start at once). */
  dispatcherInterval?: number;
  /** An upload that makes no progress for this many milliseconds is abandoned and tried again later. */
  stallTimeout?: number;
  /** Longest pause after failures before the child is tried again. */
  maxBackoff?: number;
  /** `_pre` files untouched this long are leftovers of a crash and are removed. */
  staleAfter?: number;
  fsync?: boolean;
  log?: Logger;
  type?: 'eventual' | 'eventual-cluster';
  zone?: string;
  /** Every time, timer and back-off runs on this clock (default: the system clock). */
  clock?: Clock;
}

/**
 * The seed's `eventual` and `eventual-cluster` providers: a write completes once the binary
 * is staged on local disk and queued (see EventualQueue for the layout); background workers
 * (EventualDispatcher) push queued binaries to the child (usually retry → a cloud store) with
 * back-off, then drop the staged copy. Until then the staged copy is served. A delete cancels
 * a queued upload and is queued for the child in turn. The queue lives on disk only: after a
 * crash the next start resumes it.
 */
export class EventualProvider implements BinaryProvider {
  readonly type: 'eventual' | 'eventual-cluster';
  readonly zone?: string;
  readonly queue: EventualQueue;
  /** Scrubs the child when it can (staged copies are checked by their upload). */
  readonly scrub?: (signal?: AbortSignal) => Promise<MaintenanceResult>;
  /** The child's direct-download URL, only for binaries the child has (not staged, not deleted). */
  readonly downloadUrl?: (sha1: string, size?: number) => Promise<string | undefined>;
  readonly stats: EventualDispatcher['stats'];
  private readonly workers: number;
  private readonly log: Logger;
  private readonly clock: Clock;
  /** The background work (its `changed()` lets tests wait for a scan or a finished item). */
  readonly dispatcher: EventualDispatcher;
  private readonly closing = new AbortController();

  constructor(
    readonly child: BinaryProvider,
    opts: EventualOptions,
  ) {
    this.type = opts.type ?? 'eventual';
    this.zone = opts.zone;
    this.clock = opts.clock ?? systemClock;
    this.queue = new EventualQueue(opts.dir, opts.queueName ?? '_add', opts.fsync ?? true, this.clock);
    this.workers = Math.max(1, opts.workers ?? 4);
    this.log = opts.log ?? silentLog;
    const interval = Math.max(10, opts.dispatcherInterval ?? 5000);
    this.dispatcher = new EventualDispatcher({
      queue: this.queue,
      child,
      clock: this.clock,
      workers: this.workers,
      interval,
      stallTimeout: opts.stallTimeout ?? 120_000,
      maxBackoff: Math.max(interval, opts.maxBackoff ?? 60_000),
      staleAfter: opts.staleAfter ?? 300_000,
      closing: this.closing.signal,
      log: this.log,
      name: this.type,
    });
    this.stats = this.dispatcher.stats;
    const { scrub, downloadUrl } = child;
    if (scrub) this.scrub = (signal) => scrub.call(child, signal);
    if (downloadUrl) {
      this.downloadUrl = async (sha1, size) => {
        if ((await this.queue.hasDelete(sha1)) || (await this.queue.addedSize(sha1)) !== undefined) return undefined;
        return downloadUrl.call(child, sha1, size);
      };
    }
  }

  /** Creates the queue directories, removes stale `_pre` files and starts the workers on what is queued. */
  async init(): Promise<this> {
    await this.queue.init();
    await this.dispatcher.start();
    return this;
  }

  async stage(source: AsyncIterable<Uint8Array>, options?: StageOptions): Promise<StagedBinary> {
    const file = await this.queue.stage(source, options);
    let done = false;
    return {
      size: file.size,
      md5: file.md5,
      sha1: file.sha1,
      sha256: file.sha256,
      commit: async () => {
        if (done) return;
        await this.queue.enqueueAdd(file.path, file.sha1);
        done = true;
        this.dispatcher.queued(file.sha1, 'add');
      },
      discard: async () => {
        if (done) return;
        done = true;
        await rm(file.path, { force: true });
      },
    };
  }

  async exists(sha1: string): Promise<boolean> {
    return (await this.size(sha1)) !== undefined;
  }

  async size(sha1: string): Promise<number | undefined> {
    if (await this.queue.hasDelete(sha1)) return undefined;
    const staged = await this.queue.addedSize(sha1);
    return staged ?? this.child.size(sha1);
  }

  /** An open handle on the staged copy, undefined when there is none; throws ITEM_NOT_FOUND while a delete is pending. */
  private async openStaged(sha1: string): Promise<FileHandle | undefined> {
    if (await this.queue.hasDelete(sha1)) throw notFound(sha1, 'the store (deleted)');
    try {
      return await open(this.queue.addPath(sha1), 'r');
    } catch (err) {
      if (isEnoent(err)) return undefined;
      throw err;
    }
  }

  async read(sha1: string, range?: ByteRange): Promise<Readable> {
    const fh = await this.openStaged(sha1);
    if (fh) return createReadStream('', { fd: fh, start: range?.start, end: range?.end, highWaterMark: 1 << 20 });
    return this.child.read(sha1, range);
  }

  async readBuffer(sha1: string): Promise<Buffer> {
    const fh = await this.openStaged(sha1);
    if (!fh) return this.child.readBuffer(sha1);
    try {
      return await fh.readFile();
    } finally {
      await fh.close();
    }
  }

  /** The staged copy, else the child's local file, else the child's stream spooled to an anonymous file. */
  async openFile(sha1: string): Promise<FileHandle> {
    const fh = await this.openStaged(sha1);
    if (fh) return fh;
    if (this.child.openFile) return this.child.openFile(sha1);
    return spoolToHandle(await this.child.read(sha1), this.queue.preDir);
  }

  /**
   * Cancels a queued upload and queues the delete for the child. True when the binary was
   * staged or the child has it (or cannot say: a down child is not an absent one).
   */
  async delete(sha1: string): Promise<boolean> {
    if (await this.queue.hasDelete(sha1)) return false;
    const staged = (await this.queue.addedSize(sha1)) !== undefined || this.dispatcher.isInFlight(sha1);
    let inChild = true;
    if (!staged) {
      try {
        inChild = await this.child.exists(sha1);
      } catch (err) {
        this.log.warn({ err, sha1 }, `${this.type}: cannot ask the child about a delete; queued anyway`);
      }
    }
    if (!staged && !inChild) return false;
    await this.queue.enqueueDelete(sha1);
    this.dispatcher.queued(sha1, 'delete');
    return true;
  }

  async *list(): AsyncIterable<{ sha1: string; mtimeMs: number }> {
    const deleted = new Set(await this.queue.listDeletes());
    const staged = new Set(await this.queue.listAdds());
    for (const sha1 of staged) {
      if (deleted.has(sha1)) continue;
      const st = await stat(this.queue.addPath(sha1)).catch(() => undefined);
      if (st) yield { sha1, mtimeMs: st.mtimeMs };
    }
    for await (const entry of this.child.list()) {
      if (!staged.has(entry.sha1) && !deleted.has(entry.sha1)) yield entry;
    }
  }

  /** Writes are acknowledged locally, so the local staging area is what must be writable. */
  async check(): Promise<void> {
    const probe = join(this.queue.preDir, `.probe-${process.pid}`);
    await writeFile(probe, 'ok');
    await unlink(probe);
  }

  /** What is still queued (from disk). */
  pending(): Promise<PendingCounts> {
    return this.queue.pending();
  }

  /**
   * Pushes the queue now (back-off is reset once) until it is empty or `timeoutMs` of the
   * clock's time pass; returns what is left. Waits for work to finish, never polls.
   */
  async drain(timeoutMs = 60_000): Promise<PendingCounts> {
    const d = this.dispatcher;
    let timeUp = false;
    const stop = clockTimer(this.clock, () => {
      timeUp = true;
      d.wake();
    }, timeoutMs);
    try {
      d.resetBackoff();
      await d.rescan();
      for (;;) {
        const change = d.changed();
        const left = await this.pending();
        if ((left.adds === 0 && left.deletes === 0 && d.idle) || this.closing.signal.aborted || timeUp) return left;
        d.pump();
        await change;
      }
    } finally {
      stop();
    }
  }

  /** Pushes everything queued now (ignoring backoff) and reports what reached the child. */
  async balance(signal?: AbortSignal): Promise<MaintenanceResult> {
    const deletes = await this.queue.listDeletes();
    const deleted = new Set(deletes);
    const items: [string, Kind][] = [
      ...deletes.map((s): [string, Kind] => [s, 'delete']),
      ...(await this.queue.listAdds()).filter((s) => !deleted.has(s)).map((s): [string, Kind] => [s, 'add']),
    ];
    const result = { checked: items.length, copied: 0, bytesCopied: 0, removed: 0, corrupt: 0 };
    let next = 0;
    const worker = async () => {
      while (next < items.length && !signal?.aborted && !this.closing.signal.aborted) {
        const [sha1, kind] = items[next++];
        const outcome = await this.dispatcher.runNow(sha1, kind).catch(() => undefined);
        if (outcome?.kind === 'uploaded') {
          result.copied++;
          result.bytesCopied += outcome.bytes;
        } else if (outcome?.kind === 'deleted') result.removed++;
        else if (outcome?.kind === 'corrupt') result.corrupt++;
      }
    };
    await Promise.all(Array.from({ length: this.workers }, worker));
    return result;
  }

  /** Stops the workers (an upload in flight is aborted and stays queued for the next start), then closes the child. */
  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    await this.dispatcher.stop();
    await this.child.close?.();
  }
}

export const eventualProviderType: ProviderType = {
  type: 'eventual',
  async create({ node, ctx, child }) {
    const timeout = intParam(node, 'timeout', 120_000);
    return new EventualProvider(requireChild(node, child), {
      type: 'eventual',
      dir: join(baseDir(node, ctx), 'eventual'),
      queueName: '_add',
      // One of numberOfThreads does maintenance in the seed; the rest upload.
      workers: Math.max(1, intParam(node, 'numberOfThreads', 5) - 1),
      dispatcherInterval: intParam(node, 'dispatcherInterval', 5000),
      stallTimeout: timeout,
      staleAfter: Math.max(timeout, 300_000),
      log: ctx.log,
      clock: ctx.clock,
    }).init();
  },
};

export const eventualClusterProviderType: ProviderType = {
  type: 'eventual-cluster',
  async create({ node, ctx, child }) {
    return new EventualProvider(requireChild(node, child), {
      type: 'eventual-cluster',
      dir: join(baseDir(node, ctx), 'eventual'),
      queueName: '_queue',
      workers: intParam(node, 'maxWorkers', 5),
      dispatcherInterval: intParam(node, 'dispatcherInterval', 1000),
      maxBackoff: intParam(node, 'checkPeriod', 15_000),
      staleAfter: intParam(node, 'addStalePeriod', 300_000),
      zone: node.params.zone || undefined,
      log: ctx.log,
      clock: ctx.clock,
    }).init();
  },
};
