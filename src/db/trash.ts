import type { Kysely } from 'kysely';
import { ancestorsOf, MAX_PATH_LENGTH, nameOf, parentOf } from '../core/paths.js';
import { checkPropertyKey, checkPropertyValue, type PropertyValues } from '../core/properties.js';
import { retryConflicts } from './conflicts.js';
import { dialectOf, orUpdate } from './dialect.js';
import { deleteTree, ensureFolders, FolderConflict, fullPathOf, getItem, getProperties, pathKey, type Db, type ItemRow } from './items.js';
import type { Schema } from './schema.js';
import { belowPage, childrenPage, cursorOf, isEmptyBelow, Slicer, TREE_PAGE, type TreeCursor } from './tree.js';

/**
 * One relocation of a subtree to another repository and path, as metadata only: every item row
 * keeps its id, binary reference and properties and gets a new place (the trash can's
 * `{repo}/{path}` on a delete, the original or a chosen place on a restore). No binary is
 * copied, so reference counts do not move.
 */
export interface Relocation {
  fromRepo: string;
  fromPath: string;
  toRepo: string;
  toPath: string;
  user: string;
  now: number;
  /** Properties set on each moved item (each key's values replaced), from its original full path. */
  props(fromFullPath: string): PropertyValues;
  /** Property keys removed from each moved item. */
  drop: string[];
  /**
   * What stands at a target is replaced (the trash keeps the last thing deleted at a path);
   * otherwise a file in the way of a folder, or a folder in the way of a file, is a conflict.
   */
  replace: boolean;
  /** Records the trash time of each moved item (moves into the trash can). */
  trashedAt?: number;
  /** Drops the trash entries of the moved items' old places (moves out of the trash can). */
  dropEntries?: boolean;
  /** Asked before an item lands at a target (permission checks); `existing` is what stands there. */
  check?(toFullPath: string, row: ItemRow, existing: { type: string } | undefined): Promise<void>;
  /** Told, in each batch's transaction, the rows that landed at the target (their new places); event replication records them. */
  landed?(trx: Db, rows: ItemRow[]): Promise<void>;
}

/** A file stands where a folder is needed, or the other way round, and the relocation may not replace it. */
export class RelocationConflict extends Error {
  constructor(readonly path: string) {
    super(`'${path}' is in the way: a file and a folder cannot replace one another`);
  }
}

function join(a: string, b: string): string {
  return a === '' ? b : b === '' ? a : `${a}/${b}`;
}

/**
 * Moves the item at `fromPath` (a file, a folder with everything below it, or the repository
 * root '') to `toPath` in `toRepo`, in batches of at most `batch` rows, each its own short
 * transaction, deepest paths first as `deleteTreeInBatches` does: an interrupted move leaves a
 * smaller but whole tree at the source, and running it again finishes it. Folders merge with
 * folders already at the target. Returns how many items moved (0 when nothing is at `fromPath`).
 */
export async function relocateTree(db: Kysely<Schema>, rel: Relocation, batch = TREE_PAGE): Promise<number> {
  const self = rel.fromPath === '' ? undefined : await getItem(db, rel.fromRepo, rel.fromPath);
  if (rel.fromPath !== '' && !self) return 0;
  // A file moved to a repository's root keeps its name there.
  if (self?.type === 'file' && rel.toPath === '') rel = { ...rel, toPath: self.name };
  // Each batch is its own transaction, retried on a deadlock (two moves of one tree on MySQL):
  // a retry re-reads what is still at the source.
  const tx = <T>(work: (trx: Db) => Promise<T>) => retryConflicts(() => db.transaction().execute(work));
  if (self?.type === 'file') {
    return tx((trx) => moveRows(trx, rel, [self]));
  }
  const slicer = new Slicer();
  let moved = 0;
  for (;;) {
    for (const read of rel.fromPath === '' ? [belowPage] : [belowPage, childrenPage]) {
      let after: TreeCursor | undefined;
      for (let n = batch; n === batch; ) {
        const { page, count } = await tx(async (trx) => {
          const page = await read(trx, rel.fromRepo, rel.fromPath, after, batch, true);
          return { page, count: page.length > 0 ? await moveRows(trx, rel, page) : 0 };
        });
        n = page.length;
        after = n > 0 ? cursorOf(page[n - 1]) : after;
        moved += count;
        await slicer.tick();
      }
    }
    const done = await tx(async (trx) => {
      if (!(await isEmptyBelow(trx, rel.fromRepo, rel.fromPath))) return undefined;
      if (self && rel.toPath === '') {
        // A folder moved onto a repository's root: its content went there; the folder itself goes.
        if ((await stillThere(trx, rel.fromRepo, [self])).length === 0) return 0;
        await trx.deleteFrom('item_props').where('item_id', '=', Number(self.id)).execute();
        await trx.deleteFrom('items').where('id', '=', Number(self.id)).execute();
        return 1;
      }
      return self ? moveRows(trx, rel, [self]) : 0;
    });
    if (done !== undefined) return moved + done;
  }
}

/** The target folder exists (with its ancestors); a file in the way is deleted when the relocation replaces. */
async function ensureTarget(trx: Db, rel: Relocation, folder: string, ensured: Set<string>): Promise<void> {
  if (folder === '' || ensured.has(folder)) return;
  for (let attempt = 0; ; attempt++) {
    try {
      await ensureFolders(trx, rel.toRepo, folder, rel.user, rel.now, true);
      break;
    } catch (err) {
      if (!(err instanceof FolderConflict) || !rel.replace || attempt > ancestorsOf(folder).length) {
        throw err instanceof FolderConflict ? new RelocationConflict(`${rel.toRepo}/${err.path}`) : err;
      }
      await deleteTree(trx, rel.toRepo, err.path);
    }
  }
  for (let f = folder; f !== '' && !ensured.has(f); f = parentOf(f)) ensured.add(f);
}

/**
 * The rows still where they were read, locked (PostgreSQL and MySQL; SQLite has one writer):
 * a concurrent move of the same tree that committed first has taken the others, so each item
 * moves once.
 */
async function stillThere(trx: Db, repo: string, read: ItemRow[]): Promise<ItemRow[]> {
  const q = trx.selectFrom('items').select(['id', 'path_key']).where('id', 'in', read.map((r) => Number(r.id)));
  const current = await (dialectOf(trx) === 'sqlite' ? q : q.forUpdate()).execute();
  const keys = new Map(current.map((r) => [Number(r.id), r.path_key]));
  return read.filter((r) => keys.get(Number(r.id)) === pathKey(repo, fullPathOf(r)));
}

/** Moves the rows still at the source; returns how many. Target folders are made in the same transaction. */
async function moveRows(trx: Db, rel: Relocation, read: ItemRow[]): Promise<number> {
  const rows = await stillThere(trx, rel.fromRepo, read);
  if (rows.length === 0) return 0;
  if (rel.dropEntries) await trx.deleteFrom('trash_items').where('path_key', 'in', rows.map((r) => r.path_key)).execute();
  const ensured = new Set<string>();
  const base = rel.fromPath;
  const targetOf = (f: string) => join(rel.toPath, base === '' ? f : f.slice(base.length + 1));
  // The trash can's `{repo}/` prefix can take a path past the limit: such an item is deleted for good.
  const tooLong = rel.replace ? rows.filter((r) => targetOf(fullPathOf(r)).length > MAX_PATH_LENGTH) : [];
  for (const r of tooLong) {
    await trx.deleteFrom('item_props').where('item_id', '=', Number(r.id)).execute();
    await trx.deleteFrom('items').where('id', '=', Number(r.id)).execute();
  }
  if (tooLong.length > 0) rows.splice(0, rows.length, ...rows.filter((r) => !tooLong.includes(r)));
  if (rows.length === 0) return tooLong.length;
  const from = rows.map(fullPathOf);
  const to = from.map(targetOf);
  for (const t of new Set(to.map(parentOf))) await ensureTarget(trx, rel, t, ensured);
  const keys = to.map((t) => pathKey(rel.toRepo, t));
  const existing = new Map(
    (await trx.selectFrom('items').select(['id', 'path_key', 'type']).where('path_key', 'in', keys).execute()).map((r) => [r.path_key, r]),
  );
  const props = await getProperties(trx, rows.map((r) => Number(r.id)));
  const landed: ItemRow[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    const there = existing.get(keys[i]);
    await rel.check?.(to[i], row, there);
    const set = rel.props(from[i]);
    if (row.type === 'folder' && there?.type === 'folder') {
      // Merge: the folder at the target stays and takes this folder's properties.
      const merged: PropertyValues = { ...(props.get(Number(row.id)) ?? {}) };
      for (const k of rel.drop) delete merged[k];
      Object.assign(merged, set);
      await trx.deleteFrom('item_props').where('item_id', '=', Number(there.id)).execute();
      await insertProps(trx, Number(there.id), merged);
      await trx.deleteFrom('item_props').where('item_id', '=', Number(row.id)).execute();
      await trx.deleteFrom('items').where('id', '=', Number(row.id)).execute();
    } else {
      if (there) {
        if (!rel.replace && (there.type === 'folder' || row.type === 'folder')) throw new RelocationConflict(`${rel.toRepo}/${to[i]}`);
        await deleteTree(trx, rel.toRepo, to[i]);
      }
      await trx.updateTable('items').set({ repo: rel.toRepo, path: parentOf(to[i]), path_key: keys[i] }).where('id', '=', Number(row.id)).execute();
      const dropKeys = [...new Set([...rel.drop, ...Object.keys(set)])];
      if (dropKeys.length > 0) await trx.deleteFrom('item_props').where('item_id', '=', Number(row.id)).where('prop_key', 'in', dropKeys).execute();
      await insertProps(trx, Number(row.id), set);
      landed.push({ ...row, repo: rel.toRepo, path: parentOf(to[i]), name: nameOf(to[i]), path_key: keys[i] });
    }
    if (rel.trashedAt !== undefined) {
      await orUpdate(trx, trx.insertInto('trash_items').values({ path_key: keys[i], trashed_at: rel.trashedAt }), 'path_key', { trashed_at: rel.trashedAt }).execute();
    }
  }
  if (landed.length > 0) await rel.landed?.(trx, landed);
  return rows.length + tooLong.length;
}

async function insertProps(trx: Db, itemId: number, props: PropertyValues): Promise<void> {
  const values = Object.keys(props).flatMap((k) => {
    checkPropertyKey(k);
    return props[k].map((v) => ({ item_id: itemId, prop_key: k, prop_value: checkPropertyValue(v) }));
  });
  if (values.length > 0) await trx.insertInto('item_props').values(values).execute();
}

/** Trash entries older than `cutoff`, oldest first (the `trash_items_time` index). */
export function expiredEntries(db: Db, cutoff: number, limit: number): Promise<{ path_key: string; trashed_at: number }[]> {
  return db
    .selectFrom('trash_items')
    .select(['path_key', 'trashed_at'])
    .where('trashed_at', '<', cutoff)
    .orderBy('trashed_at')
    .orderBy('path_key')
    .limit(limit)
    .execute();
}

/**
 * Deletes what the expired entries name in `trashRepo`: files, and folders with nothing left
 * below them (a folder that still holds items keeps them until their own entries expire). Then
 * the emptied ancestors go, up to the trash root. Returns the files and folders deleted.
 */
export async function pruneEntries(trx: Db, trashRepo: string, found: { path_key: string }[], cutoff: number): Promise<{ files: number; folders: number }> {
  const out = { files: 0, folders: 0 };
  if (found.length === 0) return out;
  // Locked and read again: a path trashed again since (a newer time) is not pruned.
  const q = trx.selectFrom('trash_items').select('path_key').where('path_key', 'in', found.map((e) => e.path_key)).where('trashed_at', '<', cutoff);
  const keys = (await (dialectOf(trx) === 'sqlite' ? q : q.forUpdate()).execute()).map((e) => e.path_key);
  if (keys.length === 0) return out;
  const items = await trx.selectFrom('items').selectAll().where('path_key', 'in', keys).execute();
  const parents = new Set<string>();
  for (const item of items) {
    if (item.repo !== trashRepo) continue;
    const full = fullPathOf(item);
    if (item.type === 'folder' && !(await isEmptyBelow(trx, trashRepo, full))) continue;
    await trx.deleteFrom('item_props').where('item_id', '=', Number(item.id)).execute();
    await trx.deleteFrom('items').where('id', '=', Number(item.id)).execute();
    if (item.type === 'file') out.files++;
    else out.folders++;
    if (item.path !== '') parents.add(item.path);
  }
  await trx.deleteFrom('trash_items').where('path_key', 'in', keys).execute();
  // Deepest first, so a parent is looked at after its emptied children.
  for (const start of [...parents].sort((a, b) => b.length - a.length)) {
    for (let f = start; f !== ''; f = parentOf(f)) {
      const row = await getItem(trx, trashRepo, f);
      if (!row || row.type !== 'folder' || !(await isEmptyBelow(trx, trashRepo, f))) break;
      await trx.deleteFrom('item_props').where('item_id', '=', Number(row.id)).execute();
      await trx.deleteFrom('items').where('id', '=', Number(row.id)).execute();
      out.folders++;
    }
  }
  return out;
}
