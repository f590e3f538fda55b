import { isoDate } from '../core/clock.js';
import { ArcaError } from '../core/errors.js';
import { fullPathOf, getItem, getProperties, listChildren, listDescendants, listToDepth, type Db, type ItemRow, type PropertyMap } from '../db/items.js';
import { idsWithProperties, newestFilesUnder, repoCreated } from '../db/search-queries.js';
import type { Access } from '../security/access.js';
import type { Action } from '../security/types.js';
import { fileInfoJson, folderInfoJson, storageUri } from './item-info.js';
import type { RepoConfig } from './repositories.js';

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

/** Action letters of the v1 permission JSON, in Artifactory's order. */
const LETTERS: Array<[Action, string]> = [
  ['read', 'r'],
  ['annotate', 'n'],
  ['write', 'w'],
  ['delete', 'd'],
  ['manage', 'm'],
];

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

/** The item at `path` of `repo` (the root when ''); ITEM_NOT_FOUND when absent. */
export async function locate(db: Db, repo: RepoConfig, path: string): Promise<Located> {
  if (path === '') return { kind: 'root' };
  const row = await getItem(db, repo.key, path);
  if (!row) throw new ArcaError('ITEM_NOT_FOUND', `Unable to find item '${repo.key}/${path}'`);
  return { kind: 'item', row };
}

/** Keeps the rows the caller may do `action` on, checking each path once. */
export async function filterAllowed(access: Access, action: Action, repo: RepoConfig, rows: ItemRow[]): Promise<ItemRow[]> {
  const out: ItemRow[] = [];
  for (const r of rows) if (await access.can(action, repo, fullPathOf(r))) out.push(r);
  return out;
}

/**
 * A path of a repository the caller may read, and what `/api/storage` answers about it
 * (REST-API.md §2): item info, file lists, last modified, properties and the caller's
 * permissions. Only StorageApiService.open makes one, after the read check; what lies below
 * the path is filtered here by the caller's Access.
 */
export class StorageItem {
  constructor(
    private readonly db: Db,
    private readonly access: Access,
    readonly repo: RepoConfig,
    readonly path: string,
  ) {}

  private locate(): Promise<Located> {
    return locate(this.db, this.repo, this.path);
  }

  private async rootCreated(): Promise<number> {
    return (await repoCreated(this.db, this.repo.key)) ?? 0;
  }

  /** FileInfo or FolderInfo JSON (children the caller cannot read are left out). */
  async info(base: string): Promise<{ folder: boolean; body: object }> {
    const { repo, path } = this;
    const at = await this.locate();
    if (at.kind === 'item' && at.row.type === 'file') return { folder: false, body: fileInfoJson(base, at.row) };
    const children = await filterAllowed(this.access, 'read', repo, await listChildren(this.db, repo.key, path));
    const row = at.kind === 'item' ? at.row : undefined;
    return { folder: true, body: folderInfoJson(base, repo.key, row, children, row ? row.created : await this.rootCreated()) };
  }

  /** The `?list` answer: files (and folders on request) below a folder, in tree order; BAD_REQUEST for a file. */
  async fileList(base: string, opts: ListOptions) {
    const { repo, path } = this;
    const at = await this.locate();
    if (at.kind === 'item' && at.row.type === 'file') {
      throw new ArcaError('BAD_REQUEST', `Expected a folder but found a file: '${repo.key}/${path}'`);
    }
    const created = at.kind === 'item' ? at.row.created : await this.rootCreated();
    // A bounded depth is read level by level (the cost of what is returned); an unbounded deep list is the subtree.
    const candidates = !opts.deep
      ? await listChildren(this.db, repo.key, path)
      : opts.depth !== undefined
        ? await listToDepth(this.db, repo.key, path, opts.depth)
        : await listDescendants(this.db, repo.key, path);
    // Every candidate is within the depth asked for; only folders may be left out.
    const rows = opts.listFolders ? candidates : candidates.filter((r) => r.type !== 'folder');
    const visible = await filterAllowed(this.access, 'read', repo, rows);
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

  /** The newest readable file at or below the path (a folder without files answers itself). */
  async lastModified(base: string) {
    const { repo, path } = this;
    const at = await this.locate();
    if (at.kind === 'item' && at.row.type === 'file') {
      return { uri: storageUri(base, repo.key, path), lastModified: isoDate(at.row.modified) };
    }
    for (let offset = 0; ; offset += NEWEST_PAGE) {
      const page = await newestFilesUnder(this.db, repo.key, path, offset, NEWEST_PAGE);
      for (const r of page) {
        if (await this.access.can('read', repo, fullPathOf(r))) return { uri: storageUri(base, repo.key, fullPathOf(r)), lastModified: isoDate(r.modified) };
      }
      if (page.length < NEWEST_PAGE) break;
    }
    const modified = at.kind === 'item' ? at.row.modified : await this.rootCreated();
    return { uri: storageUri(base, repo.key, path), lastModified: isoDate(modified) };
  }

  /** `{properties, uri}` of the item, optionally only `keys`; NOT_FOUND when there are none. */
  async properties(base: string, keys?: string[]) {
    const at = await this.locate();
    let props: PropertyMap = {};
    if (at.kind === 'item') props = (await getProperties(this.db, [at.row.id])).get(at.row.id) ?? {};
    if (keys && keys.length > 0) {
      const wanted = new Set(keys);
      props = Object.fromEntries(Object.entries(props).filter(([k]) => wanted.has(k)));
    }
    if (Object.keys(props).length === 0) throw new ArcaError('NOT_FOUND', 'No properties could be found.');
    return { properties: props, uri: storageUri(base, this.repo.key, this.path) };
  }

  /** The caller's own permissions on the item, as v1 action letters (ITEM_NOT_FOUND when absent). */
  async permissions(base: string) {
    const { repo, path } = this;
    await this.locate();
    const letters: string[] = [];
    for (const [action, letter] of LETTERS) {
      if (await this.access.can(action, repo, path)) letters.push(letter);
    }
    return {
      uri: storageUri(base, repo.key, path),
      principals: { users: { [this.access.user]: letters }, groups: {} as Record<string, string[]> },
    };
  }
}
