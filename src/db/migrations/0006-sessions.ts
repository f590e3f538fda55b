import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/** UI login sessions for `artifactory.map.provider.type=db`, keyed by the hash of the cookie. */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const big = dialect === 'sqlite' ? 'integer' : 'bigint';
  let t = db.schema
    .createTable('ui_sessions')
    .addColumn('id_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('user_name', 'varchar(255)', (c) => c.notNull())
    .addColumn('node_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('created', big, (c) => c.notNull())
    .addColumn('last_access', big, (c) => c.notNull())
    .addColumn('expires', big, (c) => c.notNull());
  if (dialect === 'mysql') t = t.modifyEnd(sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`);
  await t.execute();
  await db.schema.createIndex('ui_sessions_expires').on('ui_sessions').column('expires').execute();
  await db.schema.createIndex('ui_sessions_user').on('ui_sessions').column('user_name').execute();
}
