import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * Cluster locks (src/cluster/locks): one row per lock name, never deleted, so the fencing
 * token of a name only ever grows. `owner` is null when the lock is free; a lease whose
 * `expires_at` has passed may be taken by another owner.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const big = dialect === 'sqlite' ? 'integer' : 'bigint';
  let t = db.schema
    .createTable('cluster_locks')
    .addColumn('lock_name', 'varchar(191)', (c) => c.primaryKey())
    .addColumn('owner', 'varchar(255)')
    .addColumn('token', big, (c) => c.notNull().defaultTo(0))
    .addColumn('acquired_at', big, (c) => c.notNull().defaultTo(0))
    .addColumn('expires_at', big, (c) => c.notNull().defaultTo(0));
  if (dialect === 'mysql') t = t.modifyEnd(sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`);
  await t.execute();
}
