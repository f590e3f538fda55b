import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * The configuration files mirrored from the primary to every node (`etc/binarystore.xml`,
 * `etc/artifactory.system.properties`), and which copy each node loaded at its last start.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const big = dialect === 'sqlite' ? 'integer' : 'bigint';
  const mysql = dialect === 'mysql';
  const innodb = <T extends { modifyEnd(s: unknown): T }>(t: T): T => (mysql ? t.modifyEnd(sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`) : t);

  await innodb(
    db.schema
      .createTable('config_files')
      .addColumn('name', 'varchar(128)', (c) => c.primaryKey())
      // MySQL's TEXT holds 64 KiB; the others have no practical limit.
      .addColumn('content', mysql ? sql`mediumtext` : 'text', (c) => c.notNull())
      .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
      .addColumn('updated_by', 'varchar(64)', (c) => c.notNull())
      .addColumn('updated', big, (c) => c.notNull()),
  ).execute();

  await innodb(
    db.schema
      .createTable('config_file_loads')
      .addColumn('node_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('name', 'varchar(128)', (c) => c.notNull())
      // '' when the node had no such file.
      .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
      .addColumn('loaded', big, (c) => c.notNull())
      .addPrimaryKeyConstraint('config_file_loads_pk', ['node_id', 'name']),
  ).execute();
}
