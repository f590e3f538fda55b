import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * Replication configuration (issue 16, item 1): one row per push target of a local repository
 * (several for a multi-push) or one row for the pull of a remote repository, keyed by the
 * repository and the target's position. Every node reads it from here, so a change is seen
 * cluster-wide at once; nothing else reads the table while no replication is configured.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  let t = db.schema
    .createTable('replications')
    .addColumn('repo_key', 'varchar(64)', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('kind', 'varchar(8)', (c) => c.notNull())
    .addColumn('url', 'varchar(2048)', (c) => c.notNull())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('requested_at', 'bigint')
    .addColumn('last_run', 'text')
    .addColumn('created', 'bigint', (c) => c.notNull())
    .addColumn('modified', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('replications_pk', ['repo_key', 'position']);
  if (dialect === 'mysql') t = t.modifyEnd(sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`);
  await t.execute();
}
