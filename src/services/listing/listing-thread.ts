import { setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteReader } from '../../db/database.js';
import { UNPACED } from '../../db/tree.js';
import { listingPages, type ListingJob } from './listing-job.js';
import { CREDIT, failureOf, type FromThread, type ThreadData, type ToThread } from './listing-protocol.js';

/**
 * The listing thread of a worker process on SQLite (started by listing-runner.ts). better-sqlite3
 * answers synchronously, so a listing's reads, on the event loop, held it for every page; here
 * they hold only this thread, on its own read-only connection to the same database file. The
 * thread walks the tree and writes each page's JSON (listing-job.ts) and posts the text back.
 *
 * It runs at a low priority (`nice`; Linux keeps a nice value per thread, so only this thread
 * is reniced): on a busy machine the short requests of the event loop go first and a listing
 * takes what CPU is left. Jobs take turns a page at a time, so one long listing neither delays
 * another nor a `cancel`.
 */

const port = parentPort!;
const data = workerData as ThreadData;
const send = (m: FromThread, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

/**
 * While the worker's event loop is busy with other requests, the thread rests PACE times as
 * long as it worked on each page (at most MAX_REST_MS), leaving the cores to them: even at
 * nice 19 it takes any idle core, which on a small machine is the one the clients and the
 * kernel's network work need. A listing alone runs at full speed.
 */
const PACE = 2;
const MAX_REST_MS = 100;

interface Running {
  credit: number;
  cancelled: boolean;
  /** The worker said its event loop was busy when it last gave credit. */
  busy: boolean;
  wake?: () => void;
}

const running = new Map<number, Running>();

try {
  setPriority(0, data.nice);
} catch {
  // Lowering one's own priority is always allowed on Linux; elsewhere it may not be: run as is.
}

let reader: ReturnType<typeof openSqliteReader>;
try {
  reader = openSqliteReader(data.file);
  // The schema is there (the node migrated it before it served anything).
  await reader.db.selectFrom('items').select('id').limit(1).execute();
  send({ t: 'ready' });
} catch (err) {
  send({ t: 'failed', error: failureOf(err) });
  port.close();
}

async function run(id: number, job: ListingJob, state: Running): Promise<void> {
  const pages = listingPages(reader.db, job, UNPACED);
  try {
    for (;;) {
      // One page per turn of this thread's loop: other jobs and incoming messages run between.
      await nextTurn();
      while (state.credit === 0 && !state.cancelled) await new Promise<void>((resolve) => (state.wake = resolve));
      if (state.cancelled) return;
      const started = performance.now();
      const next = await pages.next();
      if (state.cancelled) return;
      if (state.busy) {
        const rest = Math.min(MAX_REST_MS, PACE * (performance.now() - started));
        if (rest >= 1) await new Promise((resolve) => setTimeout(resolve, rest));
      }
      if (next.done) {
        send({ t: 'end', id });
        return;
      }
      state.credit--;
      send({ t: 'page', id, page: next.value }, [next.value.ends.buffer as ArrayBuffer]);
    }
  } catch (err) {
    if (!state.cancelled) send({ t: 'error', id, error: failureOf(err) });
  } finally {
    running.delete(id);
    await pages.return(undefined).catch(() => undefined);
  }
}

port.on('message', (m: ToThread) => {
  if (m.t === 'start') {
    const state: Running = { credit: CREDIT, cancelled: false, busy: false };
    running.set(m.id, state);
    void run(m.id, m.job, state);
    return;
  }
  const state = running.get(m.id);
  if (!state) return;
  if (m.t === 'more') {
    state.credit++;
    state.busy = m.busy;
  }
  else state.cancelled = true;
  state.wake?.();
  state.wake = undefined;
});
