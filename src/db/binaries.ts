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
 * fold. Each log row is applied once even when two folds run together: it is deleted (and so
 * locked) in the transaction that applies it.
 */
export async function foldReferenceLog(db: Kysely<Schema>, batch = 2000): Promise<number> {
  const dialect = dialectOf(db);
  let folded = 0;
  for (;;) {
    let tx = db.transaction();
    // MySQL: no gap locks, so writers appending to the log never wait for a fold.
    if (dialect === 'mysql') tx = tx.setIsolationLevel('read committed');
    const n = await tx.execute(async (trx) => {
      let rows: { sha1: string; delta: number }[];
      if (dialect === 'mysql') {
        const picked = await trx.selectFrom('binary_ref_log').select(['id', 'sha1', 'delta']).orderBy('id').limit(batch).forUpdate().execute();
        if (picked.length > 0) await trx.deleteFrom('binary_ref_log').where('id', 'in', picked.map((r) => r.id)).execute();
        rows = picked;
      } else {
        rows = await trx
          .deleteFrom('binary_ref_log')
          .where('id', 'in', (eb) => eb.selectFrom('binary_ref_log').select('id').orderBy('id').limit(batch))
          .returning(['sha1', 'delta'])
          .execute();
      }
      const bySha1 = new Map<string, number>();
      for (const r of rows) bySha1.set(r.sha1, (bySha1.get(r.sha1) ?? 0) + Number(r.delta));
      // One statement per distinct delta (almost always +1 and -1), rows locked in sha1 order.
      const byDelta = new Map<number, string[]>();
      for (const [sha1, d] of [...bySha1].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        if (d === 0) continue;
        const list = byDelta.get(d);
        if (list) list.push(sha1);
        else byDelta.set(d, [sha1]);
      }
      for (const [d, sha1s] of byDelta) {
        for (let i = 0; i < sha1s.length; i += 500) {
          await trx
            .updateTable('binaries')
            .set((eb) => ({ ref_count: eb('ref_count', '+', d) }))
            .where('sha1', 'in', sha1s.slice(i, i + 500))
            .execute();
        }
      }
      return rows.length;
    });
    folded += n;
    if (n < batch) return folded;
  }
}

/**
 * Count and bytes of the stored binaries, from the 16 counter rows the triggers on `binaries`
 * keep (migration 0009): the same answer as `count(*)`/`sum(size)` at a cost independent of
 * the store.
 */
export async function binaryTotals(db: Db): Promise<{ count: number; bytes: number }> {
  const row = await db
    .selectFrom('binary_totals')
    .select((eb) => [eb.fn.sum<number>('binary_count').as('count'), eb.fn.sum<number>('byte_count').as('bytes')])
    .executeTakeFirst();
  return { count: Number(row?.count ?? 0), bytes: Number(row?.bytes ?? 0) };
}
