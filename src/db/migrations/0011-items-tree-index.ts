import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * `items_tree` on (repo, path, name): a folder's children in name order, and a subtree as a
 * range of `path`, straight from the index (src/db/tree.ts). On PostgreSQL the text columns are
 * indexed in the "C" collation, byte order whatever the database's locale, so that
 * `path >= 'a/b/' and path < 'a/b0'` is exactly the subtree below `a/b` (a locale collation
 * ignores punctuation and would scatter it); the queries compare in the same collation. On
 * MySQL/MariaDB the key length limit makes it a prefix index.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  if (dialect === 'mysql') {
    await sql`create index items_tree on items (repo(64), path(512), name(191))`.execute(db);
  } else if (dialect === 'postgresql') {
    await sql`create index items_tree on items (repo, path collate "C", name collate "C")`.execute(db);
  } else {
    await sql`create index items_tree on items (repo, path, name)`.execute(db);
  }
}
