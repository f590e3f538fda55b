import type { ListingJob, ListingPage } from './listing-job.js';

/**
 * The messages between a worker process's event loop and its listing thread
 * (listing-runner.ts ⇄ listing-thread.ts).
 *
 * Flow control is by credit: `start` gives a job CREDIT pages, the thread sends a page only
 * while the job has credit, and the event loop gives one back (`more`) each time the HTTP
 * response took a page. A client that reads slowly therefore pauses the walk, with at most
 * CREDIT pages of it waiting in memory.
 */
export const CREDIT = 4;

/** What the thread is started with (`workerData`). */
export interface ThreadData {
  /** The SQLite database file, opened read-only. */
  file: string;
  /** The thread's nice value (Linux keeps one per thread). */
  nice: number;
}

export type ToThread = { t: 'start'; id: number; job: ListingJob } | { t: 'more'; id: number; busy: boolean } | { t: 'cancel'; id: number };

/** A failure as it crosses threads: an ArcaError's code comes back as the same ArcaError. */
export interface ThreadFailure {
  message: string;
  code?: string;
  name?: string;
}

export type FromThread =
  | { t: 'ready' }
  | { t: 'failed'; error: ThreadFailure }
  | { t: 'page'; id: number; page: ListingPage }
  | { t: 'end'; id: number }
  | { t: 'error'; id: number; error: ThreadFailure };

export function failureOf(err: unknown): ThreadFailure {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { message: err.message, name: err.name, code: typeof code === 'string' ? code : undefined };
  }
  return { message: String(err) };
}
