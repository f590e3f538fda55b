import { tempName } from '../temp-files.js';
import { createHash, type Hash } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * One temp file of the cache-fs provider being filled (from an upload or a read of the
 * child) under `cache/_pre`. Writing stops quietly when the data passes `limit` or the cache
 * disk fails: the caller's transfer goes on, the cache entry is just not made.
 */
export class CacheFill {
  bytes = 0;
  /** All of the source went through (set by the caller at its end). */
  complete = false;
  /** Why the fill gave up, if it did. */
  error: unknown;
  private readonly hash: Hash | undefined;
  private closed = false;
  private dropped = false;

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    private readonly limit: number,
    /** The cache's delete counter when the fill began (see CacheFsProvider.deletedSince). */
    readonly epoch: number,
    hashIt: boolean,
  ) {
    this.hash = hashIt ? createHash('sha1') : undefined;
  }

  static async start(dir: string, limit: number, epoch: number, hashIt: boolean): Promise<CacheFill> {
    const path = join(dir, tempName('fill-'));
    return new CacheFill(path, await open(path, 'wx', 0o600), limit, epoch, hashIt);
  }

  get failed(): boolean {
    return this.dropped || this.error !== undefined;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.failed) return;
    if (this.bytes + chunk.length > this.limit) {
      this.error = new Error(`larger than the cache limit of ${this.limit} bytes`);
      await this.drop();
      return;
    }
    try {
      await this.fh.write(chunk, 0, chunk.length, this.bytes);
      this.hash?.update(chunk);
      this.bytes += chunk.length;
    } catch (err) {
      this.error = err;
      await this.drop();
    }
  }

  /** The SHA-1 of what was written (only for fills started with hashing). */
  digest(): string | undefined {
    return this.hash?.digest('hex');
  }

  /** Flushes (when asked) and closes the file, leaving it in place for a rename. */
  async close(fsync: boolean): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (fsync) await this.fh.sync();
    await this.fh.close();
  }

  /** Closes and removes the temp file; safe to call more than once. */
  async drop(): Promise<void> {
    if (this.dropped) return;
    this.dropped = true;
    if (!this.closed) {
      this.closed = true;
      await this.fh.close().catch(() => undefined);
    }
    await rm(this.path, { force: true });
  }
}
