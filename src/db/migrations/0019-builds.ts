import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * The build-info index (issue 15, item 6). A build is a JSON item in a build-info repository
 * (`artifactory-build-info/{name}/{number}-{started}.json`); these tables are derived from those
 * items and can be rebuilt from them (services/builds/build-index.ts):
 * - `builds`: one row per build item (keyed by the item), its name, number, start time and the
 *   last promotion status, indexed by (name, started) and (name, number);
 * - `build_entries`: the build's artifacts and dependencies by sha1, for AQL's
 *   `artifact.module.build.*` / `dependency.module.build.*` criteria and for promotion.
 * Rows go with their item (a trigger, so every delete path is covered: the API, a folder
 * delete, a move, an import); only build items are indexed and they end in `.json`, so the
 * trigger does nothing for other items.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const run = (q: RawBuilder<unknown>) => q.execute(db);
  const mysql = dialect === 'mysql';
  const big = dialect === 'sqlite' ? 'integer' : 'bigint';
  let builds = db.schema
    .createTable('builds')
    .addColumn('item_id', big, (c) => c.primaryKey())
    .addColumn('repo', 'varchar(64)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('number', 'varchar(255)', (c) => c.notNull())
    .addColumn('started', 'varchar(64)', (c) => c.notNull())
    .addColumn('started_ms', big, (c) => c.notNull())
    .addColumn('status', 'varchar(255)');
  if (mysql) builds = builds.modifyEnd(sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`);
  await builds.execute();
  await db.schema.createIndex('builds_name_started').on('builds').columns(['name', 'started_ms']).execute();
  await db.schema.createIndex('builds_name_number').on('builds').columns(['name', 'number']).execute();

  let entries = db.schema
    .createTable('build_entries')
    .addColumn('item_id', big, (c) => c.notNull())
    .addColumn('kind', 'varchar(10)', (c) => c.notNull())
    .addColumn('module', 'varchar(255)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('type', 'varchar(64)')
    .addColumn('scopes', 'varchar(255)')
    .addColumn('sha1', 'varchar(40)', (c) => c.notNull());
  if (mysql) entries = entries.modifyEnd(sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`);
  await entries.execute();
  await db.schema.createIndex('build_entries_item').on('build_entries').columns(['item_id', 'kind']).execute();
  await db.schema.createIndex('build_entries_sha1').on('build_entries').columns(['sha1', 'kind']).execute();

  if (dialect === 'postgresql') {
    await run(sql`
      create function builds_items() returns trigger language plpgsql as $$
      begin
        delete from build_entries where item_id = old.id;
        delete from builds where item_id = old.id;
        return null;
      end $$`);
    await run(sql`create trigger builds_items after delete on items for each row when (old.name like '%.json') execute procedure builds_items()`);
    return;
  }
  const forget = sql`delete from build_entries where item_id = old.id; delete from builds where item_id = old.id;`;
  if (mysql) {
    await run(sql`create trigger builds_items_delete after delete on items for each row begin if old.name like '%.json' then ${forget} end if; end`);
  } else {
    await run(sql`create trigger builds_items_delete after delete on items when old.name like '%.json' begin ${forget} end`);
  }
}
