import { randomBytes } from 'node:crypto';
import { CompiledQuery, sql, type KyselyPlugin } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { ensureFolders, fullPathOf, pathKey, putFile } from './items.js';
import { migrate } from './migrate.js';
import { literalPrefix, prefixUpperBound, searchItems } from './search-queries.js';
import { DIALECTS, freshDatabaseConfig, openTestDatabase, type TestDatabase } from './testing/databases.js';
import { parsePostgresUrl } from '../config/db-config.js';

/**
 * Name search reads the folded name the database keeps (`items.name_lc`, migration 0012):
 * the same answers as before on every dialect, from every write path, and on a database that
 * held items before the column existed.
 */

const bin = { sha1: '1'.repeat(40), sha256: '2'.repeat(64), md5: '3'.repeat(32), size: 1 };

const NAMES = [
  'file-123.jar',
  'FILE-1234.JAR',
  'file-12.jar',
  'file-124.jar',
  'File-123-sources.jar',
  'xfile-123.jar',
  'Émile.txt',
  'émile.txt',
  'a%b_c.txt',
  'aXb_c.txt',
  'Br[a]ck.txt',
  '\u{10ffff}tail.txt',
  '\u{1f600}smile.txt',
  '\ufffdx.txt',
];

describe('prefix bounds', () => {
  it('takes the text before the first wildcard and the least string above its prefixes', () => {
    expect(literalPrefix('file-123*')).toBe('file-123');
    expect(literalPrefix('fi?e*')).toBe('fi');
    expect(literalPrefix('*x*')).toBe('');
    expect(literalPrefix('exact')).toBe('exact');
    expect(prefixUpperBound('file-123')).toBe('file-124');
    expect(prefixUpperBound('a\u{d7ff}')).toBe('a\u{e000}');
    expect(prefixUpperBound('a\u{1f600}')).toBe('a\u{1f601}');
    expect(prefixUpperBound('a\u{10ffff}')).toBe('b');
    expect(prefixUpperBound('\u{10ffff}')).toBeUndefined();
  });
});

describe.each(DIALECTS)('name search on %s', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.drop();
    t = undefined;
  });

  const found = async (db: TestDatabase, name: string) =>
    (await searchItems(db.database.db, dialect, { repos: ['r'], name, filesOnly: true, limit: 100 })).map(fullPathOf).sort();

  async function expectAnswers(db: TestDatabase) {
    expect(await found(db, 'file-123*')).toEqual(['d/FILE-1234.JAR', 'd/File-123-sources.jar', 'd/file-123.jar']);
    expect(await found(db, 'FILE-123.JAR')).toEqual(['d/file-123.jar']);
    expect(await found(db, 'file-12?.jar')).toEqual(['d/file-123.jar', 'd/file-124.jar']);
    expect(await found(db, '*123*')).toEqual(['d/FILE-1234.JAR', 'd/File-123-sources.jar', 'd/file-123.jar', 'd/xfile-123.jar']);
    expect(await found(db, 'émile*')).toEqual(['d/émile.txt']);
    expect(await found(db, 'a%b_c*')).toEqual(['d/a%b_c.txt']);
    expect(await found(db, 'bR[A]*')).toEqual(['d/Br[a]ck.txt']);
    expect(await found(db, '\u{10ffff}*')).toEqual(['d/\u{10ffff}tail.txt']);
    expect(await found(db, '\u{1f600}*')).toEqual(['d/\u{1f600}smile.txt']);
    expect(await found(db, '\ufffd*')).toEqual(['d/\ufffdx.txt']);
  }

  it('folds ASCII case only and keeps wildcards exact, on names written through the item store', async () => {
    t = await openTestDatabase(dialect);
    for (const name of NAMES) {
      await ensureFolders(t.database.db, 'r', `d/${name}`, 'u', 1);
      await putFile(t.database.db, { repo: 'r', fullPath: `d/${name}`, binary: bin, original: {}, mimeType: 'x', user: 'u', now: 1 });
    }
    const folded = await t.database.db.selectFrom('items').select(['name', 'name_lc']).where('name', '=', 'FILE-1234.JAR').executeTakeFirstOrThrow();
    expect(folded.name_lc).toBe('file-1234.jar');
    await expectAnswers(t);
  });

  it('matches a property value pattern by its prefix range, exactly and case-sensitively', async () => {
    t = await openTestDatabase(dialect);
    const values = ['abc', 'abc\tdef', 'abc def', 'abcd', 'ABCD', 'abd', 'ab', '\u{10ffff}x', 'a%c'];
    for (const [i, v] of values.entries()) {
      await ensureFolders(t.database.db, 'r', `p/${i}`, 'u', 1);
      const { row } = await putFile(t.database.db, { repo: 'r', fullPath: `p/${i}`, binary: bin, original: {}, mimeType: 'x', user: 'u', now: 1 });
      await t.database.db.insertInto('item_props').values({ item_id: row.id, prop_key: 'k', prop_value: v }).execute();
    }
    const byValue = async (...patterns: string[]) =>
      (await searchItems(t!.database.db, dialect, { repos: ['r'], properties: [{ key: 'k', values: patterns }], limit: 100 }))
        .map((r) => values[Number(r.name)])
        .sort();
    expect(await byValue('abc*')).toEqual(['abc', 'abc\tdef', 'abc def', 'abcd'].sort());
    expect(await byValue('abc?')).toEqual(['abcd']);
    expect(await byValue('ab?')).toEqual(['abc', 'abd']);
    expect(await byValue('\u{10ffff}*', 'a%*')).toEqual(['\u{10ffff}x', 'a%c'].sort());
  });

  // The plan on PostgreSQL: test/http/query-plans.test.ts.
  if (dialect === 'sqlite') it('reads an exact name and a prefix through the (repo, name_lc) index on SQLite', async () => {
    t = await openTestDatabase(dialect);
    const db = t.database.db;
    for (let i = 0; i < 2000; i += 500) {
      const rows = Array.from({ length: 500 }, (_, k) => ({
        path_key: pathKey('r', `d${(i + k) % 40}/f-${i + k}`), repo: 'r', path: `d${(i + k) % 40}`, name: `F-${i + k}.bin`, type: 'file' as const,
        size: 1, created: 1, created_by: 'u', modified: 1, modified_by: 'u', updated: 1,
      }));
      await db.insertInto('items').values(rows).execute();
    }
    await t.database.refreshStatistics!();
    const compiled: CompiledQuery[] = [];
    const recorder: KyselyPlugin = {
      transformQuery: (args) => (compiled.push(db.getExecutor().compileQuery(args.node, args.queryId)), args.node),
      transformResult: async (args) => args.result,
    };
    for (const name of ['f-123.BIN', 'f-12*']) {
      compiled.length = 0;
      await searchItems(db.withPlugin(recorder), dialect, { repos: ['r', 'x'], name, filesOnly: true, limit: 100 });
      const plan = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled[0].sql}`, [...compiled[0].parameters]));
      expect(plan.rows.map((r) => r.detail).join('; ')).toMatch(/SEARCH items USING INDEX items_repo_name_lc \(repo=\? AND name_lc/);
    }
  });

  if (dialect === 'sqlite') it('reads *x* through the trigram index of migration 0014 on SQLite, kept exact by its triggers', async () => {
    t = await openTestDatabase(dialect);
    const db = t.database.db;
    const rows = Array.from({ length: 2000 }, (_, k) => ({
      path_key: pathKey('r', `d${k % 40}/f-${k}`), repo: 'r', path: `d${k % 40}`, name: `F-${k}.bin`, type: 'file' as const,
      size: 1, created: 1, created_by: 'u', modified: 1, modified_by: 'u', updated: 1,
    }));
    for (let i = 0; i < rows.length; i += 500) await db.insertInto('items').values(rows.slice(i, i + 500)).execute();
    await t.database.refreshStatistics!();
    const names = async (name: string) => (await searchItems(db, dialect, { repos: ['r'], name, filesOnly: true, limit: 100 })).map((r) => r.name).sort();
    const compiled: CompiledQuery[] = [];
    const recorder: KyselyPlugin = {
      transformQuery: (args) => (compiled.push(db.getExecutor().compileQuery(args.node, args.queryId)), args.node),
      transformResult: async (args) => args.result,
    };
    await searchItems(db.withPlugin(recorder), dialect, { repos: ['r'], name: '*-123?.BIN', filesOnly: true, limit: 100 });
    const plan = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled[0].sql}`, [...compiled[0].parameters]));
    expect(plan.rows.map((r) => r.detail).join('; ')).toMatch(/items_name_fts VIRTUAL TABLE INDEX/);
    expect(await names('*-123?.BIN')).toEqual(['F-1230.bin', 'F-1231.bin', 'F-1232.bin', 'F-1233.bin', 'F-1234.bin', 'F-1235.bin', 'F-1236.bin', 'F-1237.bin', 'F-1238.bin', 'F-1239.bin']);
    // Deleted, renamed and added rows: the index follows.
    await db.deleteFrom('items').where('name', 'in', ['F-1230.bin', 'F-1231.bin']).execute();
    await db.updateTable('items').set({ name: 'G-1232.bin' }).where('name', '=', 'F-1232.bin').execute();
    await db.updateTable('items').set({ name: 'F-1235.zip' }).where('name', '=', 'F-1235.bin').execute();
    await db.insertInto('items').values({ ...rows[0], path_key: pathKey('r', 'new/x'), path: 'new', name: 'NEW-1239.BIN' }).execute();
    expect(await names('*-123?.bin')).toEqual(['F-1233.bin', 'F-1234.bin', 'F-1236.bin', 'F-1237.bin', 'F-1238.bin', 'F-1239.bin', 'G-1232.bin', 'NEW-1239.BIN']);
    expect(await names('*%*')).toEqual([]);
    expect(await names('*1235.z*')).toEqual(['F-1235.zip']);
  });

  it('fills the folded name of the items an existing database already holds when it migrates', async () => {
    const fresh = await freshDatabaseConfig(dialect);
    const database = await openDatabase(fresh.config);
    t = { ...fresh, database, drop: async () => (await database.close().catch(() => undefined), await fresh.drop()) };
    await migrate(database, { before: '0012-search-indexes' });
    const rows = NAMES.map((name) => ({
      path_key: pathKey('r', `d/${name}`), repo: 'r', path: 'd', name, type: 'file' as const, sha1: bin.sha1, sha256: bin.sha256, md5: bin.md5,
      size: 1, created: 1, created_by: 'u', modified: 1, modified_by: 'u', updated: 1,
    }));
    await database.db.insertInto('items').values(rows).execute();
    expect(await migrate(database)).toContain('0012-search-indexes');
    await expectAnswers(t);
  });
});

describe('name search on PostgreSQL without pg_trgm', () => {
  it('migrates without the trigram index when the extension cannot be created, and still searches', async () => {
    // A role that may create tables but not extensions (no CREATE on the database).
    const fresh = await freshDatabaseConfig('postgresql');
    const role = `arca_test_${randomBytes(5).toString('hex')}`;
    const password = randomBytes(9).toString('hex');
    const admin = new pg.Client({ connectionString: fresh.url });
    await admin.connect();
    const database = await (async () => {
      await admin.query(`create role ${role} login password '${password}'`);
      await admin.query(`grant create, usage on schema public to ${role}`);
      const p = fresh.config.pg!;
      return openDatabase({ ...fresh.config, pg: { ...parsePostgresUrl(fresh.url), user: role, password, host: p.host, port: p.port } });
    })();
    try {
      expect(await migrate(database)).toContain('0012-search-indexes');
      const indexes = (await admin.query(`select indexname from pg_indexes where tablename = 'items'`)).rows.map((r) => r.indexname);
      expect(indexes).toContain('items_repo_name_lc');
      expect(indexes).not.toContain('items_name_lc_trgm');
      expect((await admin.query(`select 1 from pg_extension where extname = 'pg_trgm'`)).rowCount).toBe(0);
      const t = { ...fresh, database } as TestDatabase;
      await ensureFolders(database.db, 'r', 'd/File-1.txt', 'u', 1);
      await putFile(database.db, { repo: 'r', fullPath: 'd/File-1.txt', binary: bin, original: {}, mimeType: 'x', user: 'u', now: 1 });
      const rows = await searchItems(t.database.db, 'postgresql', { repos: ['r'], name: '*ILE-1*', filesOnly: true, limit: 10 });
      expect(rows.map(fullPathOf)).toEqual(['d/File-1.txt']);
      expect((await sql<{ n: number }>`select count(*)::int as n from items`.execute(database.db)).rows[0].n).toBe(2);
    } finally {
      await database.close();
      await admin.end();
      await fresh.drop();
      const c = new pg.Client({ connectionString: fresh.url.replace(/\/[^/?]*(\?|$)/, '/postgres$1') });
      await c.connect();
      await c.query(`drop role if exists ${role}`);
      await c.end();
    }
  });
});
