import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * OpenPGP key pairs that sign repository metadata (issue 18, item 1; docs/signing.md): one row
 * per key pair, the private key and its passphrase encrypted with the master key. `default_slot`
 * is 1 on the cluster's default key and null elsewhere; its unique index makes "at most one
 * default" a database fact, so nodes racing to generate the first default key end with one.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  let t = db.schema
    .createTable('signing_keys')
    .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('alias', 'varchar(255)', (c) => c.notNull())
    .addColumn('pair_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('public_key', 'text')
    .addColumn('private_key', 'text')
    .addColumn('passphrase', 'text')
    .addColumn('fingerprint', 'varchar(64)')
    .addColumn('default_slot', 'integer')
    .addColumn('created', 'bigint', (c) => c.notNull())
    .addColumn('modified', 'bigint', (c) => c.notNull());
  if (dialect === 'mysql') t = t.modifyEnd(sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`);
  await t.execute();
  await db.schema.createIndex('signing_keys_default').on('signing_keys').column('default_slot').unique().execute();
}
