import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Paces V8's young-generation collections by the bytes a process streams in.
 *
 * Node reads every socket into a new 64 KiB Buffer. An upload copies each one into a batch
 * at once, so they die young, but their memory (outside the V8 heap) is freed only when a
 * collection finds them dead, and V8 lets about 35 MB of them pile up first. Each worker that
 * took a large upload then kept that much more resident memory: a bare `node:http` server
 * receiving 1 GiB peaks at 45 MB of anonymous memory, against 14 MB with a scavenge per MiB
 * received (docs/performance.md, "Memory"). A scavenge of a young generation that holds
 * little but those Buffers takes tens of microseconds, and the memory it frees is reused
 * while it is still in the CPU's caches: the upload did not get slower.
 */
type Gc = (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

/** Bytes streamed in, process-wide, between two young collections. */
export const YOUNG_GC_EVERY_BYTES = 1 << 20;

let gcFn: Gc | null | undefined;
let since = 0;

/**
 * V8's `gc` function: the global one when the process runs with `--expose-gc` (the
 * supervisor starts its workers so), else taken from a fresh context after turning the flag
 * on (a single-process node); null when neither works.
 */
function gcFunction(): Gc | null {
  if (gcFn !== undefined) return gcFn;
  const global = (globalThis as { gc?: Gc }).gc;
  if (typeof global === 'function') return (gcFn = global);
  try {
    setFlagsFromString('--expose-gc');
    const fromContext = runInNewContext('gc') as unknown;
    gcFn = typeof fromContext === 'function' ? (fromContext as Gc) : null;
  } catch {
    gcFn = null;
  }
  return gcFn;
}

/** Counts `bytes` streamed in; every YOUNG_GC_EVERY_BYTES (over all streams of the process), runs a young collection. */
export function streamedIn(bytes: number): void {
  since += bytes;
  if (since < YOUNG_GC_EVERY_BYTES) return;
  since = 0;
  gcFunction()?.({ type: 'minor' });
}

/**
 * One full collection, for a process that has just finished a burst of work and is idle
 * (the digest threads call it when they stop after an upload): with a large initial old
 * space (`arca.workerHeapMb`) V8 would otherwise not run one until the old generation grows
 * to that size, and the young generation keeps the size the burst grew it to.
 */
export function fullCollection(): void {
  busySinceFull = 0;
  // Without arguments: Node 20's V8 runs a young collection for { type: 'major' }.
  gcFunction()?.();
}

/** Event-loop time (ms) since the last full collection that makes an idle one worth it. */
export const IDLE_GC_AFTER_BUSY_MS = 200;
/** How often the idle collector looks at the event loop. */
export const IDLE_GC_CHECK_MS = 5_000;
let busySinceFull = 0;

/**
 * Runs a full collection when the process has been quiet (event loop busy less than 2 % of
 * one check interval) after at least `busyMs` of work since the last one. A burst of GETs
 * leaves a worker with a grown young generation and promoted garbage that, with a large
 * initial old space, no collection would otherwise reclaim: about 5 MB of a worker's RSS
 * (docs/performance.md, "Memory"). A worker under load is never interrupted by it. Returns
 * the stop.
 */
export function startIdleCollector(checkMs = IDLE_GC_CHECK_MS, busyMs = IDLE_GC_AFTER_BUSY_MS): () => void {
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, last);
    last = now;
    busySinceFull += delta.active;
    if (delta.utilization < 0.02 && busySinceFull >= busyMs) {
      fullCollection();
      // The collection's own time is not work that calls for another.
      last = performance.eventLoopUtilization();
    }
  }, checkMs);
  timer.unref();
  return () => clearInterval(timer);
}
