import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * The trash can (issue 15, item 7): when each item in `auto-trashcan` was trashed, keyed by the
 * item's path key, indexed by that time so the retention task reads only the expired entries,
 * oldest first, whatever the size of the trash. A row whose item has gone (restored, cleaned,
 * replaced) is dropped by the next prune that reaches it; a later trash of the same path
 * updates its time.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  let t = db.schema
    .createTable('trash_items')
    .addColumn('path_key', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('trashed_at', 'bigint', (c) => c.notNull());
  if (dialect === 'mysql') t = t.modifyEnd(sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`);
  await t.execute();
  await db.schema.createIndex('trash_items_time').on('trash_items').columns(['trashed_at', 'path_key']).execute();
}
