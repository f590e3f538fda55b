import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/** The node registry (the seed's `artifactory_servers`), one row per node id. */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const big = dialect === 'sqlite' ? 'integer' : 'bigint';
  let t = db.schema
    .createTable('cluster_nodes')
    .addColumn('server_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('instance_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('start_time', big, (c) => c.notNull())
    .addColumn('context_url', 'varchar(1024)')
    .addColumn('membership_port', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('server_state', 'varchar(16)', (c) => c.notNull())
    .addColumn('server_role', 'varchar(16)', (c) => c.notNull())
    .addColumn('last_heartbeat', big, (c) => c.notNull())
    .addColumn('version', 'varchar(32)', (c) => c.notNull())
    .addColumn('revision', 'varchar(64)', (c) => c.notNull())
    .addColumn('release_date', big, (c) => c.notNull())
    .addColumn('task_affinity', 'varchar(8)', (c) => c.notNull())
    .addColumn('host', 'varchar(255)', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .addColumn('advertised_ip', 'varchar(64)');
  if (dialect === 'mysql') t = t.modifyEnd(sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`);
  await t.execute();
}
