import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { MD5_PENDING, sha1Hex } from '../core/digests.js';
import { ancestorsOf, checkItemPath, nameOf, parentOf } from '../core/paths.js';
import { checkPropertyKey, checkPropertyValue, valuesOf } from '../core/properties.js';
import type { Database } from './database.js';
import { orIgnore } from './dialect.js';
import type { BinariesTable, ItemsTable, Schema } from './schema.js';
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

/** Parent folders asked for in one query of a level-by-level listing. */
const LEVEL_BATCH = 500;

/**
 * Items below `folder` down to `depth` levels (1 = its children), found level by level
 * through the (repo, path) index: each level asks for the children of the folders of the
 * level above, so the cost follows what is returned, never the rest of the subtree (a
 * repository root at depth 1 reads its children only). Unordered.
 */
export async function listToDepth(db: Db, repo: string, folder: string, depth: number): Promise<ItemRow[]> {
  const out: ItemRow[] = [];
  let parents = [folder];
  for (let level = 1; level <= depth && parents.length > 0; level++) {
    const next: string[] = [];
    for (let i = 0; i < parents.length; i += LEVEL_BATCH) {
      const rows = await db.selectFrom('items').selectAll().where('repo', '=', repo).where('path', 'in', parents.slice(i, i + LEVEL_BATCH)).execute();
      for (const r of rows) {
        out.push(r);
        if (r.type === 'folder') next.push(fullPathOf(r));
      }
    }
    parents = next;
  }
  return out;
}

/** Items strictly below `folder` (every depth), ordered by path. */
export async function listDescendants(db: Db, repo: string, folder: string): Promise<ItemRow[]> {
  let q = db.selectFrom('items').selectAll().where('repo', '=', repo);
  if (folder !== '') {
    const prefix = `${folder}/`;
    q = q.where((eb) =>
      eb.or([eb('path', '=', folder), eb(sql<string>`substr(path, 1, ${prefix.length})`, '=', prefix)]),
    );
  }
  return q.orderBy('path').orderBy('name').execute();
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
  if (previous) {
    await db.updateTable('items').set(values).where('id', '=', previous.id).execute();
    await db.deleteFrom('item_props').where('item_id', '=', previous.id).execute();
  } else {
    await db
      .insertInto('items')
      .values({ ...values, path_key: key, repo: f.repo, path: parentOf(f.fullPath), name: nameOf(f.fullPath), type: 'file' })
      .execute();
  }
  const row = await db.selectFrom('items').selectAll().where('path_key', '=', key).executeTakeFirstOrThrow();
  return { row, replaced: previous };
}

/** Deletes an item and, for a folder, everything below it. Returns the deleted rows. */
export async function deleteTree(db: Db, repo: string, fullPath: string): Promise<ItemRow[]> {
  const self = await getItem(db, repo, fullPath);
  const rows: ItemRow[] = [];
  if (fullPath === '') rows.push(...(await listDescendants(db, repo, '')));
  else if (self) {
    rows.push(self);
    if (self.type === 'folder') rows.push(...(await listDescendants(db, repo, fullPath)));
  }
  const ids = rows.map((r) => r.id);
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    await db.deleteFrom('item_props').where('item_id', 'in', chunk).execute();
    await db.deleteFrom('items').where('id', 'in', chunk).execute();
  }
  return rows;
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
