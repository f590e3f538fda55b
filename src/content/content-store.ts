import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Transaction } from 'kysely';
import type { BinaryProvider, ByteRange, StagedBinary, StageOptions } from '../binstore/binary-provider.js';
import type { Clock } from '../core/clock.js';
import { ArcaError } from '../core/errors.js';
import { LruCache } from '../core/lru-cache.js';
import { findBinary, lockBinary, unreferencedBinaries, isReferenced } from '../db/binaries.js';
import type { Database } from '../db/database.js';
import type { BinaryRow } from '../db/items.js';
import type { Schema } from '../db/schema.js';
import { orIgnore } from '../db/dialect.js';
import { MD5_PENDING } from '../core/digests.js';
import { Md5Backfill, type Md5BackfillOptions } from './md5-backfill.js';

export interface GcResult {
  binariesRemoved: number;
  bytesRemoved: number;
  orphanFilesRemoved: number;
  tempFilesRemoved: number;
}

export interface ContentStoreOptions {
  /** Binaries at most this big are read in one call and kept in the small-file cache. */
  smallFileLimit?: number;
  /** Total bytes kept in the small-file cache (content is immutable, so it never goes stale). */
  cacheBytes?: number;
  /** Timing of the MD5 backfill of binaries staged without an MD5. */
  md5Backfill?: Md5BackfillOptions;
}

/**
 * Content-addressed storage on top of a BinaryProvider: uploads are staged with their
 * checksums, become visible only when the item that references them commits, and are
 * removed by garbage collection once nothing references them.
 */
export class ContentStore {
  readonly smallFileLimit: number;
  /** Computes the MD5 of binaries committed without one (`StageOptions.md5: false`). */
  readonly md5Backfill: Md5Backfill;
  private readonly cache: LruCache<Buffer>;

  constructor(
    private readonly database: Database,
    readonly provider: BinaryProvider,
    private readonly clock: Clock,
    options: ContentStoreOptions = {},
  ) {
    this.smallFileLimit = options.smallFileLimit ?? 64 * 1024;
    this.cache = new LruCache<Buffer>(options.cacheBytes ?? 64 * 1024 * 1024, (b) => b.length);
    this.md5Backfill = new Md5Backfill(database, provider, clock, options.md5Backfill);
  }

  stage(source: AsyncIterable<Uint8Array>, options?: StageOptions): Promise<StagedBinary> {
    return this.provider.stage(source, options);
  }

  /**
   * Commits a staged binary and, in the same database transaction, whatever references it
   * (`withItem`). The binaries row is locked before the file is made visible, so garbage
   * collection cannot remove the file between its rename and the item's commit.
   */
  async commit<T>(staged: StagedBinary, withItem: (trx: Transaction<Schema>) => Promise<T>): Promise<T> {
    try {
      const result = await this.database.db.transaction().execute(async (trx) => {
        await lockBinary(trx, staged, this.clock.now());
        await staged.commit();
        return withItem(trx);
      });
      if (staged.md5 === MD5_PENDING) this.md5Backfill.enqueue(staged.sha1);
      return result;
    } finally {
      await staged.discard();
    }
  }

  /** Looks up an existing binary by checksum (sha256 wins over sha1), for checksum deploys. */
  async findExisting(by: { sha1?: string; sha256?: string }): Promise<BinaryRow | undefined> {
    const row = await findBinary(this.database.db, by);
    if (!row) return undefined;
    return (await this.provider.exists(row.sha1)) ? row : undefined;
  }

  /** References an existing binary from a new item inside one transaction. */
  async reference<T>(binary: BinaryRow, withItem: (trx: Transaction<Schema>) => Promise<T>): Promise<T> {
    return this.database.db.transaction().execute(async (trx) => {
      await lockBinary(trx, binary, this.clock.now());
      if (!(await this.provider.exists(binary.sha1))) {
        throw new ArcaError('CHECKSUM_DEPLOY_FAILED', `Checksum deploy failed. No existing file with sha1: ${binary.sha1}`);
      }
      return withItem(trx);
    });
  }

  async read(sha1: string, range?: ByteRange): Promise<Readable> {
    return this.provider.read(sha1, range);
  }

  /** An open file for the binary when the provider stores it locally, else undefined. */
  async openFile(sha1: string): Promise<FileHandle | undefined> {
    return this.provider.openFile?.(sha1);
  }

  /** Reads a small binary, served from memory when it was read before. */
  async readSmall(sha1: string): Promise<Buffer> {
    const hit = this.cache.get(sha1);
    if (hit) return hit;
    const data = await this.provider.readBuffer(sha1);
    this.cache.set(sha1, data);
    return data;
  }

  /**
   * Deletes binaries that no item references and that are older than `graceMs`, then files
   * that have no binaries row at all (left by a crash between rename and commit). Stops
   * between binaries when `signal` aborts; what it did so far stays done.
   */
  async collectGarbage(graceMs: number, signal?: AbortSignal): Promise<GcResult> {
    const result: GcResult = { binariesRemoved: 0, bytesRemoved: 0, orphanFilesRemoved: 0, tempFilesRemoved: 0 };
    const before = this.clock.now() - graceMs;
    for (;;) {
      const candidates = await unreferencedBinaries(this.database.db, before, 500);
      if (candidates.length === 0) break;
      let progressed = false;
      for (const c of candidates) {
        signal?.throwIfAborted();
        const removed = await this.database.db.transaction().execute(async (trx) => {
          // Lock the row, then re-check under the lock: an upload may have referenced it meanwhile.
          await lockBinary(trx, c, c.created);
          if (await isReferenced(trx, c.sha1)) return false;
          await trx.deleteFrom('binaries').where('sha1', '=', c.sha1).execute();
          await this.provider.delete(c.sha1);
          return true;
        });
        if (removed) {
          progressed = true;
          result.binariesRemoved++;
          result.bytesRemoved += c.size;
          this.cache.delete(c.sha1);
        }
      }
      if (!progressed) break;
    }
    for await (const file of this.provider.list()) {
      signal?.throwIfAborted();
      if (file.mtimeMs > before) continue;
      const removed = await this.database.db.transaction().execute(async (trx) => {
        // A tombstone row holds the lock while the orphan file goes; uploads of the same
        // binary wait for it and then write a fresh copy.
        const ins = await orIgnore(trx, trx.insertInto('binaries').values({ sha1: file.sha1, sha256: '', md5: '', size: -1, created: 0 }), 'sha1')
          .executeTakeFirst();
        if (Number(ins.numInsertedOrUpdatedRows ?? 0) === 0) return false;
        await this.provider.delete(file.sha1);
        await trx.deleteFrom('binaries').where('sha1', '=', file.sha1).execute();
        return true;
      });
      if (removed) result.orphanFilesRemoved++;
    }
    const cleaner = (this.provider as { cleanTemp?: (ms: number) => Promise<number> }).cleanTemp;
    if (cleaner) result.tempFilesRemoved = await cleaner.call(this.provider, Math.max(graceMs, 60_000));
    return result;
  }
}
