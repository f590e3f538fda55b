import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from './testing/databases.js';
import { binaryTotals, foldReferenceLog, garbageCandidatesQuery } from './binaries.js';

/** The time PostgreSQL last vacuumed `table` by hand (its statistics arrive a moment later). */
async function lastVacuum(t: TestDatabase, table: string): Promise<Date | null> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const { rows } = await sql<{ last_vacuum: Date | null }>`select last_vacuum from pg_stat_user_tables where relname = ${table}`.execute(t.database.db);
    const at = rows[0]?.last_vacuum ?? null;
    if (at !== null || Date.now() > deadline) return at;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Shared buffers one statement touched (EXPLAIN ANALYZE, BUFFERS), with the index path forced. */
async function buffersRead(t: TestDatabase, query: ReturnType<typeof sql.raw>): Promise<number> {
  return t.database.db.connection().execute(async (c) => {
    await sql`set enable_seqscan = off`.execute(c);
    try {
      const { rows } = await sql<{ 'QUERY PLAN': unknown }>`explain (analyze, buffers, format json) ${query}`.execute(c);
      const plan = (rows[0]['QUERY PLAN'] as { Plan: Record<string, number> }[])[0].Plan;
      return (plan['Shared Hit Blocks'] ?? 0) + (plan['Shared Read Blocks'] ?? 0);
    } finally {
      await sql`reset enable_seqscan`.execute(c);
    }
  });
}

describe('a large fold vacuums its table on PostgreSQL', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase('postgresql');
    // Autovacuum of these tables would hold the lock the rewrite waits at most 200 ms for (a
    // loaded machine's autovacuum of 12,000 rows takes longer), and the fold falls back to a
    // plain vacuum then, by design; here the rewrite itself is under test.
    for (const table of ['binary_totals', 'binaries', 'binary_ref_log']) await sql`alter table ${sql.table(table)} set (autovacuum_enabled = false)`.execute(t.database.db);
  });
  afterAll(async () => t?.drop());

  it('leaves a small fold to autovacuum, and rewrites binary_totals after folding more than 10,000 rows', async () => {
    const db = t.database.db;
    const insert = async (n: number) => {
      for (let i = 0; i < n; i += 1000) {
        await db.insertInto('binary_totals').values(Array.from({ length: Math.min(1000, n - i) }, () => ({ binary_count: 1, byte_count: 2 }))).execute();
      }
    };
    await insert(100);
    expect(await binaryTotals(db)).toEqual({ count: 100, bytes: 200 });
    expect(await lastVacuum(t, 'binary_totals')).toBeNull();
    await insert(12_000);
    expect(await binaryTotals(db)).toEqual({ count: 12_100, bytes: 24_200 });
    // Rewritten (VACUUM FULL, which pg_stat does not record as a vacuum): one page left of about 65.
    const size = await sql<{ n: number }>`select pg_relation_size('binary_totals') as n`.execute(db);
    expect(Number(size.rows[0].n)).toBeLessThanOrEqual(8192);
    // Folded into one row, and the sums stay exact.
    const rows = await db.selectFrom('binary_totals').select('id').execute();
    expect(rows.length).toBe(1);
    expect(await binaryTotals(db)).toEqual({ count: 12_100, bytes: 24_200 });
    // Rewritten, not only vacuumed: the folded row came after the deleted ones, and a plain
    // vacuum leaves every page up to it for the scrape's sequential scan to read.
    expect(await buffersRead(t, sql`select count(*), sum(binary_count), sum(byte_count) from binary_totals`)).toBeLessThanOrEqual(2);
  });

  it('vacuums binaries after folding more than 10,000 reference changes, so GC\'s candidate scan does not walk their old versions', async () => {
    const db = t.database.db;
    const sha1s = Array.from({ length: 12_000 }, (_, i) => i.toString(16).padStart(40, '0'));
    for (let i = 0; i < sha1s.length; i += 1000) {
      const chunk = sha1s.slice(i, i + 1000);
      await db.insertInto('binaries').values(chunk.map((sha1) => ({ sha1, sha256: sha1.padEnd(64, '0'), md5: sha1.slice(0, 32), size: 1, created: 1 }))).execute();
      await db.insertInto('binary_ref_log').values(chunk.map((sha1) => ({ sha1, delta: 1 }))).execute();
    }
    expect(await foldReferenceLog(db)).toBe(12_000);
    expect(await lastVacuum(t, 'binaries')).not.toBeNull();
    expect(await db.selectFrom('binaries').select('sha1').where('ref_count', '=', 1).execute()).toHaveLength(12_000);
    // The 12,000 versions at ref_count 0 the fold left behind are gone from binaries_garbage:
    // the scan for garbage reads a few index pages, not one per ~100 old versions.
    const q = garbageCandidatesQuery(db, Date.now(), 500).compile();
    expect(await buffersRead(t, sql.raw(q.sql.replace(/\$(\d+)/g, (_m, n: string) => String(q.parameters[Number(n) - 1]))))).toBeLessThan(10);
  });
});
