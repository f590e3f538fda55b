import { Worker } from 'node:worker_threads';
import type { Checksums } from './digests.js';

/**
 * MD5, SHA-1 and SHA-256 of large streams computed on two worker threads (MD5 on one,
 * SHA-1 and SHA-256 on the other) while the caller's thread moves the bytes. Batches are
 * SharedArrayBuffers, so no byte is copied to reach a worker; a batch may be reused once
 * `update` resolves.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const algorithms = workerData.algorithms;
const sessions = new Map();
parentPort.on('message', (m) => {
  if (m.t === 'update') {
    let hashes = sessions.get(m.id);
    if (!hashes) { hashes = algorithms.map((a) => createHash(a)); sessions.set(m.id, hashes); }
    const view = new Uint8Array(m.buf, 0, m.len);
    for (const h of hashes) h.update(view);
    parentPort.postMessage({ t: 'ack', id: m.id, seq: m.seq });
  } else if (m.t === 'end') {
    const hashes = sessions.get(m.id) || algorithms.map((a) => createHash(a));
    sessions.delete(m.id);
    const out = {};
    algorithms.forEach((a, i) => { out[a] = hashes[i].digest('hex'); });
    parentPort.postMessage({ t: 'digest', id: m.id, out });
  } else if (m.t === 'drop') {
    sessions.delete(m.id);
  }
});
`;

type Ack = { t: 'ack'; id: number; seq: number } | { t: 'digest'; id: number; out: Record<string, string> };

class HashThread {
  private readonly worker: Worker;
  private readonly waiters = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  failed: unknown;

  constructor(algorithms: string[]) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { algorithms } });
    this.worker.unref();
    this.worker.on('message', (m: Ack) => {
      const key = m.t === 'ack' ? `${m.id}:${m.seq}` : `${m.id}:end`;
      const w = this.waiters.get(key);
      this.waiters.delete(key);
      w?.resolve(m.t === 'ack' ? undefined : m.out);
    });
    const fail = (err: unknown) => {
      this.failed = err ?? new Error('digest worker exited');
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

  update(id: number, seq: number, buf: SharedArrayBuffer, len: number): Promise<void> {
    return this.call(`${id}:${seq}`, { t: 'update', id, seq, buf, len });
  }

  end(id: number): Promise<Record<string, string>> {
    return this.call(`${id}:end`, { t: 'end', id });
  }

  drop(id: number): void {
    if (!this.failed) this.worker.postMessage({ t: 'drop', id });
  }
}

let threads: [HashThread, HashThread] | undefined;
let nextSession = 1;

function pool(): [HashThread, HashThread] {
  if (!threads || threads.some((t) => t.failed)) threads = [new HashThread(['md5']), new HashThread(['sha1', 'sha256'])];
  return threads;
}

/** One stream's digests; feed batches in order, then `digest()` once. */
export class ParallelDigest {
  private readonly id = nextSession++;
  private seq = 0;
  private readonly threads = pool();
  size = 0;

  /** Resolves when both threads are done with the batch (it may then be reused). */
  update(buf: SharedArrayBuffer, len: number): Promise<void> {
    const seq = this.seq++;
    this.size += len;
    return Promise.all(this.threads.map((t) => t.update(this.id, seq, buf, len))).then(() => undefined);
  }

  async digest(): Promise<Checksums & { size: number }> {
    const [a, b] = await Promise.all(this.threads.map((t) => t.end(this.id)));
    return { md5: a.md5, sha1: b.sha1, sha256: b.sha256, size: this.size };
  }

  /** Forgets a stream that will not finish. */
  drop(): void {
    for (const t of this.threads) t.drop(this.id);
  }
}
