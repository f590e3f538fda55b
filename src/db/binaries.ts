import type { BinaryRow, Db } from './items.js';
import { sql, type Kysely } from 'kysely';
import { dialectOf, orUpdate } from './dialect.js';
import type { Schema } from './schema.js';

/**
 * The binaries row is the mutex for its file: a transaction that will reference a binary
 * upserts (and so locks) its row first, and garbage collection deletes a file only while it
 * holds the same row. SQLite serialises write transactions as a whole (BEGIN IMMEDIATE).
 */
export async function lockBinary(db: Db, b: { sha1: string; sha256: string; md5: string; size: number }, now: number): Promise<void> {
  // A no-op update of the key: it takes the row lock on every dialect.
  await orUpdate(
    db,
    db.insertInto('binaries').values({ sha1: b.sha1, sha256: b.sha256, md5: b.md5, size: b.size, created: now }),
    'sha1',
    { sha1: (eb) => eb.ref('binaries.sha1') },
  ).execute();
}

export async function findBinary(db: Db, by: { sha1?: string; sha256?: string; md5?: string }): Promise<BinaryRow | undefined> {
  let q = db.selectFrom('binaries').selectAll().where('size', '>=', 0);
  if (by.sha256) q = q.where('sha256', '=', by.sha256);
  else if (by.sha1) q = q.where('sha1', '=', by.sha1);
  else if (by.md5) q = q.where('md5', '=', by.md5);
  else return undefined;
  return q.executeTakeFirst();
}

/**
 * Garbage-collection candidates: binaries older than `before` whose folded reference count is
 * zero, in (created, sha1) order after `after`. Read through the `binaries_garbage` index, so
 * the cost follows the garbage, not the store. Fold the log first (`foldReferenceLog`); the
 * log rows written since are counted by `exactReferenceCounts` under the row lock.
 */
export async function garbageCandidates(
  db: Db,
  before: number,
  limit: number,
  after?: { created: number; sha1: string },
): Promise<Pick<BinaryRow, 'sha1' | 'size' | 'created'>[]> {
  return garbageCandidatesQuery(db, before, limit, after).execute();
}

/** The query of `garbageCandidates` (its plan is checked in the tests). */
export function garbageCandidatesQuery(db: Db, before: number, limit: number, after?: { created: number; sha1: string }) {
  let q = db.selectFrom('binaries').select(['sha1', 'size', 'created']).where('ref_count', '=', 0).where('created', '<', before);
  if (after) q = q.where(sql<boolean>`(created, sha1) > (${after.created}, ${after.sha1})`);
  return q.orderBy('ref_count').orderBy('created').orderBy('sha1').limit(limit);
}

/**
 * How many items reference each binary right now: its folded `ref_count` plus its rows in the
 * log. Binaries with no row are left out. Callers that act on the answer hold the rows' locks.
 */
export async function exactReferenceCounts(db: Db, sha1s: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (sha1s.length === 0) return out;
  const rows = await db.selectFrom('binaries').select(['sha1', 'ref_count']).where('sha1', 'in', sha1s).execute();
  for (const r of rows) out.set(r.sha1, Number(r.ref_count));
  const pending = await db
    .selectFrom('binary_ref_log')
    .select((eb) => ['sha1', eb.fn.sum<number>('delta').as('delta')])
    .where('sha1', 'in', sha1s)
    .groupBy('sha1')
    .execute();
  for (const p of pending) if (out.has(p.sha1)) out.set(p.sha1, out.get(p.sha1)! + Number(p.delta));
  return out;
}

/**
 * Folds the reference log into `binaries.ref_count`, `batch` log rows per transaction, until the
 * log is empty; returns how many rows it folded. The cost follows the changes since the last
 * fold. Each log row is applied once even when two folds run together: it is locked, applied
 * and deleted in one transaction, and a fold skips rows another holds.
 */
export async function foldReferenceLog(db: Kysely<Schema>, batch = 2000): Promise<number> {
  const dialect = dialectOf(db);
  let tx = db.transaction();
  // MySQL: no gap locks, so writers appending to the log never wait for a fold.
  if (dialect === 'mysql') tx = tx.setIsolationLevel('read committed');
  let folded = 0;
  let after = 0;
  for (;;) {
    const r = await tx.execute((trx) => foldRows(trx, dialect, { after, batch }));
    folded += r.applied;
    // Binaries another transaction held: one at a time, waiting for the lock while holding no
    // other binaries row (so still no lock cycle).
    for (const sha1 of r.skipped) folded += (await tx.execute((trx) => foldRows(trx, dialect, { sha1, upTo: r.last }))).applied;
    after = r.last;
    if (r.picked < batch) {
      await vacuumAfterFold(db, 'binary_ref_log', folded);
      // The fold updated about as many binaries rows: their old versions (most at ref_count 0,
      // a new binary's count before its first fold) stay in binaries_garbage's range at 0 until
      // a vacuum, and every GC's candidate scan walks past them (at a million binaries after a
      // bulk load, 6,800 pages and 180 ms for a GC of 50 files).
      await vacuumAfterFold(db, 'binaries', folded);
      return folded;
    }
  }
}

/** Rows folded at once past which PostgreSQL's table is vacuumed right away. */
const VACUUM_AFTER_ROWS = 10_000;
/** How long the rewrite of `binary_totals` may wait for its lock (writers of binaries wait behind it meanwhile). */
const COMPACT_LOCK_TIMEOUT_MS = 200;

/**
 * After a large fold (a bulk import, a first GC) PostgreSQL keeps the deleted rows as dead
 * tuples until autovacuum comes round, and every read of the table walks past them meanwhile
 * (at a million, a scrape's sum took 40 ms instead of 1). A fold that large vacuums the table
 * itself. InnoDB purges in the background; SQLite reuses the pages.
 *
 * `binary_totals` is rewritten instead (`VACUUM FULL`): its one folded row was inserted after
 * the deleted ones, at the end of the heap, so a plain vacuum cannot give the empty pages back
 * and the scrape's sequential scan kept reading them all (3,186 pages after a load of a million,
 * 2.3 ms against 1 ms per scrape). The table holds at most a few dozen live rows, so the rewrite
 * takes milliseconds; it waits at most COMPACT_LOCK_TIMEOUT_MS for its lock, else falls back to
 * a plain vacuum and the next large fold tries again.
 */
async function vacuumAfterFold(db: Kysely<Schema>, table: 'binary_ref_log' | 'binary_totals' | 'binaries', folded: number): Promise<void> {
  if (folded < VACUUM_AFTER_ROWS || dialectOf(db) !== 'postgresql') return;
  if (table === 'binary_totals') {
    const rewritten = await db
      .connection()
      .execute(async (c) => {
        await sql.raw(`set lock_timeout = ${COMPACT_LOCK_TIMEOUT_MS}`).execute(c);
        try {
          await sql`vacuum full binary_totals`.execute(c);
          return true;
        } finally {
          await sql`reset lock_timeout`.execute(c);
        }
      })
      .catch(() => false);
    if (rewritten) return;
  }
  await sql`vacuum ${sql.table(table)}`.execute(db).catch(() => undefined);
}

type FoldScope = { after: number; batch: number } | { sha1: string; upTo: number };

/**
 * Applies a batch of log rows (skipping rows another fold holds) to the binaries whose rows it
 * can lock: without waiting for a batch, waiting for one binary. Returns what it applied, the
 * last log id it saw, and the binaries it left because another transaction held them.
 */
async function foldRows(trx: Db, dialect: string, scope: FoldScope): Promise<{ applied: number; last: number; picked: number; skipped: string[] }> {
  // One binary: its row first, waiting for it while holding nothing else.
  if ('sha1' in scope && dialect !== 'sqlite') await trx.selectFrom('binaries').select('sha1').where('sha1', '=', scope.sha1).forUpdate().execute();
  let q = trx.selectFrom('binary_ref_log').select(['id', 'sha1', 'delta']);
  q = 'sha1' in scope ? q.where('sha1', '=', scope.sha1).where('id', '<=', scope.upTo) : q.where('id', '>', scope.after).orderBy('id').limit(scope.batch);
  if (dialect !== 'sqlite') q = q.forUpdate().skipLocked();
  const picked = await q.execute();
  const last = 'sha1' in scope ? scope.upTo : Number(picked[picked.length - 1]?.id ?? scope.after);
  if (picked.length === 0) return { applied: 0, last, picked: 0, skipped: [] };
  const bySha1 = new Map<string, number>();
  for (const r of picked) bySha1.set(r.sha1, (bySha1.get(r.sha1) ?? 0) + Number(r.delta));
  const sha1s = [...bySha1.keys()].sort();
  const locked = new Set<string>();
  const absent = new Set(sha1s);
  for (let i = 0; i < sha1s.length; i += 500) {
    const chunk = sha1s.slice(i, i + 500);
    for (const r of await trx.selectFrom('binaries').select('sha1').where('sha1', 'in', chunk).execute()) absent.delete(r.sha1);
    let lq = trx.selectFrom('binaries').select('sha1').where('sha1', 'in', chunk).orderBy('sha1');
    if (dialect !== 'sqlite') lq = 'sha1' in scope ? lq.forUpdate() : lq.forUpdate().skipLocked();
    for (const r of await lq.execute()) locked.add(r.sha1);
  }
  // One statement per distinct delta (almost always +1 and -1).
  const byDelta = new Map<number, string[]>();
  for (const sha1 of locked) {
    const d = bySha1.get(sha1)!;
    if (d === 0) continue;
    const list = byDelta.get(d);
    if (list) list.push(sha1);
    else byDelta.set(d, [sha1]);
  }
  for (const [d, list] of byDelta) {
    for (let i = 0; i < list.length; i += 500) {
      await trx.updateTable('binaries').set((eb) => ({ ref_count: eb('ref_count', '+', d) })).where('sha1', 'in', list.slice(i, i + 500)).execute();
    }
  }
  // A log row of a binary with no row left (GC removed it at a net count of 0) goes too.
  const applied = picked.filter((r) => locked.has(r.sha1) || absent.has(r.sha1)).map((r) => r.id);
  for (let i = 0; i < applied.length; i += 500) await trx.deleteFrom('binary_ref_log').where('id', 'in', applied.slice(i, i + 500)).execute();
  return { applied: applied.length, last, picked: picked.length, skipped: sha1s.filter((x) => !locked.has(x) && !absent.has(x)) };
}

/** Rows of `binary_totals` above which a read folds them into one. */
const TOTALS_FOLD_AT = 64;

/**
 * Count and bytes of the stored binaries: the sum of the change rows the triggers on
 * `binaries` append (migration 0009), the same answer as `count(*)`/`sum(size)` at a cost that
 * follows the changes since the last fold, not the store. Folds them when they pile up.
 */
export async function binaryTotals(db: Kysely<Schema>): Promise<{ count: number; bytes: number }> {
  const row = await db
    .selectFrom('binary_totals')
    .select((eb) => [eb.fn.countAll<number>().as('rows'), eb.fn.sum<number>('binary_count').as('count'), eb.fn.sum<number>('byte_count').as('bytes')])
    .executeTakeFirst();
  if (Number(row?.rows ?? 0) > TOTALS_FOLD_AT) await foldTotals(db).catch(() => undefined);
  return { count: Number(row?.count ?? 0), bytes: Number(row?.bytes ?? 0) };
}

/**
 * Replaces the change rows this transaction can see by their sum, in one row. Rows of
 * transactions not yet committed stay as they are; each row is summed by the transaction
 * that deletes it, so two folds at once count every row once.
 */
export async function foldTotals(db: Kysely<Schema>): Promise<void> {
  const dialect = dialectOf(db);
  let tx = db.transaction();
  if (dialect === 'mysql') tx = tx.setIsolationLevel('read committed');
  let folded = 0;
  await tx.execute(async (trx) => {
    let rows: { binary_count: number; byte_count: number }[];
    if (dialect === 'mysql') {
      const picked = await trx.selectFrom('binary_totals').select(['id', 'binary_count', 'byte_count']).forUpdate().execute();
      for (let i = 0; i < picked.length; i += 500) await trx.deleteFrom('binary_totals').where('id', 'in', picked.slice(i, i + 500).map((r) => r.id)).execute();
      rows = picked;
    } else {
      rows = await trx.deleteFrom('binary_totals').returning(['binary_count', 'byte_count']).execute();
    }
    if (rows.length === 0) return;
    let count = 0;
    let bytes = 0;
    for (const r of rows) {
      count += Number(r.binary_count);
      bytes += Number(r.byte_count);
    }
    await trx.insertInto('binary_totals').values({ binary_count: count, byte_count: bytes }).execute();
    folded = rows.length;
  });
  await vacuumAfterFold(db, 'binary_totals', folded);
}
