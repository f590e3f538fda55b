import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from './testing/databases.js';
import { binaryTotals } from './binaries.js';

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

describe('a large fold vacuums its table on PostgreSQL', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase('postgresql');
  });
  afterAll(async () => t?.drop());

  it('leaves a small fold to autovacuum, and vacuums binary_totals after folding more than 10,000 rows', async () => {
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
    expect(await lastVacuum(t, 'binary_totals')).not.toBeNull();
    // Folded into one row, and the sums stay exact.
    const rows = await db.selectFrom('binary_totals').select('id').execute();
    expect(rows.length).toBe(1);
    expect(await binaryTotals(db)).toEqual({ count: 12_100, bytes: 24_200 });
  });
});
