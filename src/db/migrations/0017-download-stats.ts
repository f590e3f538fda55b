import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * Download statistics (issue 15, item 2): one row per item that was downloaded, written by the
 * nodes' batched flushes (services/download-stats.ts) with atomic increments, so nodes and
 * workers add up without coordinating. `remote_downloads` counts the times a remote
 * repository's cached item was fetched from its upstream. The row goes with its item (a
 * trigger, so every delete path is covered). Indexed by the last download time, for cleanup
 * queries (`"stat.downloaded":{"$before":"60d"}`).
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const run = (q: RawBuilder<unknown>) => q.execute(db);
  let t = db.schema
    .createTable('download_stats')
    .addColumn('item_id', 'bigint', (c) => c.primaryKey())
    .addColumn('downloads', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('last_downloaded', 'bigint')
    .addColumn('last_downloaded_by', 'varchar(255)')
    .addColumn('remote_downloads', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('remote_last_downloaded', 'bigint');
  if (dialect === 'mysql') t = t.modifyEnd(sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`);
  await t.execute();
  await db.schema.createIndex('download_stats_last').on('download_stats').column('last_downloaded').execute();

  if (dialect === 'postgresql') {
    await run(sql`
      create function download_stats_items() returns trigger language plpgsql as $$
      begin
        delete from download_stats where item_id = old.id;
        return null;
      end $$`);
    await run(sql`create trigger download_stats_items after delete on items for each row execute procedure download_stats_items()`);
    return;
  }
  const each = dialect === 'mysql' ? sql`for each row` : sql``;
  await run(sql`create trigger download_stats_items_delete after delete on items ${each} begin delete from download_stats where item_id = old.id; end`);
}
