import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * What a remote repository knows about each path it proxied: when the upstream was last
 * asked, what it answered (a file, or a miss for the negative cache) and the validators it
 * sent (ETag, Last-Modified) for conditional re-checks. Keyed like items (`path_key`).
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const big = dialect === 'sqlite' ? 'integer' : 'bigint';
  let t = db.schema
    .createTable('remote_cache')
    .addColumn('path_key', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('repo', 'varchar(64)', (c) => c.notNull())
    .addColumn('path', 'varchar(1024)', (c) => c.notNull())
    .addColumn('status', 'varchar(8)', (c) => c.notNull())
    .addColumn('checked', big, (c) => c.notNull())
    .addColumn('etag', 'varchar(512)')
    .addColumn('last_modified', 'varchar(64)')
    .addColumn('upstream_url', 'varchar(2048)');
  if (dialect === 'mysql') t = t.modifyEnd(sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`);
  await t.execute();
  await db.schema.createIndex('remote_cache_repo').on('remote_cache').column('repo').execute();
}
