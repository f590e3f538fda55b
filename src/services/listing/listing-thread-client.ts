import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { ArcaError, ERROR_CODES, type ErrorCode } from '../../core/errors.js';
import type { ListingJob, ListingPage } from './listing-job.js';
import { type FromThread, type ThreadData, type ThreadFailure, type ToThread } from './listing-protocol.js';

/** The event loop's use since the last look, above which other requests are taken to be waiting. */
const BUSY_UTILIZATION = 0.5;
let lastLook = performance.eventLoopUtilization();

/** Has this process's event loop been mostly busy since the last look (serving other requests)? */
function loopBusy(): boolean {
  const now = performance.eventLoopUtilization();
  const since = performance.eventLoopUtilization(now, lastLook);
  lastLook = now;
  return since.utilization > BUSY_UTILIZATION;
}

/** The pages of one listing, as the event loop reads them; `cancel` drops the rest. */
export interface ListingPages extends AsyncIterator<ListingPage> {
  cancel(): void;
}

export function errorOf(f: ThreadFailure): Error {
  if (f.code !== undefined && f.code in ERROR_CODES) return new ArcaError(f.code as ErrorCode, f.message);
  const err = new Error(f.message);
  if (f.name) err.name = f.name;
  return err;
}

/**
 * Where the thread's code is: dist/listing-thread.mjs beside the bundle (this module is
 * bundled into dist/arca.mjs or one of dist/chunks/), or listing-thread.ts beside this file
 * when the sources run (tests, tsx).
 */
function threadEntry(): URL {
  const candidates = ['./listing-thread.mjs', '../listing-thread.mjs', './listing-thread.ts'].map((p) => new URL(p, import.meta.url));
  const found = candidates.find((u) => existsSync(u));
  if (!found) throw new Error(`the listing thread's code is missing (looked for ${candidates.map((u) => u.pathname).join(', ')})`);
  return found;
}

function startWorker(data: ThreadData): Worker {
  const entry = threadEntry();
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData: data });
  // The sources: tsx compiles the thread's TypeScript as it does the tests'. Its ES module API
  // (the CommonJS one registers its hooks from the wrong place), found through its exports map.
  const pkgFile = createRequire(import.meta.url).resolve('tsx/package.json');
  const exported = (JSON.parse(readFileSync(pkgFile, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports['./esm/api'].import.default;
  const tsx = new URL(exported, pathToFileURL(pkgFile));
  const source = `import(${JSON.stringify(tsx.href)}).then((api) => api.tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(import.meta.url)}))`;
  return new Worker(source, { eval: true, workerData: data });
}

/** One listing running on the thread: the pages it posted, handed to the reader in order. */
class ThreadJob implements ListingPages {
  private readonly queue: ListingPage[] = [];
  private finished = false;
  private failure: Error | undefined;
  private waiter: { resolve: (r: IteratorResult<ListingPage>) => void; reject: (e: Error) => void } | undefined;

  constructor(
    readonly id: number,
    private readonly post: (m: ToThread) => void,
    private readonly forget: (id: number) => void,
  ) {}

  /** A message of the thread for this job. */
  receive(m: FromThread): void {
    if (this.finished) return;
    if (m.t === 'page') this.queue.push(m.page);
    else if (m.t === 'end') this.finish();
    else if (m.t === 'error') this.fail(m.error);
    this.wakeReader();
  }

  fail(f: ThreadFailure): void {
    if (this.finished) return;
    this.failure = errorOf(f);
    this.finish();
    this.wakeReader();
  }

  private finish(): void {
    this.finished = true;
    this.forget(this.id);
  }

  private wakeReader(): void {
    const w = this.waiter;
    if (!w) return;
    const r = this.take();
    if (r === undefined) return;
    this.waiter = undefined;
    if (r instanceof Error) w.reject(r);
    else w.resolve(r);
  }

  /** The next result, an error, or undefined while the thread has not sent one. */
  private take(): IteratorResult<ListingPage> | Error | undefined {
    const page = this.queue.shift();
    if (page) {
      // The response took a page: the thread may read one more.
      if (!this.finished) this.post({ t: 'more', id: this.id, busy: loopBusy() });
      return { value: page, done: false };
    }
    if (this.failure) {
      const err = this.failure;
      this.failure = undefined;
      return err;
    }
    return this.finished ? { value: undefined, done: true } : undefined;
  }

  next(): Promise<IteratorResult<ListingPage>> {
    const r = this.take();
    if (r instanceof Error) return Promise.reject(r);
    if (r) return Promise.resolve(r);
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  cancel(): void {
    this.queue.length = 0;
    if (!this.finished) {
      this.post({ t: 'cancel', id: this.id });
      this.finish();
    }
    this.failure = undefined;
    this.wakeReader();
  }

  async return(): Promise<IteratorResult<ListingPage>> {
    this.cancel();
    return { value: undefined, done: true };
  }
}

/**
 * A listing thread (listing-thread.ts) and the jobs it runs for this process. `ready` settles
 * when the thread has opened the database, or failed to; `onStop` is called once, when the
 * thread is gone (stopped, failed or crashed), after every job still running was failed.
 */
export class ListingThread {
  readonly ready: Promise<void>;
  private readonly worker: Worker;
  private readonly jobs = new Map<number, ThreadJob>();
  private nextId = 1;
  private gone: Error | undefined;
  /** The thread opened the database. */
  started = false;

  constructor(
    data: ThreadData,
    private readonly onStop: (thread: ListingThread, reason: Error) => void,
  ) {
    this.worker = startWorker(data);
    // A thread waiting for work keeps no process alive.
    this.worker.unref();
    let settle: { resolve: () => void; reject: (e: Error) => void };
    this.ready = new Promise((resolve, reject) => (settle = { resolve, reject }));
    this.ready.catch(() => undefined);
    this.worker.on('message', (m: FromThread) => {
      if (m.t === 'ready') {
        this.started = true;
        settle.resolve();
      }
      else if (m.t === 'failed') this.stop(errorOf(m.error));
      else this.jobs.get(m.id)?.receive(m);
    });
    this.worker.on('error', (err) => this.stop(err));
    this.worker.on('exit', (code) => this.stop(new Error(`the listing thread exited (code ${code})`)));
    // Whatever stops the thread fails what waits for it.
    this.stopped = (reason) => settle.reject(reason);
  }

  private readonly stopped: (reason: Error) => void;

  /** How many listings the thread runs now. */
  get active(): number {
    return this.jobs.size;
  }

  start(job: ListingJob): ListingPages {
    if (this.gone) throw this.gone;
    const id = this.nextId++;
    const handle = new ThreadJob(
      id,
      (m) => this.worker.postMessage(m),
      (done) => this.jobs.delete(done),
    );
    this.jobs.set(id, handle);
    this.worker.postMessage({ t: 'start', id, job } satisfies ToThread);
    return handle;
  }

  /** Ends the thread; the jobs still running fail with `reason`. */
  stop(reason: Error = new Error('the listing thread was stopped')): void {
    if (this.gone) return;
    this.gone = reason;
    this.stopped(reason);
    for (const job of [...this.jobs.values()]) job.fail({ message: `listing failed: ${reason.message}`, name: reason.name });
    this.jobs.clear();
    void this.worker.terminate();
    this.onStop(this, reason);
  }
}

