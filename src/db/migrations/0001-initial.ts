import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/** The first schema: binaries, items and their properties, repositories, security, config. */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const mysql = dialect === 'mysql';
  const big = dialect === 'sqlite' ? 'integer' : 'bigint';
  const idType = dialect === 'postgresql' ? 'bigserial' : dialect === 'mysql' ? 'bigint' : 'integer';
  const id = (col: any) => (dialect === 'postgresql' ? col.primaryKey() : col.primaryKey().autoIncrement());
  // MySQL/MariaDB: InnoDB, and binary collation so comparisons are exact as on the other dialects.
  const originalCreateTable = db.schema.createTable.bind(db.schema);
  const schema = {
    createTable: (name: string) => {
      const t = originalCreateTable(name);
      return mysql ? t.modifyEnd(sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`) : t;
    },
    createIndex: db.schema.createIndex.bind(db.schema),
  };
  /** An index over long varchar columns: MySQL limits key length, so it indexes prefixes. */
  const prefixIndex = async (name: string, table: string, columns: [string, number][]) => {
    if (mysql) {
      await sql`create index ${sql.id(name)} on ${sql.id(table)} (${sql.join(columns.map(([c, n]) => sql`${sql.id(c)}(${sql.lit(n)})`))})`.execute(db);
    } else {
      await schema.createIndex(name).on(table).columns(columns.map(([c]) => c)).execute();
    }
  };

  await schema
    .createTable('binaries')
    .addColumn('sha1', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('md5', 'varchar(32)', (c) => c.notNull())
    .addColumn('size', big, (c) => c.notNull())
    .addColumn('created', big, (c) => c.notNull())
    .execute();
  await schema.createIndex('binaries_sha256').on('binaries').column('sha256').execute();
  await schema.createIndex('binaries_md5').on('binaries').column('md5').execute();

  await schema
    .createTable('items')
    .addColumn('id', idType, id)
    .addColumn('path_key', 'varchar(40)', (c) => c.notNull().unique())
    .addColumn('repo', 'varchar(64)', (c) => c.notNull())
    .addColumn('path', 'varchar(1024)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('type', 'varchar(8)', (c) => c.notNull())
    .addColumn('sha1', 'varchar(40)')
    .addColumn('sha256', 'varchar(64)')
    .addColumn('md5', 'varchar(32)')
    .addColumn('size', big, (c) => c.notNull().defaultTo(0))
    .addColumn('original_sha1', 'varchar(40)')
    .addColumn('original_sha256', 'varchar(64)')
    .addColumn('original_md5', 'varchar(32)')
    .addColumn('mime_type', 'varchar(255)')
    .addColumn('created', big, (c) => c.notNull())
    .addColumn('created_by', 'varchar(255)', (c) => c.notNull())
    .addColumn('modified', big, (c) => c.notNull())
    .addColumn('modified_by', 'varchar(255)', (c) => c.notNull())
    .addColumn('updated', big, (c) => c.notNull())
    .execute();
  await prefixIndex('items_repo_path', 'items', [['repo', 64], ['path', 512]]);
  await schema.createIndex('items_name').on('items').column('name').execute();
  await schema.createIndex('items_sha1').on('items').column('sha1').execute();
  await schema.createIndex('items_sha256').on('items').column('sha256').execute();
  await schema.createIndex('items_md5').on('items').column('md5').execute();

  await schema
    .createTable('item_props')
    .addColumn('id', idType, id)
    .addColumn('item_id', big, (c) => c.notNull().references('items.id').onDelete('cascade'))
    .addColumn('prop_key', 'varchar(255)', (c) => c.notNull())
    .addColumn('prop_value', 'varchar(4000)', (c) => c.notNull())
    .execute();
  await schema.createIndex('item_props_item').on('item_props').column('item_id').execute();
  await prefixIndex('item_props_key', 'item_props', [['prop_key', 191], ['prop_value', 191]]);

  await schema
    .createTable('repositories')
    .addColumn('repo_key', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('rclass', 'varchar(16)', (c) => c.notNull())
    .addColumn('package_type', 'varchar(32)', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('created', big, (c) => c.notNull())
    .addColumn('modified', big, (c) => c.notNull())
    .execute();

  await schema
    .createTable('users')
    .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('email', 'varchar(255)')
    .addColumn('password_hash', 'varchar(255)')
    .addColumn('admin', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('profile_updatable', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('disable_ui_access', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('internal_password_disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('realm', 'varchar(32)', (c) => c.notNull().defaultTo('internal'))
    .addColumn('last_logged_in', big)
    .addColumn('failed_logins', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_until', big)
    .addColumn('api_key_enc', 'varchar(512)')
    .addColumn('api_key_hash', 'varchar(64)')
    .addColumn('created', big, (c) => c.notNull())
    .addColumn('modified', big, (c) => c.notNull())
    .execute();
  await schema.createIndex('users_api_key_hash').on('users').column('api_key_hash').execute();

  await schema
    .createTable('security_groups')
    .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('description', 'varchar(1024)')
    .addColumn('auto_join', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('admin_privileges', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('realm', 'varchar(32)', (c) => c.notNull().defaultTo('internal'))
    .addColumn('created', big, (c) => c.notNull())
    .addColumn('modified', big, (c) => c.notNull())
    .execute();

  await schema
    .createTable('user_groups')
    .addColumn('user_name', 'varchar(64)', (c) => c.notNull().references('users.name').onDelete('cascade'))
    .addColumn('group_name', 'varchar(64)', (c) => c.notNull().references('security_groups.name').onDelete('cascade'))
    .addPrimaryKeyConstraint('user_groups_pk', ['user_name', 'group_name'])
    .execute();
  await schema.createIndex('user_groups_group').on('user_groups').column('group_name').execute();

  await schema
    .createTable('permission_targets')
    .addColumn('name', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('created', big, (c) => c.notNull())
    .addColumn('modified', big, (c) => c.notNull())
    .execute();

  await schema
    .createTable('access_tokens')
    .addColumn('token_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('subject', 'varchar(255)', (c) => c.notNull())
    .addColumn('scope', 'varchar(1024)', (c) => c.notNull())
    .addColumn('audience', 'varchar(255)')
    .addColumn('description', 'varchar(1024)')
    .addColumn('issued_at', big, (c) => c.notNull())
    .addColumn('expires_at', big)
    .addColumn('refreshable', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('refresh_hash', 'varchar(64)')
    .addColumn('revoked', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_by', 'varchar(64)', (c) => c.notNull())
    .execute();
  await schema.createIndex('access_tokens_subject').on('access_tokens').column('subject').execute();
  await schema.createIndex('access_tokens_refresh').on('access_tokens').column('refresh_hash').execute();

  await schema
    .createTable('system_config')
    .addColumn('config_key', 'varchar(128)', (c) => c.primaryKey())
    .addColumn('config_value', 'text', (c) => c.notNull())
    .addColumn('modified', big, (c) => c.notNull())
    .execute();

  await schema
    .createTable('config_versions')
    .addColumn('domain', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('version', big, (c) => c.notNull())
    .execute();
  await sql`insert into config_versions (domain, version) values ('repositories', 1), ('security', 1), ('system', 1)`.execute(db);
}
