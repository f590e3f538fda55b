import { createHash } from 'node:crypto';
import { CompiledQuery, sql } from 'kysely';
import { pathKey } from '../../db/items.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../../../test/helpers/databases.js';
import { archiveEntryCondition } from './archive-criteria.js';
import type { Criterion } from './parse.js';

/**
 * AQL `archive.entry.*` criteria are served by the indexes of migration 0018 and then
 * items_sha1, on every dialect: an entry name (equal, a prefix, a suffix through the reversed
 * name), an entry path, both. 5,000 items on as many binaries, 20 entries for each of 1,000
 * of them (statistics gathered); the CLI's queries on a bigger PostgreSQL are in
 * test/http/query-plans.test.ts.
 */
const ITEMS = 5000;
const ARCHIVES = 1000;
const hex = (s: string) => createHash('sha1').update(s).digest('hex');
const field = (f: string, op: '$eq' | '$match', value: string): Criterion => ({ kind: 'field', field: f, op, value }) as Criterion;
const CASES: Record<string, Criterion[]> = {
  'a name': [field('archive.entry.name', '$eq', 'C40.class')],
  'a name prefix': [field('archive.entry.name', '$match', 'C1234*')],
  'a name suffix': [field('archive.entry.name', '$match', '*.special')],
  'a path': [field('archive.entry.path', '$eq', 'com/rare')],
  'a path and a name': [field('archive.entry.path', '$match', 'org/p4*'), field('archive.entry.name', '$eq', 'C40.class')],
};

describe.each(DIALECTS)('archive entry criteria on %s', (dialect) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase(dialect);
    const db = t.database.db;
    const items = Array.from({ length: ITEMS }, (_, i) => ({
      path_key: pathKey('r', `f${i % 50}/file-${i}.jar`),
      repo: 'r',
      path: `f${i % 50}`,
      name: `file-${i}.jar`,
      type: 'file' as const,
      sha1: hex(String(i)),
      size: 1,
      created: 1,
      created_by: 'fill',
      modified: 1,
      modified_by: 'fill',
      updated: 1,
    }));
    for (let i = 0; i < items.length; i += 500) await db.insertInto('items').values(items.slice(i, i + 500)).execute();
    const entries = Array.from({ length: ARCHIVES * 20 }, (_, k) => {
      const name = k === 777 ? 'Rare.special' : `C${k}.${k % 20 === 0 ? 'class' : 'txt'}`;
      return { sha1: hex(String(Math.floor(k / 20))), entry_path: k === 777 ? 'com/rare' : `org/p${k % 100}`, entry_name: name, name_rev: [...name].reverse().join('') };
    });
    for (let i = 0; i < entries.length; i += 1000) await db.insertInto('archive_entries').values(entries.slice(i, i + 1000)).execute();
    if (dialect === 'mysql') await sql`analyze table items, archive_entries`.execute(db);
    else await sql`analyze`.execute(db);
  }, 120_000);
  afterAll(() => t?.drop());

  it('read the entry indexes and items_sha1, never a whole table', async () => {
    await t.database.db.connection().execute(async (conn) => {
      for (const [what, criteria] of Object.entries(CASES)) {
        const c = sql`select items.id from items where ${archiveEntryCondition(dialect, criteria)}`.compile(t.database.db);
        const prefix = dialect === 'sqlite' ? 'explain query plan' : 'explain';
        const rows = (await conn.executeQuery<Record<string, unknown>>(CompiledQuery.raw(`${prefix} ${c.sql}`, [...c.parameters]))).rows;
        if (process.env.ARCA_TEST_PRINT_PLANS) console.log(what, JSON.stringify(rows));
        if (dialect === 'mysql') {
          // ALL is a table scan, index a whole index read.
          for (const r of rows) expect(`${r.table}: ${r.type} ${r.key}`, what).not.toMatch(/^(items|archive_entries): (ALL|index) /);
          continue;
        }
        const plan = rows.map((r) => String(r.detail ?? r['QUERY PLAN'])).join('\n');
        expect(plan, what).toMatch(/archive_entries_(name|rev|path)/);
        expect(plan, what).not.toMatch(/Seq Scan|SCAN items(?! USING)|SCAN archive_entries(?! USING)/);
      }
    });
  });
});
