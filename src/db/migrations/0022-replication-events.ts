import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * The durable queue of event-based replication (issue 16, item 3; docs/replication-events.md).
 * One row per change (deploy, delete, property change, move) and push target, written in the
 * transaction of the change. `state`: 0 pending, 1 delivered, 2 failed (kept for the
 * scheduled reconcile). `next_at` is when a pending row may next be handed out: its enqueue
 * time, the end of its lease while a worker holds it (so an expired lease is claimable like
 * any ready row), the end of its back-off, or PARKED while an earlier event of the same path
 * is pending. Indexes, each read as a range:
 *   - `replication_events_ready` (target, state, next_at, id): the ready rows of a target; its
 *     depth and oldest pending row (lag).
 *   - `replication_events_path` (target, path_key, state, id): the head (lowest pending id) of
 *     one path, checked before a row is handed out and promoted when the head is done.
 *   - `replication_events_done` (state, done_at, id): delivered rows for the bounded prune.
 *   - `replication_events_sha1` (sha1, state): which pending events still need a binary.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const big = dialect === 'sqlite' ? 'integer' : 'bigint';
  const idType = dialect === 'postgresql' ? 'bigserial' : dialect === 'mysql' ? 'bigint' : 'integer';
  let t = db.schema
    .createTable('replication_events')
    .addColumn('id', idType, (c) => (dialect === 'postgresql' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('target', 'varchar(200)', (c) => c.notNull())
    .addColumn('repo', 'varchar(128)', (c) => c.notNull())
    .addColumn('path', 'varchar(2048)', (c) => c.notNull())
    .addColumn('path_key', 'varchar(40)', (c) => c.notNull())
    .addColumn('kind', 'varchar(8)', (c) => c.notNull())
    .addColumn('payload', 'varchar(4096)', (c) => c.notNull())
    .addColumn('sha1', 'varchar(40)')
    .addColumn('holds_ref', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('origin', 'varchar(128)')
    .addColumn('created', big, (c) => c.notNull())
    .addColumn('state', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_at', big, (c) => c.notNull())
    .addColumn('lease_owner', 'varchar(128)')
    .addColumn('lease_token', 'varchar(64)')
    .addColumn('done_at', big)
    .addColumn('last_error', 'varchar(1000)');
  if (dialect === 'mysql') t = t.modifyEnd(sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`);
  await t.execute();
  await db.schema.createIndex('replication_events_ready').on('replication_events').columns(['target', 'state', 'next_at', 'id']).execute();
  await db.schema.createIndex('replication_events_path').on('replication_events').columns(['target', 'path_key', 'state', 'id']).execute();
  await db.schema.createIndex('replication_events_done').on('replication_events').columns(['state', 'done_at', 'id']).execute();
  await db.schema.createIndex('replication_events_sha1').on('replication_events').columns(['sha1', 'state']).execute();
}
