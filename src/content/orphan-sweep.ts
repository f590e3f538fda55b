import type { BinaryProvider } from '../binstore/binary-provider.js';
import type { Database } from '../db/database.js';
import { retryConflicts } from '../db/conflicts.js';
import { orIgnore } from '../db/dialect.js';

const NEXT = 'next_orphan_sweep';
/** Files looked up in the database per query. */
const LOOKUP_BATCH = 500;

/**
 * The walk over every stored file for files that have no binaries row (a crash, or a failed
 * transaction, between a file's rename and its commit). Its cost follows the store, so GC runs
 * it only when due: at the first GC, then every `arca.gc.orphanSweepIntervalSecs`, and sooner
 * when a commit failed after making its file visible or a walk saw a young file with no row.
 * When it is next due is kept in the database (`gc_state`), shared by every node.
 */
export class OrphanSweep {
  constructor(
    private readonly database: Database,
    private readonly provider: BinaryProvider,
  ) {}

  async due(now: number): Promise<boolean> {
    const row = await this.database.db.selectFrom('gc_state').select('value').where('name', '=', NEXT).executeTakeFirst();
    return row === undefined || Number(row.value) <= now;
  }

  /** Makes the walk due at the next GC when the file of `sha1` has no binaries row. */
  async requestIfOrphan(sha1: string): Promise<void> {
    const db = this.database.db;
    if (await db.selectFrom('binaries').select('sha1').where('sha1', '=', sha1).executeTakeFirst()) return;
    await db.updateTable('gc_state').set({ value: 0 }).where('name', '=', NEXT).execute();
  }

  /**
   * Walks the store, removes the files older than `before` that have no binaries row, and
   * schedules the next walk. Returns how many files it removed.
   */
  async run(now: number, before: number, graceMs: number, intervalMs: number, signal?: AbortSignal): Promise<number> {
    const db = this.database.db;
    let removed = 0;
    const young: { sha1: string; mtimeMs: number }[] = [];
    const unknown = async (sha1s: string[]): Promise<Set<string>> => {
      const known = new Set<string>();
      for (let i = 0; i < sha1s.length; i += LOOKUP_BATCH) {
        const rows = await db.selectFrom('binaries').select('sha1').where('sha1', 'in', sha1s.slice(i, i + LOOKUP_BATCH)).execute();
        for (const r of rows) known.add(r.sha1);
      }
      return new Set(sha1s.filter((s) => !known.has(s)));
    };
    const check = async (files: { sha1: string; mtimeMs: number }[]) => {
      const missing = await unknown(files.map((f) => f.sha1));
      for (const f of files) {
        if (!missing.has(f.sha1)) continue;
        signal?.throwIfAborted();
        if (f.mtimeMs > before) young.push(f);
        else if (await this.removeOrphan(f.sha1)) removed++;
      }
    };
    let batch: { sha1: string; mtimeMs: number }[] = [];
    for await (const file of this.provider.list()) {
      signal?.throwIfAborted();
      batch.push({ sha1: file.sha1, mtimeMs: file.mtimeMs });
      if (batch.length >= LOOKUP_BATCH) {
        await check(batch);
        batch = [];
      }
    }
    await check(batch);
    // A young file with no row is mostly an upload between its rename and its commit; the ones
    // still without a row now may be orphans, and the next walk comes once they are old enough.
    let next = Math.ceil(now + intervalMs);
    const stillMissing = await unknown(young.map((f) => f.sha1));
    for (const f of young) if (stillMissing.has(f.sha1)) next = Math.min(next, Math.ceil(f.mtimeMs + graceMs) + 1);
    await db.updateTable('gc_state').set({ value: next }).where('name', '=', NEXT).execute();
    return removed;
  }

  /**
   * A tombstone row holds the lock while the orphan file goes; uploads of the same binary wait
   * for it and then write a fresh copy. False when a row appeared meanwhile.
   */
  private async removeOrphan(sha1: string): Promise<boolean> {
    return retryConflicts(() =>
      this.database.db.transaction().execute(async (trx) => {
        const ins = await orIgnore(trx, trx.insertInto('binaries').values({ sha1, sha256: '', md5: '', size: -1, created: 0 }), 'sha1').executeTakeFirst();
        if (Number(ins.numInsertedOrUpdatedRows ?? 0) === 0) return false;
        await this.provider.delete(sha1);
        await trx.deleteFrom('binaries').where('sha1', '=', sha1).execute();
        return true;
      }),
    );
  }
}
