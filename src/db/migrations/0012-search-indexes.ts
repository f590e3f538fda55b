import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';

/**
 * The expression of `items.name_lc`: the name with ASCII A–Z folded to a–z and every other
 * character kept, the case rule of name search (see search-queries.ts). Each dialect's
 * spelling is deterministic, as a generated column requires:
 * - SQLite's built-in lower() folds ASCII only (Arca never loads the ICU extension);
 * - PostgreSQL's translate() over A–Z (lower() would fold all of Unicode);
 * - MySQL/MariaDB have no translate(): 26 nested replace() calls.
 */
export function foldedNameExpression(dialect: DialectName) {
  if (dialect === 'sqlite') return sql`lower(name)`;
  if (dialect === 'postgresql') return sql`translate(name, ${sql.lit(UPPER)}, ${sql.lit(LOWER)})`;
  let expr = sql`name`;
  for (let i = 0; i < UPPER.length; i++) expr = sql`replace(${expr}, ${sql.lit(UPPER[i])}, ${sql.lit(LOWER[i])})`;
  return expr;
}

/**
 * Name search on an index (issue 14, item 3).
 *
 * `items.name_lc` is a generated column, so no write path can forget it or get it wrong: every
 * insert and update (deploys, folders, copies, backup imports, and any added later) gets it from
 * the database, and the migration fills it on an existing database by itself. The application
 * never writes it (the schema type forbids it). SQLite can add only a virtual generated column
 * to an existing table; the index stores the folded names, which is what the searches read.
 * PostgreSQL stores it with the "C" collation, so comparisons are bytewise, as on SQLite and
 * under MySQL's utf8mb4_bin, and a prefix `LIKE` or range is an index range on every database
 * collation.
 *
 * On PostgreSQL a trigram index (pg_trgm) serves `*x*` patterns as well. Creating the
 * extension needs the contrib package and, before PostgreSQL 13, a superuser; when it fails
 * the migration goes on without the trigram index (inside a savepoint, so the migration's
 * transaction survives) and such searches read the folded-name index or the table instead;
 * docs/performance.md says how to add it afterwards.
 *
 * The checksum indexes (items sha1/sha256/md5) and the property index (item_props key, value)
 * exist since 0001; on PostgreSQL the property values get the "C" collation here, so a value
 * pattern's prefix is a range of that index too. Fresh statistics are gathered at the end, so
 * the planner knows the new column at once instead of after autovacuum's next analyze.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const expr = foldedNameExpression(dialect);
  if (dialect === 'sqlite') {
    await sql`alter table items add column name_lc text generated always as (${expr}) virtual`.execute(db);
  } else if (dialect === 'postgresql') {
    await sql`alter table items add column name_lc varchar(255) collate "C" generated always as (${expr}) stored`.execute(db);
  } else {
    await sql`alter table items add column name_lc varchar(255) generated always as (${expr}) stored`.execute(db);
  }
  // Per repository: a search names the repositories it covers (one index descent each), and
  // every query by exact name (the OCI manifests) names its repository too, so (repo, name)
  // replaces the index on the name alone.
  await db.schema.createIndex('items_repo_name_lc').on('items').columns(['repo', 'name_lc']).execute();
  await db.schema.createIndex('items_repo_name').on('items').columns(['repo', 'name']).execute();
  const drop = db.schema.dropIndex('items_name');
  await (dialect === 'mysql' ? drop.on('items') : drop).execute();

  if (dialect === 'postgresql') {
    // Property values compare bytewise too (as on SQLite and MySQL), so a value pattern's
    // literal start is a range of the (key, value) index whatever the database's collation.
    // The values are case-sensitive already; nothing sorts by them.
    await sql`alter table item_props alter column prop_value type varchar(4000) collate "C"`.execute(db);
    await sql`savepoint arca_trgm`.execute(db);
    try {
      await sql`create extension if not exists pg_trgm`.execute(db);
      await sql`create index items_name_lc_trgm on items using gin (name_lc gin_trgm_ops)`.execute(db);
      await sql`release savepoint arca_trgm`.execute(db);
    } catch {
      await sql`rollback to savepoint arca_trgm`.execute(db);
    }
    await sql`analyze items`.execute(db);
  } else if (dialect === 'mysql') {
    // utf8mb4_bin pads with spaces: 'v' = 'v ', and the range MySQL/MariaDB make of
    // `LIKE 'abc%'` loses 'abc<TAB>…' (a character below the space after the prefix). Property
    // values compare exactly under the binary NO PAD collation (MariaDB utf8mb4_nopad_bin,
    // MySQL 8 utf8mb4_0900_bin), where the server has one.
    const nopad = await sql<{ Collation: string }>`show collation where Collation in ('utf8mb4_nopad_bin', 'utf8mb4_0900_bin')`.execute(db);
    const collation = nopad.rows.map((r) => r.Collation).sort()[0];
    if (collation) await sql`alter table item_props modify prop_value varchar(4000) character set utf8mb4 collate ${sql.raw(collation)} not null`.execute(db);
    await sql`analyze table items, item_props`.execute(db);
  }
}
