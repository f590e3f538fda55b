import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Transaction } from 'kysely';
import type { BinaryProvider, ByteRange, StagedBinary, StageOptions } from '../binstore/binary-provider.js';
import type { Clock } from '../core/clock.js';
import { ArcaError } from '../core/errors.js';
import { LruCache } from '../core/lru-cache.js';
import { exactReferenceCounts, findBinary, foldReferenceLog, garbageCandidates, lockBinary } from '../db/binaries.js';
import type { Database } from '../db/database.js';
import type { BinaryRow } from '../db/items.js';
import type { Schema } from '../db/schema.js';
import { MD5_PENDING } from '../core/digests.js';
import { Md5Backfill, type Md5BackfillOptions } from './md5-backfill.js';
import { retryConflicts } from '../db/conflicts.js';
import { OrphanSweep } from './orphan-sweep.js';

/** What a binaries row lock needs to know of a binary (its row is created when missing). */
export type LockedBinary = Pick<BinaryRow, 'sha1' | 'sha256' | 'md5' | 'size'>;

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
  /**
   * How often garbage collection also walks every stored file for files with no binaries row
   * (`arca.gc.orphanSweepIntervalSecs`); sooner when a commit failed after its file was made
   * visible. Default one day.
   */
  orphanSweepIntervalMs?: number;
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
  private readonly orphanSweepIntervalMs: number;

  constructor(
    private readonly database: Database,
    readonly provider: BinaryProvider,
    private readonly clock: Clock,
    options: ContentStoreOptions = {},
  ) {
    this.smallFileLimit = options.smallFileLimit ?? 64 * 1024;
    this.cache = new LruCache<Buffer>(options.cacheBytes ?? 64 * 1024 * 1024, (b) => b.length);
    this.md5Backfill = new Md5Backfill(database, provider, clock, options.md5Backfill);
    this.orphanSweepIntervalMs = options.orphanSweepIntervalMs ?? 86_400_000;
  }

  stage(source: AsyncIterable<Uint8Array>, options?: StageOptions): Promise<StagedBinary> {
    return this.provider.stage(source, options);
  }

  /**
   * Commits a staged binary and, in the same database transaction, whatever references it
   * (`withItem`). The binaries row is locked before the file is made visible, so garbage
   * collection cannot remove the file between its rename and the item's commit. `alsoLock`:
   * other binaries the transaction will reference, locked with it before anything else.
   */
  async commit<T>(staged: StagedBinary, withItem: (trx: Transaction<Schema>) => Promise<T>, alsoLock: readonly LockedBinary[] = []): Promise<T> {
    let visible = false;
    // Every row this transaction will hold, locked first and in sha1 order, so transactions
    // sharing binaries never wait for each other crosswise.
    const rows = new Map<string, LockedBinary>([[staged.sha1, staged]]);
    for (const b of alsoLock) if (!rows.has(b.sha1)) rows.set(b.sha1, b);
    const ordered = [...rows.keys()].sort().map((k) => rows.get(k)!);
    try {
      // A lock conflict (deadlock, serialisation failure) anywhere runs the transaction again:
      // \`withItem\` does database work only, and the file, once visible, is not committed
      // twice. A visible file without its row is younger than the orphan sweep's grace.
      const result = await retryConflicts(() =>
        this.database.db.transaction().execute(async (trx) => {
          const now = this.clock.now();
          for (const b of ordered) await lockBinary(trx, b, now);
          if (!visible) await staged.commit();
          visible = true;
          return withItem(trx);
        }),
      );
      if (staged.md5 === MD5_PENDING) this.md5Backfill.enqueue(staged.sha1);
      return result;
    } catch (err) {
      // When no binaries row holds the file (it was new), the next GC walks the store for it.
      if (visible) await new OrphanSweep(this.database, this.provider).requestIfOrphan(staged.sha1).catch(() => undefined);
      throw err;
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
    // \`withItem\` does database work only: a lock conflict anywhere runs it all again.
    return retryConflicts(() =>
      this.database.db.transaction().execute(async (trx) => {
        await lockBinary(trx, binary, this.clock.now());
        if (!(await this.provider.exists(binary.sha1))) {
          throw new ArcaError('CHECKSUM_DEPLOY_FAILED', `Checksum deploy failed. No existing file with sha1: ${binary.sha1}`);
        }
        return withItem(trx);
      }),
    );
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
   * Deletes binaries that no item references and that are older than `graceMs`, then, when a
   * full sweep is due, files that have no binaries row at all (left by a crash or a failed
   * transaction between rename and commit). Stops between batches when `signal` aborts; what
   * it did so far stays done. Candidates come from the maintained reference counts (see
   * `foldReferenceLog`), so the cost follows the garbage and the changes since the last run.
   */
  async collectGarbage(graceMs: number, signal?: AbortSignal): Promise<GcResult> {
    const result: GcResult = { binariesRemoved: 0, bytesRemoved: 0, orphanFilesRemoved: 0, tempFilesRemoved: 0 };
    const now = this.clock.now();
    const before = now - graceMs;
    await foldReferenceLog(this.database.db);
    let after: { created: number; sha1: string } | undefined;
    for (;;) {
      signal?.throwIfAborted();
      const candidates = await garbageCandidates(this.database.db, before, GC_BATCH, after);
      if (candidates.length === 0) break;
      const last = candidates[candidates.length - 1];
      after = { created: Number(last.created), sha1: last.sha1 };
      const { removed, skipped } = await this.removeUnreferenced(candidates.map((c) => c.sha1), before, false);
      // Binaries another transaction held (an upload, the MD5 backfill): one at a time, waiting
      // for the lock while holding no other.
      for (const sha1 of skipped) removed.push(...(await this.removeUnreferenced([sha1], before, true)).removed);
      for (const g of removed) {
        result.binariesRemoved++;
        result.bytesRemoved += Number(g.size);
        this.cache.delete(g.sha1);
      }
    }
    const sweeps = new OrphanSweep(this.database, this.provider);
    if (await sweeps.due(now)) result.orphanFilesRemoved = await sweeps.run(now, before, graceMs, this.orphanSweepIntervalMs, signal);
    const cleaner = (this.provider as { cleanTemp?: (ms: number) => Promise<number> }).cleanTemp;
    if (cleaner) result.tempFilesRemoved = await cleaner.call(this.provider, Math.max(graceMs, 60_000));
    return result;
  }

  /**
   * One transaction for a batch of candidates: locks their rows (a batch skips those another
   * transaction holds and returns them; `wait` for one), re-checks under the locks that nothing references them (an upload or
   * checksum deploy holds the row lock until its item commits, so it is skipped here, or
   * counted, or comes after), then deletes the rows and the files. Returns what it removed.
   */
  private async removeUnreferenced(sha1s: string[], before: number, wait: boolean): Promise<{ removed: { sha1: string; size: number }[]; skipped: string[] }> {
    const dialect = this.database.dialect;
    const sorted = [...sha1s].sort();
    return retryConflicts(async () => {
      let tx = this.database.db.transaction();
      if (dialect === 'mysql') tx = tx.setIsolationLevel('read committed');
      return tx.execute(async (trx) => {
        // A batch skips rows another transaction holds (an upload about to reference one):
        // GC never waits for a row lock while it holds others, so it closes no lock cycle
        // with a transaction that locks several binaries. SQLite: the transaction holds the
        // database's write lock already.
        let q = trx.selectFrom('binaries').select(['sha1', 'size', 'created']).where('sha1', 'in', sorted).orderBy('sha1');
        if (dialect !== 'sqlite') q = wait ? q.forUpdate() : q.forUpdate().skipLocked();
        const rows = await q.execute();
        const got = new Set(rows.map((r) => r.sha1));
        const skipped = wait ? [] : sorted.filter((s) => !got.has(s));
        const counts = await exactReferenceCounts(trx, rows.map((r) => r.sha1));
        const garbage = rows.filter((r) => Number(r.size) >= 0 && Number(r.created) < before && counts.get(r.sha1) === 0);
        if (garbage.length > 0) {
          await trx.deleteFrom('binaries').where('sha1', 'in', garbage.map((g) => g.sha1)).execute();
          for (const g of garbage) await this.provider.delete(g.sha1);
        }
        return { removed: garbage.map((g) => ({ sha1: g.sha1, size: Number(g.size) })), skipped };
      });
    });
  }
}

/** Candidates locked and removed per transaction. */
const GC_BATCH = 200;
