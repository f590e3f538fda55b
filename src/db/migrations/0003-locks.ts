import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * Cluster locks (src/cluster/locks): one row per lock name, never deleted, so the fencing
 * token of a name only ever grows. `owner` is null when the lock is free; a lease whose
 * `expires_at` has passed may be taken by another owner.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await createLockTable(db, dialect);
}

/**
 * Also called before migrations run (they run under one of these locks), hence `if not
 * exists`: on a new database the table is there before the migration that records it.
 */
export async function createLockTable(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const big = dialect === 'sqlite' ? 'integer' : 'bigint';
  let t = db.schema
    .createTable('cluster_locks')
    .ifNotExists()
    .addColumn('lock_name', 'varchar(191)', (c) => c.primaryKey())
    .addColumn('owner', 'varchar(255)')
    .addColumn('token', big, (c) => c.notNull().defaultTo(0))
    .addColumn('acquired_at', big, (c) => c.notNull().defaultTo(0))
    .addColumn('expires_at', big, (c) => c.notNull().defaultTo(0));
  if (dialect === 'mysql') t = t.modifyEnd(sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`);
  try {
    await t.execute();
  } catch (err) {
    // PostgreSQL: two nodes creating it at the same moment can collide in the catalog even
    // with `if not exists` (a unique violation); once the other has created it, this passes.
    await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    await t.execute().catch(() => {
      throw err;
    });
  }
}
