import { Migrator, type Migration } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { ensureFolders, fullPathOf, pathKey, putFile } from './items.js';
import { migrate } from './migrate.js';
import { MIGRATIONS } from './migrations/index.js';
import { literalPrefix, prefixUpperBound, searchItems } from './search-queries.js';
import { DIALECTS, freshDatabaseConfig, openTestDatabase, type TestDatabase } from './testing/databases.js';

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

  it('fills the folded name of the items an existing database already holds when it migrates', async () => {
    const fresh = await freshDatabaseConfig(dialect);
    const database = await openDatabase(fresh.config);
    t = { ...fresh, database, drop: async () => (await database.close().catch(() => undefined), await fresh.drop()) };
    const before = MIGRATIONS.slice(0, MIGRATIONS.findIndex((m) => m.name === '0012-search-indexes'));
    const migrations: Record<string, Migration> = {};
    for (const m of before) migrations[m.name] = { up: (db) => m.up(db, dialect) };
    const migrator = new Migrator({
      db: database.db,
      provider: { getMigrations: async () => migrations },
      migrationTableName: 'arca_migrations',
      migrationLockTableName: 'arca_migrations_lock',
    });
    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    const rows = NAMES.map((name) => ({
      path_key: pathKey('r', `d/${name}`), repo: 'r', path: 'd', name, type: 'file' as const, sha1: bin.sha1, sha256: bin.sha256, md5: bin.md5,
      size: 1, created: 1, created_by: 'u', modified: 1, modified_by: 'u', updated: 1,
    }));
    await database.db.insertInto('items').values(rows).execute();
    expect(await migrate(database)).toContain('0012-search-indexes');
    await expectAnswers(t);
  });
});
