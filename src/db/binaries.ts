import type { BinaryRow, Db } from './items.js';
import { orUpdate } from './dialect.js';

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

/** Binaries older than `before` that no item references: garbage-collection candidates. */
export async function unreferencedBinaries(db: Db, before: number, limit: number): Promise<BinaryRow[]> {
  return db
    .selectFrom('binaries as b')
    .selectAll()
    .where('b.created', '<', before)
    .where('b.size', '>=', 0)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('items as i').select('i.id').whereRef('i.sha1', '=', 'b.sha1'))),
    )
    .limit(limit)
    .execute();
}

export async function isReferenced(db: Db, sha1: string): Promise<boolean> {
  const row = await db.selectFrom('items').select('id').where('sha1', '=', sha1).limit(1).executeTakeFirst();
  return row !== undefined;
}

export async function binaryTotals(db: Db): Promise<{ count: number; bytes: number }> {
  const row = await db
    .selectFrom('binaries')
    .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.sum<number>('size').as('bytes')])
    .where('size', '>=', 0)
    .executeTakeFirst();
  return { count: Number(row?.count ?? 0), bytes: Number(row?.bytes ?? 0) };
}
