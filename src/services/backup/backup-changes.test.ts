import { Migrator, sql, type Migration } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { pathKey } from '../../db/items.js';
import { openDatabase } from '../../db/database.js';
import { migrate } from '../../db/migrate.js';
import { MIGRATIONS } from '../../db/migrations/index.js';
import { DIALECTS, freshDatabaseConfig, openTestDatabase, type TestDatabase } from '../../db/testing/databases.js';
import { changeLogExceeds, consumeChanges, idRuns, readChanges } from './backup-changes.js';

const item = (name: string) => ({
  path_key: pathKey('r', name),
  repo: 'r',
  path: '',
  name,
  type: 'file' as const,
  size: 1,
  created: 1,
  created_by: 'u',
  modified: 1,
  modified_by: 'u',
  updated: 1,
});

describe('idRuns', () => {
  it('groups contiguous ids and never spans an id that was not read', () => {
    expect(idRuns([1, 2, 3, 5, 7, 8])).toEqual([[1, 3], [5, 5], [7, 8]]);
    expect(idRuns([])).toEqual([]);
  });
});

describe.each(DIALECTS)('the backup change log on %s', (dialect) => {
  let t: TestDatabase;
  afterEach(async () => {
    await t?.drop();
  });

  it('migration 0010 runs on a populated database: the log starts empty and logs from then on', async () => {
    const fresh = await freshDatabaseConfig(dialect);
    const database = await openDatabase(fresh.config);
    const drop = async () => {
      await database.close().catch(() => undefined);
      await fresh.drop();
    };
    t = { ...fresh, database, drop };
    const before = MIGRATIONS.filter((m) => m.name < '0010');
    const migrator = (list: typeof MIGRATIONS) =>
      new Migrator({
        db: database.db,
        provider: { getMigrations: async () => Object.fromEntries(list.map((m) => [m.name, { up: (db) => m.up(db, dialect) } satisfies Migration])) },
        migrationTableName: 'arca_migrations',
        migrationLockTableName: 'arca_migrations_lock',
      });
    expect((await migrator(before).migrateToLatest()).error).toBeUndefined();
    await database.db.insertInto('items').values([item('old1'), item('old2')]).execute();
    expect(await migrate(database)).toEqual(MIGRATIONS.filter((m) => m.name >= '0010').map((m) => m.name));
    expect((await readChanges(database.db)).runs).toEqual([]);
    await database.db.updateTable('items').set({ size: 5 }).where('name', '=', 'old1').execute();
    expect((await readChanges(database.db)).keys).toEqual([pathKey('r', 'old1')]);
    // A log past the limit makes the next backup a full one.
    await database.db.insertInto('items').values([item('new1'), item('new2')]).execute();
    expect(await changeLogExceeds(database.db, 2)).toBe(true);
    expect(await changeLogExceeds(database.db, 3)).toBe(false);
  });

  it('logs every change of an item or of its properties, by path_key', async () => {
    t = await openTestDatabase(dialect);
    const db = t.database.db;
    await db.insertInto('items').values([item('a'), item('b')]).execute();
    const a = await db.selectFrom('items').select('id').where('name', '=', 'a').executeTakeFirstOrThrow();
    await db.insertInto('item_props').values({ item_id: a.id, prop_key: 'k', prop_value: 'v' }).execute();
    await db.updateTable('item_props').set({ prop_value: 'w' }).where('item_id', '=', a.id).execute();
    await db.deleteFrom('item_props').where('item_id', '=', a.id).execute();
    await db.updateTable('items').set({ size: 2 }).where('name', '=', 'b').execute();
    // A key change (a rename in place) logs the old key and the new one.
    await db.updateTable('items').set({ name: 'c', path_key: pathKey('r', 'c') }).where('name', '=', 'b').execute();
    await db.deleteFrom('items').where('name', '=', 'a').execute();
    const [ka, kb, kc] = ['a', 'b', 'c'].map((n) => pathKey('r', n));
    const rows = await db.selectFrom('backup_changes').select('path_key').orderBy('id').execute();
    expect(rows.map((r) => r.path_key)).toEqual([ka, kb, ka, ka, ka, ka, kb, expect.any(String), expect.any(String), ka]);
    expect(new Set(rows.slice(7, 9).map((r) => r.path_key))).toEqual(new Set([kb, kc]));

    const changes = await readChanges(db);
    expect(changes.keys.sort()).toEqual([ka, kb, kc].sort());
    expect(changes.count).toBe(10);
    // Consuming what was read leaves what was logged afterwards.
    await db.insertInto('items').values(item('d')).execute();
    await consumeChanges(t.database, changes.runs);
    expect((await readChanges(db)).keys).toEqual([pathKey('r', 'd')]);
  });
});

// SQLite has one writer at a time, so ids are committed in order there; the others commit concurrently.
describe.each(DIALECTS.filter((d) => d !== 'sqlite'))('the backup change log under concurrent writers on %s', (dialect) => {
  let t: TestDatabase;
  afterEach(async () => {
    await t?.drop();
  });

  it('keeps a change committed after the backup read the log, even with a smaller id', async () => {
    t = await openTestDatabase(dialect);
    const db = t.database.db;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let inserted!: () => void;
    const ready = new Promise<void>((r) => (inserted = r));
    // A slow writer takes the smaller id and commits late.
    const slow = db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values(item('slow')).execute();
      inserted();
      await held;
    });
    await ready;
    await db.insertInto('items').values(item('fast')).execute();
    const seen = await readChanges(db);
    expect(seen.keys).toEqual([pathKey('r', 'fast')]);
    release();
    await slow;
    await consumeChanges(t.database, seen.runs);
    const left = await readChanges(db);
    expect(left.keys).toEqual([pathKey('r', 'slow')]);
    expect(left.runs[0][0]).toBeLessThan(seen.runs[0][0]);
  });
});

describe('the backup change log plan on postgresql', () => {
  let t: TestDatabase;
  afterEach(async () => {
    await t?.drop();
  });
  const dialect = 'postgresql';

  it('reads the log through its primary key, not by scanning it', async () => {
    t = await openTestDatabase(dialect);
    const db = t.database.db;
    await sql`insert into backup_changes (path_key) select md5(g::text)::varchar(40) from generate_series(1, 50000) g`.execute(db);
    await sql`analyze backup_changes`.execute(db);
    const plan = await sql<{ 'QUERY PLAN': string }>`explain select id, path_key from backup_changes where id > 49000 order by id limit 5000`.execute(db);
    const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).toMatch(/Index Scan using backup_changes_pkey/);
    expect(text).not.toMatch(/Seq Scan/);
  });
});
