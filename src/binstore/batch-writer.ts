import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DigestSet } from '../core/digests.js';
import { acquireBatch, BATCH_BYTES, ParallelDigest, releaseBatch, type SharedBatch } from '../core/parallel-digest.js';
import { streamedIn } from '../core/young-gc.js';
import type { BinaryInfo } from './binary-provider.js';
import { alignUp, countStaged, directIoRefused, openDirect } from './direct-io.js';

const BATCHES = 4;
/**
 * Start writing back every this many bytes (a datasync in the background while more bytes
 * arrive), so the fsync that ends the upload has little left to flush: with 64 MiB, a 40 MiB
 * registry layer waited about 23 ms for it at the end; with 8 MiB, about 5–10 ms. Bytes
 * written with O_DIRECT are not counted: they do not pass through the page cache.
 */
const SYNC_EVERY = 8 << 20;

interface Batch {
  shared: SharedBatch;
  view: Buffer;
  busy: Promise<void>;
}

/**
 * Writes a stream to a file in 1 MiB batches while its checksums are computed in the same
 * pass. Data that fits one batch is hashed inline; beyond that, each full batch goes to the
 * digest threads and to a positional write at the same time, and at most four batches are in
 * flight (so memory stays bounded and a slow disk or hash slows the reader down). The batch
 * buffers come from the digest threads' pool and go back to it when the file is finished.
 * Without `md5`, the MD5 is left MD5_PENDING.
 *
 * With `directPath` (the file's path, on a file system where direct I/O is used), batches
 * from the aligned arena are written through a second descriptor opened with O_DIRECT; the
 * last one is padded to the alignment with zeros and the file is truncated to its size
 * before the fsync. A file system that refuses O_DIRECT after all gets buffered writes.
 */
export class BatchWriter {
  private readonly batches: Batch[] = [];
  private current = 0;
  private fill = 0;
  private position = 0;
  private buffered = 0;
  private lastSync = 0;
  private syncing: Promise<void> = Promise.resolve();
  private parallel: ParallelDigest | undefined;
  private direct: Promise<FileHandle | undefined> | undefined;
  private padded = false;
  private failure: unknown;
  size = 0;
  /** Bytes written with O_DIRECT (for tests and metrics). */
  directBytes = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly fsync: boolean,
    private readonly md5 = true,
    private readonly directPath?: string,
  ) {}

  private batch(i: number): Batch {
    let b = this.batches[i];
    if (!b) {
      const shared = acquireBatch();
      b = this.batches[i] = { shared, view: shared.view, busy: Promise.resolve() };
    }
    return b;
  }

  /** Gives the batch buffers back to the pool (every batch is idle by now). */
  private release(): void {
    for (const b of this.batches.splice(0)) releaseBatch(b.shared);
  }

  async add(chunk: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    let off = 0;
    while (off < chunk.length) {
      const b = this.batch(this.current);
      const n = Math.min(BATCH_BYTES - this.fill, chunk.length - off);
      b.view.set(chunk.subarray(off, off + n), this.fill);
      this.fill += n;
      off += n;
      this.size += n;
      if (this.fill === BATCH_BYTES) {
        this.flush(b, this.fill);
        this.current = (this.current + 1) % BATCHES;
        this.fill = 0;
        await this.batch(this.current).busy;
        if (this.failure) throw this.failure;
      }
    }
  }

  /** The O_DIRECT descriptor, opened on first use; undefined when direct I/O is off or refused. */
  private directHandle(): Promise<FileHandle | undefined> {
    if (!this.directPath) return Promise.resolve(undefined);
    this.direct ??= openDirect(this.directPath).then((fh) => fh ?? this.refuseDirect());
    return this.direct;
  }

  /** Writes this and later batches through the page cache, and tells the directory's cache. */
  private refuseDirect(): undefined {
    this.direct = Promise.resolve(undefined);
    directIoRefused(dirname(this.directPath!));
    return undefined;
  }

  /** Writes `len` bytes of batch `b` at `at`: with O_DIRECT when the batch is aligned and the file allows it. */
  private async write(b: Batch, len: number, at: number): Promise<void> {
    const direct = b.shared.aligned ? await this.directHandle() : undefined;
    if (direct) {
      const padded = alignUp(len);
      if (padded > len) {
        b.view.fill(0, len, padded);
        this.padded = true;
      }
      try {
        const { bytesWritten } = await direct.write(b.view, 0, padded, at);
        if (bytesWritten !== padded) throw Object.assign(new Error(`short direct write: ${bytesWritten} of ${padded} bytes`), { code: 'EIO' });
        this.directBytes += len;
        countStaged('direct', len);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
        // The file system wants another alignment after all: write this and later batches buffered.
        this.refuseDirect();
        await direct.close().catch(() => undefined);
      }
    }
    this.buffered += len;
    countStaged('buffered', len);
    await this.fh.write(b.view, 0, len, at);
  }

  private flush(b: Batch, len: number): void {
    // The socket's chunks copied into this batch are garbage now: have them collected soon.
    streamedIn(len);
    this.parallel ??= new ParallelDigest(this.md5);
    const at = this.position;
    this.position += len;
    b.busy = Promise.all([this.parallel.update(b.shared, len), this.write(b, len, at)]).then(
      () => undefined,
      (err: unknown) => {
        this.failure ??= err;
      },
    );
    if (this.fsync && this.buffered - this.lastSync >= SYNC_EVERY) {
      this.lastSync = this.buffered;
      const prev = this.syncing;
      this.syncing = prev.then(() => this.fh.datasync()).catch((err: unknown) => {
        this.failure ??= err;
      });
    }
  }

  private async closeDirect(): Promise<void> {
    const direct = await this.direct?.catch(() => undefined);
    await direct?.close().catch(() => undefined);
  }

  /** Writes what is left, waits for every batch, fsyncs and closes; returns the checksums. */
  async finish(): Promise<BinaryInfo> {
    let info: BinaryInfo;
    if (!this.parallel) {
      const d = new DigestSet(this.md5);
      const tail = this.batch(this.current).view.subarray(0, this.fill);
      d.update(tail);
      if (this.fill > 0) await this.fh.write(tail, 0, this.fill, 0);
      info = d.digest();
    } else {
      if (this.fill > 0) this.flush(this.batch(this.current), this.fill);
      await Promise.all(this.batches.map((b) => b.busy));
      if (this.failure) throw this.failure;
      info = await this.parallel.digest();
    }
    this.release();
    await this.syncing;
    await this.closeDirect();
    if (this.failure) throw this.failure;
    // The last direct write was padded to the alignment: cut the zeros off.
    if (this.padded) await this.fh.truncate(this.size);
    if (this.fsync) await this.fh.sync();
    await this.fh.close();
    return info;
  }

  /** Waits for in-flight writes so the file can be removed, and closes it. */
  async abandon(): Promise<void> {
    await Promise.all(this.batches.map((b) => b.busy));
    await this.syncing;
    await this.closeDirect();
    this.parallel?.drop();
    this.release();
    await this.fh.close().catch(() => undefined);
  }
}
