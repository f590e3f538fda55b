import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * The change log that incremental backups read (issue 14, item 4): one row per change of an
 * item or of its properties, naming the item by its `path_key`. Database triggers write it, so
 * every path that changes items (deploy, copy, move, delete, property edits, imports, format
 * services) is covered without each remembering to. A backup reads the rows it covers and then
 * deletes exactly those (see services/backup/backup-changes.ts), so the table holds only the
 * changes since the last backup, and finding them costs the change, not the repository.
 *
 * Backfill: none is needed. A database that had items before this migration has an empty log
 * and no record of a backup chain (the `cluster.backup.chain` setting), so its next backup is a
 * full one, which captures every item anyway.
 *
 * The trigger and function names all start with `backup_changes_` so they cannot collide with
 * other triggers on `items` (reference counts of binaries).
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const run = (q: RawBuilder<unknown>) => q.execute(db);
  let t = db.schema
    .createTable('backup_changes')
    .addColumn('id', dialect === 'postgresql' ? 'bigserial' : dialect === 'mysql' ? 'bigint' : 'integer', (c) =>
      dialect === 'postgresql' ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('path_key', 'varchar(40)', (c) => c.notNull());
  if (dialect === 'mysql') t = t.modifyEnd(sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`);
  await t.execute();

  if (dialect === 'postgresql') {
    await run(sql`
      create function backup_changes_items() returns trigger language plpgsql as $$
      begin
        if tg_op = 'DELETE' or (tg_op = 'UPDATE' and old.path_key <> new.path_key) then
          insert into backup_changes (path_key) values (old.path_key);
        end if;
        if tg_op <> 'DELETE' then
          insert into backup_changes (path_key) values (new.path_key);
        end if;
        return null;
      end $$`);
    await run(sql`
      create function backup_changes_item_props() returns trigger language plpgsql as $$
      begin
        if tg_op <> 'INSERT' then
          insert into backup_changes (path_key) select path_key from items where id = old.item_id;
        end if;
        if tg_op <> 'DELETE' then
          insert into backup_changes (path_key) select path_key from items where id = new.item_id;
        end if;
        return null;
      end $$`);
    await run(sql`create trigger backup_changes_items after insert or update or delete on items for each row execute procedure backup_changes_items()`);
    await run(sql`create trigger backup_changes_item_props after insert or update or delete on item_props for each row execute procedure backup_changes_item_props()`);
    return;
  }

  // SQLite and MySQL/MariaDB: one trigger per event; the bodies differ only in their syntax.
  const each = dialect === 'mysql' ? sql`for each row` : sql``;
  const log = (value: RawBuilder<unknown>) => sql`insert into backup_changes (path_key) ${value}`;
  const ofItem = (ref: 'new' | 'old') => log(sql`select path_key from items where id = ${sql.raw(ref)}.item_id`);
  const moved =
    dialect === 'mysql'
      ? sql`if old.path_key <> new.path_key then ${log(sql`values (old.path_key)`)}; end if;`
      : sql`${log(sql`select old.path_key where old.path_key <> new.path_key`)};`;
  const triggers: [string, string, RawBuilder<unknown>][] = [
    ['backup_changes_items_insert', 'insert on items', sql`${log(sql`values (new.path_key)`)};`],
    ['backup_changes_items_update', 'update on items', sql`${log(sql`values (new.path_key)`)}; ${moved}`],
    ['backup_changes_items_delete', 'delete on items', sql`${log(sql`values (old.path_key)`)};`],
    ['backup_changes_props_insert', 'insert on item_props', sql`${ofItem('new')};`],
    ['backup_changes_props_update', 'update on item_props', sql`${ofItem('old')}; ${ofItem('new')};`],
    ['backup_changes_props_delete', 'delete on item_props', sql`${ofItem('old')};`],
  ];
  for (const [name, event, body] of triggers) {
    await run(sql`create trigger ${sql.id(name)} after ${sql.raw(event)} ${each} begin ${body} end`);
  }
}
