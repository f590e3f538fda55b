import { sql, type Expression, type SqlBool } from 'kysely';
import type { DialectName } from './database.js';
import { dialectOf } from './dialect.js';
import type { Db, ItemRow, PropertyMap } from './items.js';
import { subtreeOf } from './tree.js';

/**
 * Queries over items for the storage API (subtrees, bulk property changes) and the searches.
 * Every search runs in the database; `*` and `?` wildcards become LIKE (or GLOB) patterns.
 *
 * Case rules, the same on every dialect:
 * - names: case-insensitive for ASCII letters only, exact for everything else. The database
 *   keeps every name folded that way in the indexed `items.name_lc` (migration 0012), and the
 *   pattern is folded the same way here; Unicode folding (lower() on PostgreSQL and MySQL)
 *   is not used because SQLite cannot reproduce it without extensions.
 * - property keys and values, checksums: case-sensitive (`=`; LIKE on PostgreSQL, GLOB on
 *   SQLite, because SQLite's LIKE ignores ASCII case).
 */

const ID_CHUNK = 500;


export function hasWildcard(value: string): boolean {
  return value.includes('*') || value.includes('?');
}

/** True for a non-empty value made of wildcards only (`*`, `?*`…), which every search refuses. */
export function isWildcardOnly(value: string): boolean {
  return value !== '' && /^[*?]+$/.test(value);
}

/** `*` → `%`, `?` → `_`, with `\`, `%` and `_` escaped (use with ESCAPE '\'). */
export function wildcardToLike(value: string): string {
  return value.replace(/[\\%_]/g, '\\$&').replace(/\*/g, '%').replace(/\?/g, '_');
}

/** For SQLite's case-sensitive GLOB: `*` and `?` keep their meaning, `[` is made literal. */
export function wildcardToGlob(value: string): string {
  return value.replace(/\[/g, '[[]');
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** The text before the first wildcard of a pattern. */
export function literalPrefix(pattern: string): string {
  const i = pattern.search(/[*?]/);
  return i < 0 ? pattern : pattern.slice(0, i);
}

/**
 * The least string above every string that starts with `prefix`, in code point order (the
 * order of SQLite's BINARY, PostgreSQL's "C" and MySQL's utf8mb4_bin): the prefix with its
 * last code point raised by one. Undefined when there is none (a prefix of U+10FFFF only).
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const cps = [...prefix].map((c) => c.codePointAt(0)!);
  while (cps.length > 0) {
    let last = cps.pop()! + 1;
    if (last === 0xd800) last = 0xe000; // surrogates are not characters
    if (last <= 0x10ffff) return String.fromCodePoint(...cps, last);
  }
  return undefined;
}

/**
 * The item name matches the wildcard `pattern`, ASCII case-insensitively, on the indexed
 * folded name (`items.name_lc`, migration 0012). The text before the first wildcard becomes a
 * range on the (repo, name_lc) index, one descent per repository searched, so an exact name
 * or a prefix (`file-123*`) reads only the names it finds. `*x*` reads the trigram index on
 * PostgreSQL (when pg_trgm was available) and on SQLite (FTS5, migration 0014) when it has a
 * literal run of three characters or more, and on MySQL every folded name of the repositories
 * searched (from the index). The LIKE keeps the exact meaning of the pattern.
 * MySQL/MariaDB compare with PAD SPACE (`'a' = 'a '`), so there an exact name is a LIKE too.
 */
function nameMatches(dialect: DialectName, pattern: string): Expression<SqlBool> {
  const folded = asciiLower(pattern);
  const column = 'items.name_lc';
  if (!hasWildcard(folded) && dialect !== 'mysql') return sql<SqlBool>`${sql.ref(column)} = ${folded}`;
  const prefix = literalPrefix(folded);
  return all([...prefixRange(dialect, column, prefix), ...trigramCandidates(dialect, folded, prefix), like(dialect, column, folded)]);
}

/**
 * On SQLite, a pattern with no literal start of three characters or more (`*x*`) reads the
 * rows whose folded name holds its longest literal run from the trigram index of migration
 * 0014 (FTS5, `detail=none`: a superset, which the LIKE beside it then decides). The FTS5 LIKE
 * takes no ESCAPE clause, so a `%` or `_` in the run only widens what it finds.
 */
function trigramCandidates(dialect: DialectName, folded: string, prefix: string): Expression<SqlBool>[] {
  if (dialect !== 'sqlite' || [...prefix].length >= 3) return [];
  const run = folded.split(/[*?]/).reduce((a, b) => ([...b].length > [...a].length ? b : a), '');
  if ([...run].length < 3) return [];
  return [sql<SqlBool>`${sql.ref('items.id')} in (select rowid from items_name_fts where name_lc like ${`%${run}%`})`];
}

/**
 * The rows whose `column` starts with `prefix`, as a range an index serves (the column
 * compares in code point order: SQLite's BINARY, PostgreSQL's "C"). Nothing for '' and on
 * MySQL/MariaDB, whose optimizer turns `LIKE 'abc%'` into that range itself and whose PAD
 * SPACE comparison would put 'abc<TAB>' below 'abc' in a range of our own.
 */
function prefixRange(dialect: DialectName, column: string, prefix: string): Expression<SqlBool>[] {
  if (prefix === '' || dialect === 'mysql') return [];
  const upper = prefixUpperBound(prefix);
  const from = sql<SqlBool>`${sql.ref(column)} >= ${prefix}`;
  return upper === undefined ? [from] : [from, sql<SqlBool>`${sql.ref(column)} < ${upper}`];
}

/**
 * `column` LIKE the wildcard `pattern` (case as the column compares). MySQL's LIKE escapes with
 * a backslash by default, and its string literals read `\\` as an escape, so no ESCAPE clause
 * is written there.
 */
function like(dialect: DialectName, column: string, pattern: string): Expression<SqlBool> {
  const p = wildcardToLike(pattern);
  return dialect === 'mysql' ? sql<SqlBool>`${sql.ref(column)} like ${p}` : sql<SqlBool>`${sql.ref(column)} like ${p} escape '\\'`;
}

function all(terms: Expression<SqlBool>[]): Expression<SqlBool> {
  return terms.length === 1 ? terms[0] : sql<SqlBool>`(${sql.join(terms, sql` and `)})`;
}

/** `column` equals `value`, or matches it as a wildcard pattern, case-sensitively. */
export function matchesSensitive(dialect: DialectName, column: string, value: string): Expression<SqlBool> {
  if (!hasWildcard(value)) return sql<SqlBool>`${sql.ref(column)} = ${value}`;
  const match = dialect === 'sqlite' ? sql<SqlBool>`${sql.ref(column)} glob ${wildcardToGlob(value)}` : like(dialect, column, value);
  // A value pattern with a literal start (`1.2.*`) reads that range of the (key, value) index.
  return all([...prefixRange(dialect, column, literalPrefix(value)), match]);
}

/** When the repository was created (the root folder's `created`). */
export async function repoCreated(db: Db, repo: string): Promise<number | undefined> {
  const row = await db.selectFrom('repositories').select('created').where('repo_key', '=', repo).executeTakeFirst();
  return row ? Number(row.created) : undefined;
}

/** Files strictly below `folder`, newest `modified` first, one page at a time. */
export async function newestFilesUnder(db: Db, repo: string, folder: string, offset: number, limit: number): Promise<ItemRow[]> {
  return db
    .selectFrom('items')
    .selectAll()
    .where(subtreeOf(dialectOf(db), repo, folder))
    .where('type', '=', 'file')
    .orderBy('modified', 'desc')
    .orderBy('id')
    .offset(offset)
    .limit(limit)
    .execute();
}

/** Item ids that carry at least one property, among `ids`. */
export async function idsWithProperties(db: Db, ids: number[]): Promise<Set<number>> {
  const out = new Set<number>();
  for (let i = 0; i < ids.length; i += ID_CHUNK) {
    const rows = await db
      .selectFrom('item_props')
      .select('item_id')
      .distinct()
      .where('item_id', 'in', ids.slice(i, i + ID_CHUNK))
      .execute();
    for (const r of rows) out.add(Number(r.item_id));
  }
  return out;
}

/** Sets `props` on every item of `ids`: each given key's values replace that key's old values. */
export async function setPropertiesOn(db: Db, ids: number[], props: PropertyMap): Promise<void> {
  const keys = Object.keys(props);
  if (keys.length === 0 || ids.length === 0) return;
  const perItem = keys.reduce((n, k) => n + props[k].length, 0);
  const idsPerInsert = Math.max(1, Math.floor(ID_CHUNK / Math.max(1, perItem)));
  for (let i = 0; i < ids.length; i += ID_CHUNK) {
    await db.deleteFrom('item_props').where('item_id', 'in', ids.slice(i, i + ID_CHUNK)).where('prop_key', 'in', keys).execute();
  }
  if (perItem === 0) return;
  for (let i = 0; i < ids.length; i += idsPerInsert) {
    const values = ids
      .slice(i, i + idsPerInsert)
      .flatMap((id) => keys.flatMap((k) => props[k].map((v) => ({ item_id: id, prop_key: k, prop_value: v }))));
    await db.insertInto('item_props').values(values).execute();
  }
}

export async function deletePropertiesOn(db: Db, ids: number[], keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  for (let i = 0; i < ids.length; i += ID_CHUNK) {
    await db.deleteFrom('item_props').where('item_id', 'in', ids.slice(i, i + ID_CHUNK)).where('prop_key', 'in', keys).execute();
  }
}

/** Records a metadata change (Artifactory's `lastUpdated`); `modified` stays the content time. */
export async function markUpdated(db: Db, ids: number[], now: number): Promise<void> {
  for (let i = 0; i < ids.length; i += ID_CHUNK) {
    await db.updateTable('items').set({ updated: now }).where('id', 'in', ids.slice(i, i + ID_CHUNK)).execute();
  }
}

export interface PropertyCriterion {
  key: string;
  /** Any of these values (wildcards allowed) matches. */
  values: string[];
}

export interface ItemSearch {
  /** Only these repositories; an empty list finds nothing. */
  repos: string[];
  /** Only files (artifact and checksum searches). */
  filesOnly?: boolean;
  /** Wildcard pattern on the item name, ASCII case-insensitive. */
  name?: string;
  sha1?: string;
  sha256?: string;
  md5?: string;
  /** Every criterion must match (AND); values within one criterion are alternatives (OR). */
  properties?: PropertyCriterion[];
  limit: number;
}

/** The items matching a search, ordered by repository and path, at most `limit` of them. */
export async function searchItems(db: Db, dialect: DialectName, s: ItemSearch): Promise<ItemRow[]> {
  if (s.repos.length === 0) return [];
  let q = db.selectFrom('items').selectAll().where('items.repo', 'in', s.repos);
  if (s.filesOnly) q = q.where('items.type', '=', 'file');
  if (s.name !== undefined) {
    const name = s.name;
    q = q.where(() => nameMatches(dialect, name));
  }
  if (s.sha1 !== undefined) q = q.where('items.sha1', '=', s.sha1);
  if (s.sha256 !== undefined) q = q.where('items.sha256', '=', s.sha256);
  if (s.md5 !== undefined) q = q.where('items.md5', '=', s.md5);
  for (const c of s.properties ?? []) {
    q = q.where('items.id', 'in', (eb) =>
      eb
        .selectFrom('item_props')
        .select('item_props.item_id')
        .where('item_props.prop_key', '=', c.key)
        .where((pe) => pe.or(c.values.map((v) => matchesSensitive(dialect, 'item_props.prop_value', v)))),
    );
  }
  return q.orderBy('items.repo').orderBy('items.path').orderBy('items.name').limit(s.limit).execute();
}
