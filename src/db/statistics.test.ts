import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDatabase, type TestDatabase } from './testing/databases.js';

/**
 * After a bulk change (a backup import replaces every item) the planner should not wait for
 * autovacuum: refreshStatistics() brings the item tables' statistics up to date at once, on
 * every dialect.
 */

const ROWS = 2_000;

/** The row count the planner believes `items` has. */
async function plannerRows(t: TestDatabase): Promise<number> {
  const db = t.database.db;
  if (t.database.dialect === 'postgresql') {
    const r = await sql<{ n: number }>`select reltuples::bigint as n from pg_class where relname = 'items'`.execute(db);
    return Number(r.rows[0].n);
  }
  if (t.database.dialect === 'mysql') {
    const r = await sql<{ n: number }>`select n_rows as n from mysql.innodb_table_stats where database_name = database() and table_name = 'items'`.execute(db);
    return Number(r.rows[0]?.n ?? 0);
  }
  const r = await sql<{ stat: string }>`select stat from sqlite_stat1 where tbl = 'items' limit 1`.execute(db).catch(() => ({ rows: [] }));
  return Number(r.rows[0]?.stat.split(' ')[0] ?? 0);
}

describe.each(DIALECTS)('planner statistics on %s', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.drop();
    t = undefined;
  });

  it('are refreshed on demand after a bulk insert', async () => {
    t = await openTestDatabase(dialect);
    const rows = Array.from({ length: ROWS }, (_, i) => ({
      path_key: String(i).padStart(40, '0'), repo: 'r', path: `f${i % 40}`, name: `n${i}`, type: 'file' as const,
      size: 1, created: 1, created_by: 'u', modified: 1, modified_by: 'u', updated: 1,
    }));
    for (let i = 0; i < rows.length; i += 500) await t.database.db.insertInto('items').values(rows.slice(i, i + 500)).execute();
    await t.database.refreshStatistics!();
    const n = await plannerRows(t);
    expect(n).toBeGreaterThan(ROWS * 0.8);
    expect(n).toBeLessThan(ROWS * 1.2);
  });
});
