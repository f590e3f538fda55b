import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * The cluster license pool: one row per installed license key, naming the node that holds it
 * (null: free). A node holds at most one license (unique `node_id`; NULLs do not collide on
 * any dialect).
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const big = dialect === 'sqlite' ? 'integer' : 'bigint';
  let t = db.schema
    .createTable('cluster_licenses')
    .addColumn('license_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('license_key', 'text', (c) => c.notNull())
    .addColumn('license_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('licensed_to', 'varchar(512)', (c) => c.notNull())
    .addColumn('license_type', 'varchar(32)', (c) => c.notNull())
    .addColumn('valid_through', 'varchar(10)', (c) => c.notNull())
    .addColumn('expires_at', big, (c) => c.notNull())
    .addColumn('node_id', 'varchar(64)')
    .addColumn('assigned_at', big)
    .addColumn('added_by', 'varchar(255)', (c) => c.notNull())
    .addColumn('added_at', big, (c) => c.notNull());
  if (dialect === 'mysql') t = t.modifyEnd(sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`);
  await t.execute();
  await db.schema.createIndex('cluster_licenses_node').unique().on('cluster_licenses').column('node_id').execute();
}
