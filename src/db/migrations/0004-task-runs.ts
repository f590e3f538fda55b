import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * Cluster-wide tasks (src/cluster/tasks): every run of a task (`task_runs`), the next
 * scheduled time of each task (`task_schedules`), and whether a node's task affinity was set
 * explicitly (the legacy `primary`-only rule needs to know; see docs/ha.md).
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const big = dialect === 'sqlite' ? 'integer' : 'bigint';
  const innodb = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    dialect === 'mysql' ? t.modifyEnd(sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`) : t;

  await innodb(
    db.schema
      .createTable('task_runs')
      .addColumn('run_id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('task_name', 'varchar(64)', (c) => c.notNull())
      .addColumn('trigger_type', 'varchar(16)', (c) => c.notNull())
      .addColumn('slot', big)
      .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('node_id', 'varchar(64)')
      .addColumn('fencing_token', big)
      .addColumn('queued_at', big, (c) => c.notNull())
      .addColumn('started_at', big)
      .addColumn('ended_at', big)
      .addColumn('requested_by', 'varchar(255)')
      .addColumn('params', 'text')
      .addColumn('result', 'text')
      .addColumn('counts', 'text')
      .addColumn('error', 'text'),
  ).execute();
  await db.schema.createIndex('task_runs_task').on('task_runs').columns(['task_name', 'queued_at']).execute();
  await db.schema.createIndex('task_runs_status').on('task_runs').column('status').execute();

  await innodb(
    db.schema
      .createTable('task_schedules')
      .addColumn('task_name', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('schedule', 'varchar(255)', (c) => c.notNull())
      .addColumn('next_run_at', big, (c) => c.notNull())
      .addColumn('modified', big, (c) => c.notNull()),
  ).execute();

  await db.schema
    .alterTable('cluster_nodes')
    .addColumn('task_affinity_set', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
}
