import type { Clock } from '../core/clock.js';
import { isoDate } from '../core/clock.js';
import { ArcaError } from '../core/errors.js';
import type { Database } from '../db/database.js';
import { fullPathOf, getItem, getProperties, listChildren, listDescendants, type ItemRow, type PropertyMap } from '../db/items.js';
import {
  deletePropertiesOn,
  idsWithProperties,
  markUpdated,
  newestFilesUnder,
  repoCreated,
  setPropertiesOn,
} from '../db/search-queries.js';
import type { Action } from '../security/types.js';
import { fileInfoJson, folderInfoJson, storageUri } from './item-info.js';
import type { RepoConfig } from './repositories.js';

/** May the caller do `action` at `path` of `repo`? Supplied by the HTTP layer (the caller's permissions). */
export type AccessCheck = (action: Action, repo: RepoConfig, path: string) => Promise<boolean>;

export interface ListOptions {
  deep: boolean;
  /** Levels below the folder to include with `deep` (1 = children only); undefined = all. */
  depth?: number;
  listFolders: boolean;
  mdTimestamps: boolean;
  includeRootPath: boolean;
}

export interface FileListEntry {
  uri: string;
  size: number;
  lastModified: string;
  folder: boolean;
  sha1?: string;
  sha2?: string;
  mdTimestamps?: { properties: string };
}

/** The item at a path: a row, or the repository root (no row). */
export type Located = { kind: 'root' } | { kind: 'item'; row: ItemRow };

const NEWEST_PAGE = 200;

function relativeTo(folder: string, row: ItemRow): string {
  const full = fullPathOf(row);
  return folder === '' ? full : full.slice(folder.length + 1);
}

/** Compares paths segment by segment, so a folder is directly followed by its content. */
function treeOrder(a: string, b: string): number {
  const sa = a.split('/');
  const sb = b.split('/');
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    if (sa[i] !== sb[i]) return sa[i] < sb[i] ? -1 : 1;
  }
  return sa.length - sb.length;
}

/** Keeps the rows the caller may do `action` on, checking each path once. */
export async function filterAllowed(can: AccessCheck, action: Action, repo: RepoConfig, rows: ItemRow[]): Promise<ItemRow[]> {
  const out: ItemRow[] = [];
  for (const r of rows) if (await can(action, repo, fullPathOf(r))) out.push(r);
  return out;
}

/**
 * The `/api/storage` use cases (REST-API.md §2): item info, file lists, last modified and
 * properties. Permission checks on the target path are the caller's job; the rows below
 * it are filtered here with the AccessCheck given.
 */
export class StorageApiService {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
  ) {}

  private get db() {
    return this.database.db;
  }

  /** The item at `path` (the root when ''); ITEM_NOT_FOUND when absent. */
  async locate(repo: RepoConfig, path: string): Promise<Located> {
    if (path === '') return { kind: 'root' };
    const row = await getItem(this.db, repo.key, path);
    if (!row) throw new ArcaError('ITEM_NOT_FOUND', `Unable to find item '${repo.key}/${path}'`);
    return { kind: 'item', row };
  }

  /** The folder at `path`; BAD_REQUEST when it is a file. */
  private async folderAt(repo: RepoConfig, path: string): Promise<Located> {
    const at = await this.locate(repo, path);
    if (at.kind === 'item' && at.row.type === 'file') {
      throw new ArcaError('BAD_REQUEST', `Expected a folder but found a file: '${repo.key}/${path}'`);
    }
    return at;
  }

  private async rootCreated(repo: RepoConfig): Promise<number> {
    return (await repoCreated(this.db, repo.key)) ?? 0;
  }

  /** FileInfo or FolderInfo JSON (children the caller cannot read are left out). */
  async info(base: string, repo: RepoConfig, path: string, can: AccessCheck): Promise<{ folder: boolean; body: object }> {
    const at = await this.locate(repo, path);
    if (at.kind === 'item' && at.row.type === 'file') return { folder: false, body: fileInfoJson(base, at.row) };
    const children = await filterAllowed(can, 'read', repo, await listChildren(this.db, repo.key, path));
    const row = at.kind === 'item' ? at.row : undefined;
    return { folder: true, body: folderInfoJson(base, repo.key, row, children, row ? row.created : await this.rootCreated(repo)) };
  }

  /** The `?list` answer: files (and folders on request) below a folder, in tree order. */
  async fileList(base: string, repo: RepoConfig, path: string, opts: ListOptions, can: AccessCheck) {
    const at = await this.folderAt(repo, path);
    const created = at.kind === 'item' ? at.row.created : await this.rootCreated(repo);
    const candidates = opts.deep ? await listDescendants(this.db, repo.key, path) : await listChildren(this.db, repo.key, path);
    const maxDepth = opts.deep ? opts.depth : 1;
    const rows = candidates.filter((r) => {
      if (r.type === 'folder' && !opts.listFolders) return false;
      return maxDepth === undefined || relativeTo(path, r).split('/').length <= maxDepth;
    });
    const visible = await filterAllowed(can, 'read', repo, rows);
    const withProps = opts.mdTimestamps ? await idsWithProperties(this.db, visible.map((r) => r.id)) : new Set<number>();
    const entries = visible
      .map((r) => ({ rel: relativeTo(path, r), row: r }))
      .sort((a, b) => treeOrder(a.rel, b.rel))
      .map(({ rel, row }) => {
        const e: FileListEntry = { uri: `/${rel}`, size: row.type === 'folder' ? -1 : Number(row.size), lastModified: isoDate(row.modified), folder: row.type === 'folder' };
        if (row.type === 'file') {
          if (row.sha1) e.sha1 = row.sha1;
          if (row.sha256) e.sha2 = row.sha256;
        }
        if (withProps.has(row.id)) e.mdTimestamps = { properties: isoDate(row.updated) };
        return e;
      });
    if (opts.includeRootPath && opts.listFolders) {
      const modified = at.kind === 'item' ? at.row.modified : created;
      entries.unshift({ uri: '/', size: -1, lastModified: isoDate(modified), folder: true });
    }
    return { uri: storageUri(base, repo.key, path), created: isoDate(created), files: entries };
  }

  /** The newest readable file at or below `path` (a folder without files answers itself). */
  async lastModified(base: string, repo: RepoConfig, path: string, can: AccessCheck) {
    const at = await this.locate(repo, path);
    if (at.kind === 'item' && at.row.type === 'file') {
      return { uri: storageUri(base, repo.key, path), lastModified: isoDate(at.row.modified) };
    }
    for (let offset = 0; ; offset += NEWEST_PAGE) {
      const page = await newestFilesUnder(this.db, repo.key, path, offset, NEWEST_PAGE);
      for (const r of page) {
        if (await can('read', repo, fullPathOf(r))) return { uri: storageUri(base, repo.key, fullPathOf(r)), lastModified: isoDate(r.modified) };
      }
      if (page.length < NEWEST_PAGE) break;
    }
    const modified = at.kind === 'item' ? at.row.modified : await this.rootCreated(repo);
    return { uri: storageUri(base, repo.key, path), lastModified: isoDate(modified) };
  }

  /** `{properties, uri}` of an item, optionally only `keys`; NOT_FOUND when there are none. */
  async properties(base: string, repo: RepoConfig, path: string, keys?: string[]) {
    const at = await this.locate(repo, path);
    let props: PropertyMap = {};
    if (at.kind === 'item') props = (await getProperties(this.db, [at.row.id])).get(at.row.id) ?? {};
    if (keys && keys.length > 0) {
      const wanted = new Set(keys);
      props = Object.fromEntries(Object.entries(props).filter(([k]) => wanted.has(k)));
    }
    if (Object.keys(props).length === 0) throw new ArcaError('NOT_FOUND', 'No properties could be found.');
    return { properties: props, uri: storageUri(base, repo.key, path) };
  }

  /**
   * The items a property change applies to: the item itself and, when `recursive`, everything
   * below it the caller may annotate. The root has no row, so it needs `recursive`.
   */
  private async targets(repo: RepoConfig, path: string, recursive: boolean, can: AccessCheck): Promise<ItemRow[]> {
    const at = await this.locate(repo, path);
    const rows: ItemRow[] = at.kind === 'item' ? [at.row] : [];
    const isFolder = at.kind === 'root' || at.row.type === 'folder';
    if (!recursive && at.kind === 'root') {
      throw new ArcaError('BAD_REQUEST', 'The repository root cannot carry properties; use recursive=1 to apply them to its content');
    }
    if (recursive && isFolder) rows.push(...(await filterAllowed(can, 'annotate', repo, await listDescendants(this.db, repo.key, path))));
    return rows;
  }

  /** Sets properties (each key's values replace the old ones); returns how many items changed. */
  async setProperties(repo: RepoConfig, path: string, props: PropertyMap, recursive: boolean, can: AccessCheck): Promise<number> {
    const rows = await this.targets(repo, path, recursive, can);
    const ids = rows.map((r) => r.id);
    const now = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      await setPropertiesOn(trx, ids, props);
      await markUpdated(trx, ids, now);
    });
    return ids.length;
  }

  async deleteProperties(repo: RepoConfig, path: string, keys: string[], recursive: boolean, can: AccessCheck): Promise<number> {
    const rows = await this.targets(repo, path, recursive, can);
    const ids = rows.map((r) => r.id);
    const now = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      await deletePropertiesOn(trx, ids, keys);
      await markUpdated(trx, ids, now);
    });
    return ids.length;
  }
}
