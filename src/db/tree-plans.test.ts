import { CompiledQuery, sql, type Compilable } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../test/helpers/databases.js';
import { belowQuery, childrenQuery } from './tree.js';

/**
 * The listing and folder-delete queries are served by the items_tree index, in its order: no
 * scan of the items table and no sort, forward and backward, first page and resumed. The
 * tables are nearly empty, so the planner is asked what it can do with the index (sequential
 * scans priced out on PostgreSQL): a query the index cannot serve still plans a scan or a sort.
 */

const cursor = { path: 'a/b/c', name: 'x', id: 7 };
const queries = (db: TestDatabase['database']['db']) => ({
  'children, first page': childrenQuery(db, 'r', 'a/b', undefined, 500),
  'children, resumed': childrenQuery(db, 'r', 'a/b', cursor, 500),
  'children, backwards (delete)': childrenQuery(db, 'r', 'a/b', cursor, 500, true),
  'below a folder, first page': belowQuery(db, 'r', 'a/b', undefined, 500),
  'below a folder, resumed': belowQuery(db, 'r', 'a/b', cursor, 500),
  'below a folder, backwards (delete)': belowQuery(db, 'r', 'a/b', cursor, 500, true),
  'below the root, resumed': belowQuery(db, 'r', '', cursor, 500),
});

describe('tree queries on PostgreSQL', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase('postgresql');
  });
  afterAll(() => t?.drop());

  it('walk the items_tree index: no sequential scan, no sort', async () => {
    await t.database.db.connection().execute(async (conn) => {
      await sql`set enable_seqscan = off`.execute(conn);
      for (const [what, q] of Object.entries(queries(t.database.db))) {
        const c = (q as Compilable).compile();
        const plan = (await conn.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${c.sql}`, [...c.parameters]))).rows.map((r) => r['QUERY PLAN']).join('\n');
        expect(plan, what).toContain('items_tree');
        expect(plan, what).not.toMatch(/Seq Scan|Sort/);
      }
    });
  });
});

describe('tree queries on SQLite', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase('sqlite');
  });
  afterAll(() => t?.drop());

  it('walk the items_tree index: no scan, no temporary b-tree for the order', async () => {
    for (const [what, q] of Object.entries(queries(t.database.db))) {
      const c = (q as Compilable).compile();
      const plan = (await t.database.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${c.sql}`, [...c.parameters]))).rows.map((r) => r.detail).join('\n');
      expect(plan, what).toContain('items_tree');
      expect(plan, what).not.toMatch(/TEMP B-TREE|SCAN items(?! USING)/);
    }
  });
});
