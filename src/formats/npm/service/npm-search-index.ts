/**
 * The npm search index: one `npm_search` row per package document (migration 0013), so a
 * search reads small rows of the packages it may match instead of parsing every document of
 * the repository.
 *
 * Triggers on `items` keep the set of rows exact (a row per document item, emptied whenever the
 * document's content or place changes, gone with the document). The npm store fills a row in the
 * transaction that writes its document (`fillRow`); a row left empty (a document written by a
 * generic deploy, a copy, an import, or one that predates the index) is filled by `refresh`, which
 * every search runs first and which reads only the empty rows of the repositories searched.
 *
 * A search is then one query per search: the rows of the repositories whose text contains every
 * term and keyword (`search_lc LIKE '%term%'`; a pg_trgm index serves it on PostgreSQL, the
 * repository's rows are read on SQLite and MySQL/MariaDB) and, for a `scope:` qualifier, whose
 * name starts with `@scope/` (a range of the (repo, name_lc) index). The exact match and score
 * (formats/npm/search.ts) run on those rows' fields; only the page's entries are read whole.
 */
import { sql, type Kysely, type SqlBool, type Transaction } from 'kysely';
import type { Database } from '../../../db/database.js';
import { dialectOf } from '../../../db/dialect.js';
import type { ItemRow } from '../../../db/items.js';
import type { Schema } from '../../../db/schema.js';
import type { PackageDocument } from '../packument.js';
import { indexDocument, searchText, type SearchFields, type SearchQuery } from '../search.js';

/** A row that may match a query: its exact match decides. */
export interface SearchCandidate {
  itemId: number;
  repo: string;
  name: string;
  fields: SearchFields;
}

const REFRESH_BATCH = 200;
/** Rows filled by one refresh after which the table's statistics are gathered again. */
const ANALYZE_AFTER = 500;
/** Names longer than the column holds are no npm names; such documents stay unlisted. */
const MAX_NAME = 255;

/** The column values of a document's row. */
export function rowValues(doc: PackageDocument, sha1: string) {
  let indexed: ReturnType<typeof indexDocument>;
  try {
    indexed = typeof doc?.name === 'string' && doc.name.length <= MAX_NAME && doc.versions && doc.time ? indexDocument(doc) : undefined;
  } catch {
    indexed = undefined; // a document no search could read (a malformed generic upload)
  }
  if (!indexed) return { doc_sha1: sha1, listed: 0, name: null, name_lc: null, search_lc: null, match_json: null, entry: null };
  return {
    doc_sha1: sha1,
    listed: 1,
    name: indexed.name,
    name_lc: indexed.fields.name,
    search_lc: searchText(indexed.fields),
    match_json: JSON.stringify(indexed.fields),
    entry: JSON.stringify(indexed.entry),
  };
}

/**
 * Fills the row of the document item `itemId` inside the transaction that wrote it (the
 * triggers created it empty in the same transaction).
 */
export async function fillRow(trx: Transaction<Schema>, itemId: number, doc: PackageDocument, sha1: string): Promise<void> {
  await trx.updateTable('npm_search').set(rowValues(doc, sha1)).where('item_id', '=', itemId).execute();
}

/** `%text%` for LIKE, with `\`, `%` and `_` taken literally (escape `\`). */
function contains(text: string): string {
  return `%${text.replace(/[\\%_]/g, '\\$&')}%`;
}

/** The query of `NpmSearchIndex.candidates` (tests explain it). */
export function candidatesQuery(db: Kysely<Schema>, repos: string[], q: SearchQuery) {
  const d = dialectOf(db);
  let query = db.selectFrom('npm_search').select(['item_id', 'repo', 'name', 'match_json']).where('repo', 'in', repos).where('listed', '=', 1);
  for (const t of [...q.terms, ...q.keywords]) {
    query = query.where(d === 'mysql' ? sql<SqlBool>`search_lc like ${contains(t)}` : sql<SqlBool>`search_lc like ${contains(t)} escape '\\'`);
  }
  if (q.scope !== undefined) query = query.where('name_lc', '>=', `@${q.scope}/`).where('name_lc', '<', `@${q.scope}0`);
  return query;
}

/** The query of the empty rows `NpmSearchIndex.refresh` fills next (tests explain it). */
export function emptyRowsQuery(db: Kysely<Schema>, repo: string, limit: number) {
  return db
    .selectFrom('npm_search')
    .innerJoin('items', 'items.id', 'npm_search.item_id')
    .selectAll('items')
    .where('npm_search.repo', '=', repo)
    .where('npm_search.doc_sha1', 'is', null)
    .limit(limit);
}

export class NpmSearchIndex {
  constructor(
    private readonly database: Database,
    private readonly parse: (item: ItemRow) => Promise<PackageDocument>,
  ) {}

  /**
   * Fills the empty rows of `repo` from their documents. A row is filled only while its item
   * still has the content that was read, so a concurrent change (which empties the row again)
   * is never overwritten with an older document; such a row is read again in a later pass.
   */
  async refresh(repo: string): Promise<number> {
    // Concurrent searches of one repository share one fill (each would read the same documents).
    // A fill already running may have looked for empty rows before this search began, so the
    // search waits for it and then joins (or starts) one that began after it did.
    const earlier = this.filling.get(repo);
    if (earlier) await earlier.catch(() => undefined);
    let running = this.filling.get(repo);
    if (!running) {
      running = this.fill(repo).finally(() => this.filling.delete(repo));
      this.filling.set(repo, running);
    }
    return running;
  }

  private readonly filling = new Map<string, Promise<number>>();

  private async fill(repo: string): Promise<number> {
    const db = this.database.db;
    let filled = 0;
    for (let pass = 0; pass < 1000; pass++) {
      const rows = await emptyRowsQuery(db, repo, REFRESH_BATCH).execute();
      if (rows.length === 0) break;
      // Documents are read first; their rows are then written in one short transaction per batch.
      const filledRows: { item: ItemRow; values: ReturnType<typeof rowValues> }[] = [];
      for (const item of rows) {
        let doc: PackageDocument | undefined;
        try {
          doc = item.sha1 ? await this.parse(item) : undefined;
        } catch {
          doc = undefined;
        }
        filledRows.push({ item, values: rowValues(doc as PackageDocument, item.sha1 ?? '') });
      }
      await db.transaction().execute(async (trx) => {
        for (const { item, values } of filledRows) {
          await trx
            .updateTable('npm_search')
            .set(values)
            .where('item_id', '=', item.id)
            .where('doc_sha1', 'is', null)
            .where((eb) => eb.exists(eb.selectFrom('items').select('id').where('id', '=', item.id).where('sha1', '=', item.sha1 ?? '')))
            .execute();
        }
      });
      filled += rows.length;
      if (rows.length < REFRESH_BATCH) break;
    }
    // After a bulk fill (the first search after the migration, or an import) the planner's
    // statistics still see empty rows; refresh them rather than wait for autovacuum.
    if (filled >= ANALYZE_AFTER) await this.analyze().catch(() => undefined);
    return filled;
  }

  private async analyze(): Promise<void> {
    const d = dialectOf(this.database.db);
    await (d === 'mysql' ? sql`analyze table npm_search` : sql`analyze npm_search`).execute(this.database.db);
  }

  /** The listed rows of `repos` that the coarse filter of `q` lets through (all of them for an empty query). */
  async candidates(repos: string[], q: SearchQuery): Promise<SearchCandidate[]> {
    if (repos.length === 0) return [];
    const rows = await candidatesQuery(this.database.db, repos, q).execute();
    return rows.map((r) => ({ itemId: Number(r.item_id), repo: r.repo, name: r.name!, fields: JSON.parse(r.match_json!) as SearchFields }));
  }

  /** The answer entries of the rows `itemIds` (without links), by item id. */
  async entries(itemIds: number[]): Promise<Map<number, Record<string, unknown>>> {
    const out = new Map<number, Record<string, unknown>>();
    if (itemIds.length === 0) return out;
    const rows = await this.database.db.selectFrom('npm_search').select(['item_id', 'entry']).where('item_id', 'in', itemIds).execute();
    for (const r of rows) if (r.entry) out.set(Number(r.item_id), JSON.parse(r.entry) as Record<string, unknown>);
    return out;
  }
}
