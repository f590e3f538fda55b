import { sql, type Expression, type Kysely, type Selectable, type SqlBool, type Transaction } from 'kysely';
import type { DialectName } from './database.js';
import { dialectOf } from './dialect.js';
import type { ItemsTable, Schema } from './schema.js';

// The row and handle types of items.ts, spelled out here because items.ts builds on this module.
type ItemRow = Selectable<ItemsTable>;
type Db = Kysely<Schema> | Transaction<Schema>;

/**
 * Walking a folder's subtree through the `items_tree` index on (repo, path, name), in pages of
 * bounded size, never by scanning the repository (migration 0011):
 *
 * - a folder's children are `path = folder`, in name order, resumed after the last name seen;
 * - the subtree strictly below `folder` is the range `folder/ <= path < folder0` ('0' is the
 *   character after '/'), in (path, name) order, resumed after the last (path, name) seen.
 *
 * Names and paths compare as bytes: SQLite's BINARY collation, MySQL/MariaDB's utf8mb4_bin and,
 * on PostgreSQL, an explicit "C" collation (the index's). MySQL's utf8mb4_bin ignores trailing
 * spaces when it compares, so there the id breaks ties. Between reads the walkers let the event
 * loop run (better-sqlite3 answers synchronously, so a long walk would otherwise hold it).
 */

/** Rows per read; also the size of the pages the walkers yield. */
export const TREE_PAGE = 500;
/** The longest a walker keeps the event loop before letting other work run. */
const SLICE_MS = 2;
/** A turn of the loop that took this long means other requests are being served. */
const OTHERS_BUSY_MS = 0.2;
/** How long after seeing other work a walker keeps deferring to it. */
const BUSY_MEMORY_MS = 100;
/** While others are busy, a walker takes at most 1 / (1 + DEFER) of the loop's time. */
const DEFER = 4;

type Col = 'path' | 'name';

function col(d: DialectName, c: Col): Expression<string> {
  return d === 'postgresql' ? sql<string>`${sql.ref(c)} collate "C"` : sql<string>`${sql.ref(c)}`;
}

/**
 * The rows of `repo` at any depth below `folder` ('' = the whole repository) as a condition for
 * other queries: the folder's children and the path range below them, both ranges of the
 * `items_tree` index.
 */
export function subtreeOf(d: DialectName, repo: string, folder: string): Expression<SqlBool> {
  if (folder === '') return sql<SqlBool>`${sql.ref('items.repo')} = ${repo}`;
  const path = col(d, 'path');
  return sql<SqlBool>`(${sql.ref('items.repo')} = ${repo} and (${path} = ${folder} or (${path} >= ${`${folder}/`} and ${path} < ${`${folder}0`})))`;
}

/** A position in a listing: the last row seen. */
export interface TreeCursor {
  path: string;
  name: string;
  id: number;
}

export function cursorOf(row: ItemRow): TreeCursor {
  return { path: row.path, name: row.name, id: Number(row.id) };
}

/** How a walk shares its thread between reads: `tick` between two reads, awaited. */
export interface Pace {
  tick(): Promise<void>;
}

/**
 * A walk that has its thread to itself (the listing thread, services/listing/) reads without
 * pausing; the thread's own job loop takes turns between pages.
 */
export const UNPACED: Pace = { tick: async () => undefined };

/**
 * Shares the event loop between a long walk and the short requests around it. After SLICE_MS
 * of work the walk gives the loop a turn (`setImmediate`). If that turn shows other work (or did
 * recently), the walk also waits DEFER times as long as it worked, so requests that need several
 * turns each (a GET reads, looks up, opens, streams) keep most of the loop: a walk alone runs at
 * full speed, a walk beside busy traffic at about a fifth of it.
 */
export class Slicer implements Pace {
  private since = performance.now();
  private busyAt = -Infinity;
  async tick(): Promise<void> {
    const start = performance.now();
    const worked = start - this.since;
    if (worked < SLICE_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    const now = performance.now();
    if (now - start > OTHERS_BUSY_MS) this.busyAt = now;
    if (now - this.busyAt < BUSY_MEMORY_MS) {
      const wait = Math.min(DEFER * worked - (now - start), 50);
      if (wait >= 1) await new Promise<void>((resolve) => setTimeout(resolve, wait));
    }
    this.since = performance.now();
  }
}

/** Up to `limit` children of `folder`, in name order, after `after` (a cursor in the same folder). */
export function childrenPage(db: Db, repo: string, folder: string, after: TreeCursor | undefined, limit: number, desc = false): Promise<ItemRow[]> {
  return childrenQuery(db, repo, folder, after, limit, desc).execute();
}

/** The query of `childrenPage` (tests explain it). */
export function childrenQuery(db: Db, repo: string, folder: string, after: TreeCursor | undefined, limit: number, desc = false) {
  const d = dialectOf(db);
  const name = col(d, 'name');
  const cmp = desc ? '<' : '>';
  let q = db.selectFrom('items').selectAll().where('repo', '=', repo).where(col(d, 'path'), '=', folder);
  if (after) {
    q =
      d === 'mysql'
        ? q.where((eb) => eb.or([eb('name', cmp, after.name), eb.and([eb('name', '=', after.name), eb('id', cmp, after.id)])]))
        : q.where(name, cmp, after.name);
  }
  const dir = desc ? 'desc' : 'asc';
  q = q.orderBy(name, dir);
  if (d === 'mysql') q = q.orderBy('id', dir);
  return q.limit(limit);
}

/** Up to `limit` rows strictly below `folder` ('' = the whole repository), in (path, name) order, after `after`. */
export function belowPage(db: Db, repo: string, folder: string, after: TreeCursor | undefined, limit: number, desc = false): Promise<ItemRow[]> {
  return belowQuery(db, repo, folder, after, limit, desc).execute();
}

/** The query of `belowPage` (tests explain it). */
export function belowQuery(db: Db, repo: string, folder: string, after: TreeCursor | undefined, limit: number, desc = false) {
  const d = dialectOf(db);
  const path = col(d, 'path');
  const name = col(d, 'name');
  const cmp = desc ? '<' : '>';
  let q = db.selectFrom('items').selectAll().where('repo', '=', repo);
  if (folder !== '') q = q.where(path, '>=', `${folder}/`).where(path, '<', `${folder}0`);
  if (after) {
    if (d === 'mysql') {
      q = q.where((eb) =>
        eb.or([
          eb('path', cmp, after.path),
          eb.and([eb('path', '=', after.path), eb('name', cmp, after.name)]),
          eb.and([eb('path', '=', after.path), eb('name', '=', after.name), eb('id', cmp, after.id)]),
        ]),
      );
    } else {
      // A row-value comparison: one range of the index.
      q = q.where(sql<boolean>`(${path}, ${name}) ${sql.raw(cmp)} (${after.path}, ${after.name})`);
    }
  }
  const dir = desc ? 'desc' : 'asc';
  q = q.orderBy(path, dir).orderBy(name, dir);
  if (d === 'mysql') q = q.orderBy('id', dir);
  return q.limit(limit);
}

/**
 * Everything strictly below `folder` ('' = the repository root), in (path, name) order, in
 * pages of at most `pageSize` rows: the folder's children, then the range of paths below it.
 */
export async function* descendantPages(db: Db, repo: string, folder: string, pageSize = TREE_PAGE): AsyncGenerator<ItemRow[]> {
  const slicer = new Slicer();
  for (const read of folder === '' ? [belowPage] : [childrenPage, belowPage]) {
    let after: TreeCursor | undefined;
    for (;;) {
      const rows = await read(db, repo, folder, after, pageSize);
      if (rows.length > 0) yield rows;
      if (rows.length < pageSize) break;
      after = cursorOf(rows[rows.length - 1]);
      await slicer.tick();
    }
  }
}

interface Frame {
  folder: string;
  /** Depth of this folder's children below the walk's start (1 = its children). */
  depth: number;
  rows: ItemRow[];
  next: number;
  more: boolean;
}

/**
 * The items below `folder` down to `maxDepth` levels (1 = its children), in tree order: depth
 * first, each folder's children by name, a folder directly followed by its content. Yields
 * pages of at most `pageSize` rows; holds at most one page of children per level of the tree.
 * `pace` decides how the walk shares its thread (by default the event loop: a Slicer).
 */
export async function* walkTree(db: Db, repo: string, folder: string, maxDepth = Infinity, pageSize = TREE_PAGE, pace: Pace = new Slicer()): AsyncGenerator<ItemRow[]> {
  if (maxDepth < 1) return;
  const open = async (f: string, depth: number, after?: TreeCursor): Promise<Frame> => {
    const rows = await childrenPage(db, repo, f, after, pageSize);
    await pace.tick();
    return { folder: f, depth, rows, next: 0, more: rows.length === pageSize };
  };
  const stack: Frame[] = [await open(folder, 1)];
  let out: ItemRow[] = [];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.next >= top.rows.length) {
      stack.pop();
      if (top.more) stack.push(await open(top.folder, top.depth, cursorOf(top.rows[top.rows.length - 1])));
      continue;
    }
    const row = top.rows[top.next++];
    out.push(row);
    if (out.length >= pageSize) {
      yield out;
      out = [];
    }
    if (row.type === 'folder' && top.depth < maxDepth) {
      stack.push(await open(row.path === '' ? row.name : `${row.path}/${row.name}`, top.depth + 1));
    }
  }
  if (out.length > 0) yield out;
}

/** True when nothing is below `folder`. */
export async function isEmptyBelow(db: Db, repo: string, folder: string): Promise<boolean> {
  return (await childrenPage(db, repo, folder, undefined, 1)).length === 0 && (await belowPage(db, repo, folder, undefined, 1)).length === 0;
}
