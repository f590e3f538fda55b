import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * The archive entry index (issue 15, item 5): the entries of each zip-like binary (jar, war,
 * ear, aar, zip), per binary (sha1), so every copy of a jar shares one index.
 * `archive_binaries` says a binary was indexed (with how many entries, and whether the list
 * was cut at the limit); `archive_entries` holds its entries' folder path and name, and the
 * name reversed, so that a suffix pattern (`*.class`) is a prefix range of an index too.
 * Both go with their binary (a trigger on `binaries`, so garbage collection and the orphan
 * sweep cover them). Texts compare bytewise on every dialect, as `items` names do.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const run = (q: RawBuilder<unknown>) => q.execute(db);
  const text = (n: number) => (dialect === 'postgresql' ? sql`varchar(${sql.raw(String(n))}) collate "C"` : sql`varchar(${sql.raw(String(n))})`);
  const bin = dialect === 'mysql' ? sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin` : sql``;
  let b = db.schema
    .createTable('archive_binaries')
    .addColumn('sha1', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('entry_count', 'integer', (c) => c.notNull())
    .addColumn('truncated', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('indexed', 'bigint', (c) => c.notNull());
  if (dialect === 'mysql') b = b.modifyEnd(bin);
  await b.execute();
  let e = db.schema
    .createTable('archive_entries')
    .addColumn('id', dialect === 'postgresql' ? 'bigserial' : dialect === 'mysql' ? 'bigint' : 'integer', (c) => {
      const pk = c.primaryKey();
      return dialect === 'mysql' ? pk.autoIncrement() : dialect === 'sqlite' ? pk.autoIncrement() : pk;
    })
    .addColumn('sha1', 'varchar(40)', (c) => c.notNull())
    .addColumn('entry_path', text(700) as any, (c) => c.notNull())
    .addColumn('entry_name', text(255) as any, (c) => c.notNull())
    .addColumn('name_rev', text(255) as any, (c) => c.notNull());
  if (dialect === 'mysql') e = e.modifyEnd(bin);
  await e.execute();
  await db.schema.createIndex('archive_entries_sha1').on('archive_entries').column('sha1').execute();
  await db.schema.createIndex('archive_entries_name').on('archive_entries').columns(['entry_name', 'sha1']).execute();
  await db.schema.createIndex('archive_entries_rev').on('archive_entries').columns(['name_rev', 'sha1']).execute();
  await db.schema.createIndex('archive_entries_path').on('archive_entries').columns(['entry_path', 'sha1']).execute();

  if (dialect === 'postgresql') {
    await run(sql`
      create function archive_entries_binaries() returns trigger language plpgsql as $$
      begin
        delete from archive_entries where sha1 = old.sha1;
        delete from archive_binaries where sha1 = old.sha1;
        return null;
      end $$`);
    await run(sql`create trigger archive_entries_binaries after delete on binaries for each row execute procedure archive_entries_binaries()`);
    return;
  }
  const each = dialect === 'mysql' ? sql`for each row` : sql``;
  await run(sql`create trigger archive_entries_binaries_delete after delete on binaries ${each} begin delete from archive_entries where sha1 = old.sha1; delete from archive_binaries where sha1 = old.sha1; end`);
}
