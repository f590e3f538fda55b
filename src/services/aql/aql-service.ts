import { Readable } from 'node:stream';
import { sql, type Expression, type SqlBool } from 'kysely';
import { isoDate } from '../../core/clock.js';
import type { Database, DialectName } from '../../db/database.js';
import { fullPathOf, getProperties, type ItemRow } from '../../db/items.js';
import { Slicer } from '../../db/tree.js';
import type { Access } from '../../security/access.js';
import type { DownloadStats } from '../download-stats.js';
import { repositoriesReadableBy, type RepoConfig, type RepositoryService } from '../repositories.js';
import { archiveEntriesOf } from '../archives/archive-index.js';
import { bad, compileCriteria, itemField, statField, unsupported } from './compile.js';
import { parseAql, type AqlQuery } from './parse.js';

/**
 * `POST /api/search/aql` of the `items` domain (REST-API.md §4, §11): the query compiled to SQL
 * (compile.ts), read in pages of PAGE rows in a stable order, filtered by the caller's read
 * permission, and streamed as `{"results":[…],"range":{…}}`. Like Artifactory's streamed
 * answer, `range.total` is the number of results sent, known once they are.
 *
 * Bounds: a non-administrator gets at most `userQueryLimit` results (the seed's
 * `artifactory.search.userQueryLimit`, default 1,000; `range.notification` says when results
 * were cut), and reading stops once that many rows were examined for permission without
 * filling it (SCAN_FACTOR times the limit), so a caller who may read little cannot make the
 * node read a whole repository. An administrator's results are not cut.
 */

const PAGE = 500;
const SCAN_FACTOR = 100;
export const DEFAULT_USER_QUERY_LIMIT = 1000;

const DEFAULT_FIELDS = ['repo', 'path', 'name', 'type', 'size', 'created', 'created_by', 'modified', 'modified_by', 'updated'];
const ALL_FIELDS = [...DEFAULT_FIELDS, 'depth', 'actual_md5', 'actual_sha1', 'original_md5', 'original_sha1', 'sha256'];

interface Output {
  /** Include `stats` (download statistics). */
  stats?: boolean;
  /** Include `archives` (the indexed entries of archives). */
  archives?: boolean;
  fields: string[];
  /** Include properties: all of them (true) or these keys. */
  properties: true | Set<string> | undefined;
}

/** What `.include(…)` asks for. With no item field named, repo, path and name are given (the caller needs them to use a result). */
export function outputOf(include: string[] | undefined): Output {
  if (include === undefined) return { fields: DEFAULT_FIELDS, properties: undefined };
  const fields: string[] = [];
  let properties: Output['properties'];
  let stats = false;
  let archives = false;
  const add = (f: string) => {
    if (!fields.includes(f)) fields.push(f);
  };
  for (const raw of include) {
    const f = raw.startsWith('item.') ? raw.slice(5) : raw;
    if (f === '*') ALL_FIELDS.forEach(add);
    else if (f === 'property' || f === 'property.*' || f === 'property.key' || f === 'property.value') properties = true;
    else if (f === 'stat' || f === 'stat.*' || statField(f)) stats = true;
    else if (f === 'archive' || f === 'archive.entry' || f === 'archive.*' || f.startsWith('archive.entry.')) archives = true;
    else if (f.startsWith('@') && f.length > 1) {
      if (properties === undefined) properties = new Set();
      if (properties !== true) properties.add(f.slice(1));
    } else if (itemField(f)) add(f);
    else throw unsupported(f) ?? bad(`unknown field '${raw}' in include`);
  }
  if (fields.length === 0) ['repo', 'path', 'name'].forEach(add);
  return { fields, properties, stats, archives };
}

function depthOf(row: ItemRow): number {
  return row.path === '' ? 1 : row.path.split('/').length + 1;
}

function fieldValue(row: ItemRow, field: string): unknown {
  switch (field) {
    case 'path':
      return row.path === '' ? '.' : row.path;
    case 'size':
      return Number(row.size);
    case 'created':
    case 'modified':
    case 'updated':
      return isoDate(Number(row[field]));
    case 'depth':
      return depthOf(row);
    case 'actual_sha1':
      return row.sha1;
    case 'actual_md5':
      return row.md5;
    default:
      return row[field as keyof ItemRow];
  }
}

/**
 * The rows after `row` in the order of `keys`: one row-value comparison, `(k1, k2, …) > (v1,
 * v2, …)`, on SQLite and PostgreSQL (a range of the index whose prefix the keys are); on MySQL,
 * whose optimizer does not make a range of it, spelled out as ORs of equal prefixes.
 */
function resumeAfter(dialect: DialectName, keys: SortKey[], row: ItemRow, desc: boolean): Expression<SqlBool> {
  const cmp = sql.raw(desc ? '<' : '>');
  if (dialect !== 'mysql') {
    return sql<SqlBool>`(${sql.join(keys.map((k) => k.column))}) ${cmp} (${sql.join(keys.map((k) => row[k.prop]))})`;
  }
  const terms: Expression<SqlBool>[] = [];
  for (let i = 0; i < keys.length; i++) {
    const eq = keys.slice(0, i).map((k) => sql<SqlBool>`${k.column} = ${row[k.prop]}`);
    terms.push(sql<SqlBool>`(${sql.join([...eq, sql<SqlBool>`${keys[i].column} ${cmp} ${row[keys[i].prop]}`], sql` and `)})`);
  }
  return sql<SqlBool>`(${sql.join(terms, sql` or `)})`;
}

/** A sort column: its AQL field, its expression, the row property holding its value. */
type SortKey = { field: string; column: Expression<unknown>; prop: keyof ItemRow; nullable: boolean };
interface Order {
  keys: SortKey[];
  desc: boolean;
}

export class AqlService {
  constructor(
    private readonly database: Database,
    private readonly repos: Pick<RepositoryService, 'list'>,
    /** Download statistics of items (`include("stat")`). */
    private readonly downloads: Pick<DownloadStats, 'of'>,
    private readonly now: () => number = Date.now,
    private readonly userQueryLimit: () => number = () => DEFAULT_USER_QUERY_LIMIT,
  ) {}

  /** Runs the AQL `text` for `access`; the answer streams. Every syntax and field error is thrown before the first byte. */
  async run(access: Access, text: string): Promise<Readable> {
    const q = parseAql(text);
    const out = outputOf(q.include);
    const { where, typed } = compileCriteria(this.database.dialect, q.criteria, this.now());
    const order = this.orderOf(q);
    const admin = access.admin;
    const repos = admin ? undefined : await this.readable(access);
    const cap = admin ? undefined : this.userQueryLimit();
    const limit = q.limit === undefined ? cap : cap === undefined ? q.limit : Math.min(q.limit, cap);
    const conditions = [where];
    if (!typed) conditions.push(sql<SqlBool>`items.type = 'file'`);
    // An administrator's rows are all sent: a small limit reads no more than it needs.
    const pageSize = admin && q.limit !== undefined ? Math.max(1, Math.min(PAGE, q.limit)) : PAGE;
    const pages = this.pages(conditions, repos, order, admin ? q.offset : 0, pageSize);
    const first = await pages.next();
    return Readable.from(this.answer(access, q, out, repos, first, pages, limit, cap), { objectMode: false });
  }

  /**
   * The order pages are read in. With no `.sort()`: (repo, path, name), the order of the
   * `items_tree` index (path and name in its "C" collation on PostgreSQL), unique per
   * repository, so a keyset over it is exact (MySQL adds the id: its PAD SPACE collation
   * makes 'a' and 'a ' equal). A `.sort()` gets the id last, so the order is total.
   */
  private orderOf(q: AqlQuery): Order {
    const d = this.database.dialect;
    const key = (field: string): SortKey => {
      const f = itemField(field);
      if (!f) throw unsupported(field) ?? bad(`cannot sort by '${field}'`);
      if (field === 'depth') bad("cannot sort by 'depth'");
      const column = d === 'postgresql' && (field === 'path' || field === 'name') ? sql`${sql.ref(f.column)} collate "C"` : sql.ref(f.column);
      // Only the checksum columns can be null (a folder has none).
      return { field, column, prop: f.column.slice('items.'.length) as keyof ItemRow, nullable: f.kind === 'checksum' };
    };
    const fields = q.sort ? q.sort.fields.map((f) => (f.startsWith('item.') ? f.slice(5) : f)) : ['repo', 'path', 'name'];
    const keys = [...new Set(fields)].map(key);
    if (q.sort || d === 'mysql') keys.push({ field: 'id', column: sql.ref('items.id'), prop: 'id', nullable: false });
    return { keys, desc: q.sort?.direction === 'desc' };
  }

  /** The `stats` entries of items `ids`, as the seed writes them (times as ISO dates). */
  private async statsOf(ids: number[]): Promise<Map<number, Record<string, unknown>>> {
    const out = new Map<number, Record<string, unknown>>();
    for (const [id, r] of await this.downloads.of(ids)) {
      const e: Record<string, unknown> = { downloads: r.downloads };
      if (r.lastDownloaded !== undefined) e.downloaded = isoDate(r.lastDownloaded);
      if (r.lastDownloadedBy !== undefined) e.downloaded_by = r.lastDownloadedBy;
      e.remote_downloads = r.remoteDownloads;
      if (r.remoteLastDownloaded !== undefined) e.remote_downloaded = isoDate(r.remoteLastDownloaded);
      out.set(id, e);
    }
    return out;
  }

  /** The repositories whose items a non-administrator may see some of, by key. */
  private async readable(access: Access): Promise<Map<string, RepoConfig>> {
    return new Map((await repositoriesReadableBy(access, this.repos)).map((r) => [r.key, r]));
  }

  /**
   * The matching rows in pages, in the sort order (`id` last, so the order is total). Each page
   * resumes after the last row of the one before (a keyset), unless a sort column can be null,
   * where it resumes by row offset. `skip` rows are skipped by the database first.
   */
  private async *pages(conditions: Expression<SqlBool>[], repos: Map<string, RepoConfig> | undefined, order: Order, skip: number, pageSize: number): AsyncGenerator<ItemRow[]> {
    if (repos && repos.size === 0) return;
    const { keys, desc } = order;
    const keyset = keys.every((k) => !k.nullable);
    const slicer = new Slicer();
    let after: ItemRow | undefined;
    let offset = skip;
    for (;;) {
      let q = this.database.db.selectFrom('items').selectAll();
      for (const c of conditions) q = q.where(c);
      if (repos) q = q.where('items.repo', 'in', [...repos.keys()]);
      if (after && keyset) q = q.where(resumeAfter(this.database.dialect, keys, after, desc));
      for (const k of keys) q = q.orderBy(k.column, desc ? 'desc' : 'asc');
      q = q.limit(pageSize);
      if (offset > 0) q = q.offset(offset);
      const rows = await q.execute();
      if (rows.length > 0) yield rows;
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1];
      offset = keyset ? 0 : offset + rows.length;
      await slicer.tick();
    }
  }

  private async *answer(
    access: Access,
    q: AqlQuery,
    out: Output,
    repos: Map<string, RepoConfig> | undefined,
    first: IteratorResult<ItemRow[]>,
    rest: AsyncGenerator<ItemRow[]>,
    limit: number | undefined,
    cap: number | undefined,
  ): AsyncGenerator<string> {
    yield '{\n"results" : [ ';
    let sent = 0;
    let skipped = 0;
    let examined = 0;
    let trimmed = false;
    const capBound = cap !== undefined && (q.limit === undefined || q.limit > cap);
    let page = first;
    try {
      while (!page.done) {
        let rows = page.value;
        if (repos) {
          const visible: ItemRow[] = [];
          for (const r of rows) {
            examined++;
            if (await access.can('read', repos.get(r.repo)!, fullPathOf(r))) visible.push(r);
          }
          rows = visible;
          // Offset and limit count what the caller may see.
          const drop = Math.min(rows.length, q.offset - skipped);
          skipped += drop;
          rows = rows.slice(drop);
        }
        let cut = false;
        if (limit !== undefined && sent + rows.length > limit) {
          rows = rows.slice(0, limit - sent);
          cut = true;
        }
        const props = out.properties && rows.length > 0 ? await getProperties(this.database.db, rows.map((r) => Number(r.id))) : undefined;
        const stats = out.stats && rows.length > 0 ? await this.statsOf(rows.map((r) => Number(r.id))) : undefined;
        const entries = out.archives && rows.length > 0 ? await archiveEntriesOf(this.database, rows.flatMap((r) => (r.sha1 ? [r.sha1] : []))) : undefined;
        const text = rows.map((r) => {
          const o: Record<string, unknown> = {};
          for (const f of out.fields) o[f] = fieldValue(r, f);
          if (props) {
            const all = props.get(Number(r.id)) ?? {};
            const list: { key: string; value: string }[] = [];
            for (const [key, values] of Object.entries(all)) {
              if (out.properties === true || out.properties!.has(key)) for (const value of values) list.push({ key, value });
            }
            if (list.length > 0) o.properties = list;
          }
          if (stats) o.stats = [stats.get(Number(r.id)) ?? { downloads: 0 }];
          const listed = entries && r.sha1 ? entries.get(r.sha1) : undefined;
          if (listed) o.archives = [{ entries: listed }];
          return JSON.stringify(o);
        });
        if (text.length > 0) yield (sent > 0 ? ',' : '') + text.join(',');
        sent += rows.length;
        if (limit !== undefined && sent >= limit) {
          // Cut by the hard limit (not by the caller's own): say so when more rows were there.
          if (capBound) trimmed = cut || !(await rest.next()).done;
          break;
        }
        if (cap !== undefined && examined >= cap * SCAN_FACTOR) {
          trimmed = true;
          break;
        }
        page = await rest.next();
      }
    } finally {
      await rest.return(undefined);
    }
    const range: Record<string, unknown> = { start_pos: q.offset, end_pos: q.offset + sent, total: sent };
    if (q.limit !== undefined || trimmed) range.limit = limit;
    if (trimmed) range.notification = 'AQL query reached the search hard limit, results are trimmed.';
    yield ` ],\n"range" : ${JSON.stringify(range)}\n}\n`;
  }
}

