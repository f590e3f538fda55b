import type { Readable } from 'node:stream';
import type { Database } from '../../db/database.js';
import { Slicer } from '../../db/tree.js';
import { streamJsonText } from '../json-stream.js';
import { listingPages, type ListingJob, type ListingPage } from './listing-job.js';
import { ListingThread, type ListingPages } from './listing-thread-client.js';

/**
 * Where a worker process runs its streamed listings (the storage API's `?list` and FolderInfo
 * children), so that none holds the event loop (issue 14, item 1):
 *
 * - SQLite: on a listing thread (listing-thread.ts), started with the first listing and
 *   stopped after IDLE_MS without one (a thread is a V8 isolate of its own, about 10 MB of
 *   resident memory). It reads through its own read-only connection and posts each page as
 *   JSON text; the event loop only checks the caller's read permission and writes the text.
 * - PostgreSQL, MySQL: on the event loop. Their reads wait on the network, not on the loop; a
 *   page's JSON takes well under a millisecond, and a Slicer paces the walk (db/tree.ts).
 *
 * Both run the same walk and the same JSON (listing-job.ts) and meet again in `stream`. When
 * the thread cannot run (an in-memory database, which a second connection cannot see, or a
 * thread that failed to start) the listing runs on the event loop as the other dialects' do,
 * and the reason is logged.
 */

/** The thread's nice value: the lowest priority; see listing-thread.ts and docs/performance.md. */
const THREAD_NICE = 19;
/** A thread without a listing for this long is stopped. */
const IDLE_MS = 30_000;
/** After a thread failed to start, listings stay on the event loop this long before it is tried again. */
const RETRY_MS = 60_000;

export interface ListingRunnerOptions {
  /** Says why listings run on the event loop, or that the thread failed. */
  warn(message: string): void;
  idleMs?: number;
}

/** The walk on the event loop (the other dialects, and SQLite without its thread). */
function onEventLoop(database: Database, job: ListingJob): ListingPages {
  const pages = listingPages(database.db, job, new Slicer());
  return {
    next: () => pages.next(),
    return: () => pages.return(undefined),
    cancel: () => void pages.return(undefined).catch(() => undefined),
  };
}

/** The text of the entries of `page` whose full path `allowed` accepts. */
export async function keepEntries(page: ListingPage, allowed: (path: string) => Promise<boolean>): Promise<string> {
  const paths = page.paths.split('\u0000');
  const kept: string[] = [];
  let start = 0;
  for (let i = 0; i < paths.length; i++) {
    const end = page.ends[i];
    if (await allowed(paths[i])) kept.push(page.text.slice(start, end));
    start = end + 1;
  }
  return kept.join(',');
}

export class ListingRunner {
  /** How many listings ran where, since the process started (diagnostics and tests). */
  readonly ran = { thread: 0, eventLoop: 0 };
  private thread: ListingThread | undefined;
  private idle: NodeJS.Timeout | undefined;
  private lastUse = 0;
  private retryAt = 0;
  private warnedNoFile = false;
  private closed = false;

  constructor(
    private readonly database: Database,
    private readonly options: ListingRunnerOptions,
  ) {}

  /** The thread to run a listing on, started if need be; undefined: run it on the event loop. */
  private async threadFor(): Promise<ListingThread | undefined> {
    if (this.database.dialect !== 'sqlite' || this.closed) return undefined;
    const file = this.database.sqliteFile;
    if (file === undefined) {
      if (!this.warnedNoFile) this.options.warn('listings run on the event loop: the SQLite database is in memory, which a listing thread cannot open');
      this.warnedNoFile = true;
      return undefined;
    }
    if (!this.thread) {
      if (Date.now() < this.retryAt) return undefined;
      try {
        this.thread = new ListingThread({ file, nice: THREAD_NICE }, (t, reason) => this.stopped(t, reason));
      } catch (err) {
        this.startFailed(err);
        return undefined;
      }
      this.watchIdle();
    }
    const thread = this.thread;
    try {
      await thread.ready;
    } catch (err) {
      if (this.thread === thread) this.thread = undefined;
      this.startFailed(err);
      return undefined;
    }
    return thread;
  }

  private startFailed(err: unknown): void {
    this.retryAt = Date.now() + RETRY_MS;
    this.options.warn(`listings run on the event loop for ${RETRY_MS / 1000} s: the listing thread did not start (${err instanceof Error ? err.message : String(err)})`);
  }

  private stopped(thread: ListingThread, reason: Error): void {
    if (this.thread !== thread) return;
    this.thread = undefined;
    clearInterval(this.idle);
    this.idle = undefined;
    // A thread that never started is reported by threadFor; a deliberate stop is not news.
    if (thread.started && !this.closed && !reason.message.startsWith('the listing thread was stopped')) this.options.warn(`the listing thread stopped: ${reason.message}`);
  }

  private watchIdle(): void {
    this.lastUse = Date.now();
    const idleMs = this.options.idleMs ?? IDLE_MS;
    this.idle = setInterval(() => {
      const t = this.thread;
      if (!t) return;
      if (t.active > 0) this.lastUse = Date.now();
      else if (Date.now() - this.lastUse >= idleMs) t.stop();
    }, Math.max(10, idleMs / 3));
    this.idle.unref();
  }

  /** The pages of `job`, from the thread or the event loop. */
  async pages(job: ListingJob): Promise<ListingPages> {
    const thread = await this.threadFor();
    if (thread) {
      this.lastUse = Date.now();
      this.ran.thread++;
      return thread.start(job);
    }
    this.ran.eventLoop++;
    return onEventLoop(this.database, job);
  }

  /**
   * The JSON object `template` with its array member `key` streamed: the `head` elements, then
   * the entries of `job`'s pages that `visible` keeps (it returns a page's text with the
   * entries the caller may not read taken out). The first page is read before this returns, so
   * a listing that cannot start (the database fails, the thread is gone) fails the request as
   * any other error does, not as a truncated answer. The walk stops when the stream closes
   * (the client went away or took everything).
   */
  async stream(template: Record<string, unknown>, key: string, head: unknown[], job: ListingJob, visible: (page: ListingPage) => Promise<string>): Promise<Readable> {
    const pages = await this.pages(job);
    let first: IteratorResult<ListingPage>;
    try {
      first = await pages.next();
    } catch (err) {
      pages.cancel();
      throw err;
    }
    async function* texts(): AsyncGenerator<string> {
      yield head.map((e) => JSON.stringify(e)).join(',');
      for (let r = first; !r.done; r = await pages.next()) yield await visible(r.value);
    }
    const body = streamJsonText(template, key, texts());
    body.once('close', () => pages.cancel());
    return body;
  }

  /** How many listings run on the thread now. */
  get onThread(): number {
    return this.thread?.active ?? 0;
  }

  /** Stops the thread (the node is closing). */
  close(): void {
    this.closed = true;
    this.thread?.stop();
  }
}
