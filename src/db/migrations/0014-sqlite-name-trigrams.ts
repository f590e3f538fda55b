import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * Name search `*x*` on SQLite through trigrams (issue 14, item 3), as pg_trgm serves it on
 * PostgreSQL since migration 0012.
 *
 * `items_name_fts` is an FTS5 table with the `trigram` tokenizer (SQLite 3.34 or later; the
 * SQLite that better-sqlite3 bundles has it) over the folded names (`items.name_lc`), an
 * external-content table on `items` (it stores only its index, no copy of the names), with
 * `detail=none`: the index answers which rows hold every trigram of a literal run, the search
 * then checks the full pattern on `items.name_lc` (src/db/search-queries.ts). Triggers keep it
 * in step with every insert, delete and rename of an item, whatever writes it; 'rebuild' fills
 * it for the items that exist.
 *
 * PostgreSQL has its trigram index already; MySQL/MariaDB have no trigram index (their FULLTEXT
 * parsers split on words, and an n-gram parser is InnoDB's for CJK only), so there a `*x*`
 * search reads the folded names of the repositories searched from the (repo, name_lc) index;
 * docs/performance.md says what that costs.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  if (dialect !== 'sqlite') return;
  await sql`create virtual table items_name_fts using fts5(name_lc, content='items', content_rowid='id', tokenize='trigram', detail=none)`.execute(db);
  await sql`insert into items_name_fts(items_name_fts) values ('rebuild')`.execute(db);
  const add = 'insert into items_name_fts(rowid, name_lc) values (new.id, new.name_lc);';
  const drop = "insert into items_name_fts(items_name_fts, rowid, name_lc) values ('delete', old.id, old.name_lc);";
  await sql.raw(`create trigger items_name_fts_insert after insert on items begin ${add} end`).execute(db);
  await sql.raw(`create trigger items_name_fts_delete after delete on items begin ${drop} end`).execute(db);
  await sql.raw(`create trigger items_name_fts_update after update of name on items begin ${drop} ${add} end`).execute(db);
}
