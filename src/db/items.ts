import { type Kysely, type Selectable, type Transaction } from 'kysely';
import { MD5_PENDING, sha1Hex } from '../core/digests.js';
import { ancestorsOf, checkItemPath, nameOf, parentOf } from '../core/paths.js';
import { checkPropertyKey, checkPropertyValue, valuesOf } from '../core/properties.js';
import type { Database } from './database.js';
import { dialectOf, orIgnore } from './dialect.js';
import type { BinariesTable, ItemsTable, Schema } from './schema.js';
import { belowPage, childrenPage, cursorOf, descendantPages, isEmptyBelow, Slicer, TREE_PAGE, type TreeCursor } from './tree.js';
import type { PropertyValues } from '../core/properties.js';

export type ItemRow = Selectable<ItemsTable>;
export type BinaryRow = Selectable<BinariesTable>;
export type Db = Kysely<Schema> | Transaction<Schema>;
/** Property values by key, as the items store them (the core type). */
export type PropertyMap = PropertyValues;

/** The unique key of an item: sha1 of `repo \0 path`, one column every dialect indexes well. */
export function pathKey(repo: string, fullPath: string): string {
  return sha1Hex(`${repo}\u0000${fullPath}`);
}

export function fullPathOf(row: Pick<ItemRow, 'path' | 'name'>): string {
  return row.path === '' ? row.name : `${row.path}/${row.name}`;
}

export async function getItem(db: Db, repo: string, fullPath: string): Promise<ItemRow | undefined> {
  return db.selectFrom('items').selectAll().where('path_key', '=', pathKey(repo, fullPath)).executeTakeFirst();
}

/** The same lookup outside a transaction, on the dialect's prepared statement (hot path). */
export function findItem(database: Database, repo: string, fullPath: string): Promise<ItemRow | undefined> {
  return database.itemByKey(pathKey(repo, fullPath));
}

export async function listChildren(db: Db, repo: string, folder: string): Promise<ItemRow[]> {
  return db.selectFrom('items').selectAll().where('repo', '=', repo).where('path', '=', folder).orderBy('name').execute();
}

/**
 * Items strictly below `folder` (every depth), ordered by path then name (bytes), read in pages
 * through the (repo, path, name) index (src/db/tree.ts). For callers that need the subtree in
 * memory; a listing streams `walkTree` or `descendantPages` instead.
 */
export async function listDescendants(db: Db, repo: string, folder: string): Promise<ItemRow[]> {
  const out: ItemRow[] = [];
  for await (const page of descendantPages(db, repo, folder)) out.push(...page);
  return out;
}

/** Creates the missing ancestor folders of `fullPath` (and the path itself when `includeSelf`). */
export async function ensureFolders(db: Db, repo: string, fullPath: string, user: string, now: number, includeSelf = false): Promise<void> {
  if (fullPath !== '') checkItemPath(fullPath);
  const folders = ancestorsOf(fullPath);
  if (includeSelf && fullPath !== '') folders.push(fullPath);
  if (folders.length === 0) return;
  const keys = folders.map((f) => pathKey(repo, f));
  const existing = await db.selectFrom('items').select(['path_key', 'type']).where('path_key', 'in', keys).execute();
  const byKey = new Map(existing.map((r) => [r.path_key, r.type]));
  for (let i = 0; i < folders.length; i++) {
    const type = byKey.get(keys[i]);
    if (type === 'file') return Promise.reject(new FolderConflict(folders[i]));
    if (type === 'folder') continue;
    const insert = db
      .insertInto('items')
      .values({
        path_key: keys[i],
        repo,
        path: parentOf(folders[i]),
        name: nameOf(folders[i]),
        type: 'folder',
        size: 0,
        created: now,
        created_by: user,
        modified: now,
        modified_by: user,
        updated: now,
      });
    await orIgnore(db, insert, 'path_key').execute();
  }
}

/** Thrown when a folder is needed where a file stands (or the other way round). */
export class FolderConflict extends Error {
  constructor(readonly path: string) {
    super(`'${path}' is a file where a folder is needed`);
  }
}

export interface NewFile {
  repo: string;
  fullPath: string;
  binary: { sha1: string; sha256: string; md5: string; size: number };
  original: { sha1?: string; sha256?: string; md5?: string };
  mimeType: string;
  user: string;
  now: number;
}

/** Inserts or replaces a file item. Properties of a replaced file are dropped. */
export async function putFile(db: Db, f: NewFile): Promise<{ row: ItemRow; replaced: ItemRow | undefined }> {
  checkItemPath(f.fullPath);
  const key = pathKey(f.repo, f.fullPath);
  const previous = await db.selectFrom('items').selectAll().where('path_key', '=', key).executeTakeFirst();
  if (previous?.type === 'folder') throw new FolderConflict(f.fullPath);
  // A binary staged without an MD5 may have got it from the backfill since the caller read it
  // (the caller holds the binaries row lock, so the backfill's update of items comes after ours).
  const md5 =
    f.binary.md5 === MD5_PENDING
      ? ((await db.selectFrom('binaries').select('md5').where('sha1', '=', f.binary.sha1).executeTakeFirst())?.md5 ?? MD5_PENDING)
      : f.binary.md5;
  const values = {
    sha1: f.binary.sha1,
    sha256: f.binary.sha256,
    md5,
    size: f.binary.size,
    original_sha1: f.original.sha1 ?? null,
    original_sha256: f.original.sha256 ?? null,
    original_md5: f.original.md5 ?? null,
    mime_type: f.mimeType,
    created: f.now,
    created_by: f.user,
    modified: f.now,
    modified_by: f.user,
    updated: f.now,
  };
  // PostgreSQL and SQLite hand the written row back; MySQL reads it again.
  const returns = dialectOf(db) !== 'mysql';
  let row: ItemRow | undefined;
  if (previous) {
    const update = db.updateTable('items').set(values).where('id', '=', previous.id);
    row = returns ? await update.returningAll().executeTakeFirstOrThrow() : (await update.execute(), undefined);
    await db.deleteFrom('item_props').where('item_id', '=', previous.id).execute();
  } else {
    const insert = db.insertInto('items').values({ ...values, path_key: key, repo: f.repo, path: parentOf(f.fullPath), name: nameOf(f.fullPath), type: 'file' });
    row = returns ? await insert.returningAll().executeTakeFirstOrThrow() : (await insert.execute(), undefined);
  }
  row ??= await db.selectFrom('items').selectAll().where('path_key', '=', key).executeTakeFirstOrThrow();
  return { row, replaced: previous };
}

/**
 * Deletes an item and, for a folder, everything below it, inside the caller's transaction.
 * Returns the deleted rows. For the small trees a format removes with other changes (a package
 * version, an upload); a user's folder delete uses `deleteTreeInBatches`.
 */
export async function deleteTree(db: Db, repo: string, fullPath: string): Promise<ItemRow[]> {
  const self = fullPath === '' ? undefined : await getItem(db, repo, fullPath);
  const rows: ItemRow[] = [];
  if (self) rows.push(self);
  if (fullPath === '' || self?.type === 'folder') rows.push(...(await listDescendants(db, repo, fullPath)));
  for (let i = 0; i < rows.length; i += TREE_PAGE) await deleteRows(db, rows.slice(i, i + TREE_PAGE).map((r) => r.id));
  return rows;
}

async function deleteRows(db: Db, ids: number[]): Promise<void> {
  await db.deleteFrom('item_props').where('item_id', 'in', ids).execute();
  await db.deleteFrom('items').where('id', 'in', ids).execute();
}

/**
 * Deletes an item and, for a folder (or the repository root, ''), everything below it, in
 * batches of at most `batch` rows, each its own short transaction: no transaction holds the
 * write lock for work proportional to the folder. Deepest paths go first (a path sorts after
 * its parent's), so an interrupted delete leaves a smaller but whole tree, and running it again
 * finishes it. The folder itself goes last, in a transaction that first finds nothing below it:
 * what a deploy put into the folder meanwhile is deleted too (the walk starts again), and a
 * deploy after that recreates the folder. Returns how many items were deleted.
 */
export async function deleteTreeInBatches(db: Kysely<Schema>, repo: string, fullPath: string, batch = TREE_PAGE): Promise<number> {
  const self = fullPath === '' ? undefined : await getItem(db, repo, fullPath);
  if (self?.type === 'file') return (await db.transaction().execute((trx) => deleteTree(trx, repo, fullPath))).length;
  if (fullPath !== '' && !self) return 0;
  const slicer = new Slicer();
  let deleted = 0;
  for (;;) {
    // From the deepest paths up: the range below the folder, then its children.
    for (const read of fullPath === '' ? [belowPage] : [belowPage, childrenPage]) {
      let after: TreeCursor | undefined;
      for (let n = batch; n === batch; ) {
        n = await db.transaction().execute(async (trx) => {
          const rows = await read(trx, repo, fullPath, after, batch, true);
          if (rows.length > 0) await deleteRows(trx, rows.map((r) => r.id));
          after = rows.length > 0 ? cursorOf(rows[rows.length - 1]) : after;
          return rows.length;
        });
        deleted += n;
        await slicer.tick();
      }
    }
    const done = await db.transaction().execute(async (trx) => {
      if (!(await isEmptyBelow(trx, repo, fullPath))) return false;
      if (self) await deleteRows(trx, [self.id]);
      return true;
    });
    if (done) return deleted + (self ? 1 : 0);
  }
}

export async function getProperties(db: Db, itemIds: number[]): Promise<Map<number, PropertyMap>> {
  const out = new Map<number, PropertyMap>();
  for (let i = 0; i < itemIds.length; i += 500) {
    const rows = await db
      .selectFrom('item_props')
      .select(['item_id', 'prop_key', 'prop_value'])
      .where('item_id', 'in', itemIds.slice(i, i + 500))
      .orderBy('id')
      .execute();
    for (const r of rows) {
      const m = out.get(r.item_id) ?? {};
      valuesOf(m, r.prop_key).push(r.prop_value);
      out.set(r.item_id, m);
    }
  }
  return out;
}

/** Sets properties on an item; each given key's values replace the old ones. */
export async function setProperties(db: Db, itemId: number, props: PropertyMap): Promise<void> {
  const keys = Object.keys(props);
  if (keys.length === 0) return;
  for (const k of keys) props[checkPropertyKey(k)].forEach(checkPropertyValue);
  await db.deleteFrom('item_props').where('item_id', '=', itemId).where('prop_key', 'in', keys).execute();
  const values = keys.flatMap((k) => props[k].map((v) => ({ item_id: itemId, prop_key: k, prop_value: v })));
  if (values.length > 0) await db.insertInto('item_props').values(values).execute();
}

export async function deleteProperties(db: Db, itemId: number, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await db.deleteFrom('item_props').where('item_id', '=', itemId).where('prop_key', 'in', keys).execute();
}

export async function touchItem(db: Db, id: number, user: string, now: number): Promise<void> {
  await db.updateTable('items').set({ modified: now, modified_by: user, updated: now }).where('id', '=', id).execute();
}
