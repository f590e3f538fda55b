import { Worker } from 'node:worker_threads';
import { MD5_PENDING, type Checksums } from './digests.js';
import { fullCollection } from './young-gc.js';

/**
 * Digests of large streams computed on two worker threads while the caller's thread moves
 * the bytes. With MD5, one thread computes MD5 and the other SHA-1 and SHA-256; without it,
 * one thread computes both SHAs (streams alternate between the threads).
 *
 * Batches are SharedArrayBuffers from a process-wide pool. A thread is sent a buffer once and
 * keeps it under a slot number; later batches name the slot, so nothing is copied or
 * re-shared per batch (sharing a SharedArrayBuffer in every message costs more than hashing
 * a megabyte on a busy machine).
 *
 * The threads start with the first stream that needs them and stop once no stream has used
 * them for THREAD_IDLE_MS: each is a V8 isolate with its own Node environment, about 7 MB
 * of a worker's resident memory. Once they have exited, the process runs one full
 * collection, which gives back what the upload left in its own heap (docs/performance.md,
 * "Memory").
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const buffers = new Map();
const sessions = new Map();
parentPort.on('message', (m) => {
  if (m.t === 'update') {
    if (m.buf) buffers.set(m.slot, new Uint8Array(m.buf, m.offset, m.size));
    let s = sessions.get(m.id);
    if (!s) { s = { algorithms: m.algorithms, hashes: m.algorithms.map((a) => createHash(a)) }; sessions.set(m.id, s); }
    const view = buffers.get(m.slot).subarray(0, m.len);
    for (const h of s.hashes) h.update(view);
    parentPort.postMessage({ t: 'ack', id: m.id, seq: m.seq });
  } else if (m.t === 'end') {
    const s = sessions.get(m.id) || { algorithms: m.algorithms, hashes: m.algorithms.map((a) => createHash(a)) };
    sessions.delete(m.id);
    const out = {};
    s.algorithms.forEach((a, i) => { out[a] = s.hashes[i].digest('hex'); });
    parentPort.postMessage({ t: 'digest', id: m.id, out });
  } else if (m.t === 'drop') {
    sessions.delete(m.id);
  } else if (m.t === 'forget') {
    buffers.delete(m.slot);
  }
});
`;

type Reply = { t: 'ack'; id: number; seq: number } | { t: 'digest'; id: number; out: Record<string, string> };

/**
 * A pooled batch buffer: `view` is written by the caller, the threads read it by `slot`
 * (`view` is BATCH_BYTES of `sab` from `offset`). `aligned`: the view starts on a page
 * boundary, so it can be written with O_DIRECT.
 */
export interface SharedBatch {
  readonly slot: number;
  readonly sab: SharedArrayBuffer;
  readonly offset: number;
  readonly view: Buffer;
  readonly aligned: boolean;
}

class HashThread {
  private readonly worker: Worker;
  private readonly waiters = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  /** Slots whose buffer this thread holds. */
  private readonly known = new Set<number>();
  failed: unknown;
  private stopped = false;

  constructor() {
    this.worker = new Worker(WORKER_SOURCE, { eval: true });
    this.worker.unref();
    this.worker.on('message', (m: Reply) => {
      const key = m.t === 'ack' ? `${m.id}:${m.seq}` : `${m.id}:end`;
      const w = this.waiters.get(key);
      this.waiters.delete(key);
      w?.resolve(m.t === 'ack' ? undefined : m.out);
    });
    const fail = (err: unknown) => {
      this.failed = err ?? new Error(this.stopped ? 'digest worker stopped' : 'digest worker exited');
      for (const w of this.waiters.values()) w.reject(this.failed);
      this.waiters.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', () => fail(undefined));
  }

  private call<T>(key: string, message: unknown): Promise<T> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise<T>((resolve, reject) => {
      this.waiters.set(key, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage(message);
    });
  }

  update(id: number, seq: number, algorithms: string[], batch: SharedBatch, len: number): Promise<void> {
    const first = !this.known.has(batch.slot);
    if (first) this.known.add(batch.slot);
    return this.call(`${id}:${seq}`, {
      t: 'update',
      id,
      seq,
      algorithms: seq === 0 ? algorithms : undefined,
      slot: batch.slot,
      buf: first ? batch.sab : undefined,
      offset: first ? batch.offset : undefined,
      size: first ? batch.view.length : undefined,
      len,
    });
  }

  end(id: number, algorithms: string[]): Promise<Record<string, string>> {
    return this.call(`${id}:end`, { t: 'end', id, algorithms });
  }

  drop(id: number): void {
    if (!this.failed) this.worker.postMessage({ t: 'drop', id });
  }

  forget(slot: number): void {
    if (this.known.delete(slot) && !this.failed) this.worker.postMessage({ t: 'forget', slot });
  }

  /** Ends the thread (nothing waits on it: the pool stops threads only when no stream is open); resolves once it has exited. */
  stop(): Promise<unknown> {
    this.stopped = true;
    return this.worker.terminate().catch(() => undefined);
  }
}

/**
 * The digest threads stop after this long without a stream: long enough for the next layer
 * of an image push or the next file of a deploy to find them running (starting the two takes
 * about 40 ms), short enough that a node does not hold them between occasional uploads.
 */
export const THREAD_IDLE_MS = 2_000;
let threadIdleMs = THREAD_IDLE_MS;

export const BATCH_BYTES = 1 << 20;
/** Free batch buffers kept for reuse beyond the arena; more are let go (16 MiB at most stays allocated). */
const POOL_KEEP = 16;
/**
 * Batches in the aligned arena: enough for eight large uploads at a time per process (each
 * holds at most four batches). The arena's pages are touched only when a batch is used.
 */
const ARENA_BATCHES = 32;
const WASM_PAGE = 64 << 10;

let threads: [HashThread, HashThread] | undefined;
let nextSession = 1;
let nextSlot = 1;
const freeBatches: SharedBatch[] = [];
/** The arena's free batches; `arenaSize` of them when none is in use. */
let arena: SharedBatch[] | undefined;
let arenaSab: SharedArrayBuffer | undefined;
let arenaSize = 0;

/** Streams open on the threads; when it drops to 0, the idle timer runs. */
let openStreams = 0;
let idleTimer: NodeJS.Timeout | undefined;

function pool(): [HashThread, HashThread] {
  if (!threads || threads.some((t) => t.failed)) threads = [new HashThread(), new HashThread()];
  return threads;
}

function streamOpened(): void {
  openStreams++;
  clearTimeout(idleTimer);
  idleTimer = undefined;
}

function streamClosed(): void {
  if (--openStreams > 0 || !threads) return;
  clearTimeout(idleTimer);
  idleTimer = setTimeout(stopIdleThreads, threadIdleMs);
  idleTimer.unref();
}

function stopIdleThreads(): void {
  idleTimer = undefined;
  if (openStreams > 0 || !threads) return;
  const stopping = threads;
  threads = undefined;
  void Promise.all(stopping.map((t) => t.stop())).then(() => {
    if (threads) return;
    dropIdleBuffers();
    fullCollection();
  });
}

/**
 * Lets go of the batch buffers no stream holds, once the threads that knew them have exited:
 * the arena's pages that uploads touched (4 MiB for one upload at a time) stay resident as
 * long as the arena lives. An arena with a batch in use is kept; the next upload makes a new
 * one otherwise.
 */
function dropIdleBuffers(): void {
  freeBatches.length = 0;
  if (arena && arena.length === arenaSize) {
    arena = undefined;
    arenaSab = undefined;
    arenaSize = 0;
  }
}

/** Whether the digest threads are running and the arena exists, and sets how long the threads may idle (for tests). */
export function digestThreads(idleMs?: number): { running: boolean; arena: boolean } {
  if (idleMs !== undefined) threadIdleMs = idleMs;
  return { running: threads !== undefined, arena: arena !== undefined };
}

interface SharedWasmMemory {
  readonly buffer: SharedArrayBuffer;
}
type WasmMemoryConstructor = new (descriptor: { initial: number; maximum: number; shared: true }) => SharedWasmMemory;

/**
 * The aligned batches: one shared WebAssembly memory, the only page-aligned shared memory
 * JavaScript can allocate (a SharedArrayBuffer's backing store comes from malloc, 16 bytes
 * past a page boundary). Batches are carved from it at multiples of BATCH_BYTES. Where it
 * cannot be had (address-space limits), there is no arena and every batch is unaligned.
 */
function alignedArena(): SharedBatch[] {
  if (arena) return arena;
  arena = [];
  try {
    const Memory = (globalThis as unknown as { WebAssembly: { Memory: WasmMemoryConstructor } }).WebAssembly.Memory;
    const pages = (ARENA_BATCHES * BATCH_BYTES) / WASM_PAGE;
    const sab = new Memory({ initial: pages, maximum: pages, shared: true }).buffer;
    arenaSab = sab;
    for (let i = ARENA_BATCHES - 1; i >= 0; i--) {
      const offset = i * BATCH_BYTES;
      arena.push({ slot: nextSlot++, sab, offset, view: Buffer.from(sab, offset, BATCH_BYTES), aligned: true });
    }
    arenaSize = ARENA_BATCHES;
  } catch {
    // no arena: batches come from plain SharedArrayBuffers
  }
  return arena;
}

/**
 * A batch buffer of BATCH_BYTES from the pool (an aligned one while the arena has one free);
 * give it back with `releaseBatch` once no thread reads it.
 */
export function acquireBatch(): SharedBatch {
  const fromArena = alignedArena().pop();
  if (fromArena) return fromArena;
  const free = freeBatches.pop();
  if (free) return free;
  const sab = new SharedArrayBuffer(BATCH_BYTES);
  return { slot: nextSlot++, sab, offset: 0, view: Buffer.from(sab), aligned: false };
}

export function releaseBatch(batch: SharedBatch): void {
  if (batch.aligned) {
    // A batch of an arena let go meanwhile goes with it.
    if (batch.sab === arenaSab) alignedArena().push(batch);
    return;
  }
  if (freeBatches.length < POOL_KEEP) {
    freeBatches.push(batch);
    return;
  }
  for (const t of threads ?? []) t.forget(batch.slot);
}

/** How many aligned batches the arena has, and how many are in use (for tests). */
export function arenaStats(): { size: number; inUse: number } {
  const free = alignedArena().length;
  return { size: arenaSize, inUse: arenaSize - free };
}

/** One stream's digests; feed batches in order, then `digest()` once. */
export class ParallelDigest {
  private readonly id = nextSession++;
  private seq = 0;
  private readonly work: { thread: HashThread; algorithms: string[] }[];
  private open = true;
  size = 0;

  constructor(private readonly withMd5 = true) {
    streamOpened();
    const [a, b] = pool();
    this.work = withMd5
      ? [
          { thread: a, algorithms: ['md5'] },
          { thread: b, algorithms: ['sha1', 'sha256'] },
        ]
      : [{ thread: this.id % 2 === 0 ? a : b, algorithms: ['sha1', 'sha256'] }];
  }

  /** Resolves when every thread is done with the batch (it may then be reused). */
  update(batch: SharedBatch, len: number): Promise<void> {
    const seq = this.seq++;
    this.size += len;
    if (this.work.length === 1) return this.work[0].thread.update(this.id, seq, this.work[0].algorithms, batch, len);
    return Promise.all(this.work.map((w) => w.thread.update(this.id, seq, w.algorithms, batch, len))).then(() => undefined);
  }

  async digest(): Promise<Checksums & { size: number }> {
    try {
      const parts = await Promise.all(this.work.map((w) => w.thread.end(this.id, w.algorithms)));
      const all: Record<string, string> = Object.assign({}, ...parts);
      return { md5: this.withMd5 ? all.md5 : MD5_PENDING, sha1: all.sha1, sha256: all.sha256, size: this.size };
    } finally {
      this.close();
    }
  }

  /** Forgets a stream that will not finish. */
  drop(): void {
    for (const w of this.work) w.thread.drop(this.id);
    this.close();
  }

  private close(): void {
    if (!this.open) return;
    this.open = false;
    streamClosed();
  }
}
