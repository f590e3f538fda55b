import { isoDate } from '../core/clock.js';
import { ArcaError } from '../core/errors.js';
import type { Readable } from 'node:stream';
import { fullPathOf, getItem, getProperties, type Db, type ItemRow, type PropertyMap } from '../db/items.js';
import { idsWithProperties, newestFilesUnder, repoCreated } from '../db/search-queries.js';
import { childrenPage } from '../db/tree.js';
import type { Access } from '../security/access.js';
import type { Action } from '../security/types.js';
import { fileInfoJson, folderInfoJson, storageUri } from './item-info.js';
import { fileListEntry, type FileListEntry, type ListingJob, type ListingPage } from './listing/listing-job.js';
import { keepEntries, type ListingRunner } from './listing/listing-runner.js';
import { type ListPage, pageToken, parsePageToken } from './list-page.js';
import type { RepoConfig } from './repositories.js';

export interface ListOptions {
  deep: boolean;
  /** One page of a folder's children (not with `deep`); undefined = all of them, streamed. */
  page?: ListPage;
  /** Levels below the folder to include with `deep` (1 = children only); undefined = all. */
  depth?: number;
  listFolders: boolean;
  mdTimestamps: boolean;
  includeRootPath: boolean;
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
    private readonly listings: ListingRunner,
    private readonly access: Access,
    readonly repo: RepoConfig,
    readonly path: string,
  ) {}

  /**
   * The streamed JSON of a listing: `template` with `job`'s entries as its member `key` (after
   * `head`), each page's entries kept only where the caller may read them, decided on the
   * event loop when the page is written (listing-runner.ts runs the walk).
   */
  private stream(template: Record<string, unknown>, key: string, head: unknown[], job: ListingJob): Promise<Readable> {
    const { access, repo } = this;
    const visible = async (page: ListingPage) => ((await access.canReadAll(repo)) ? page.text : keepEntries(page, (p) => access.can('read', repo, p)));
    return this.listings.stream(template, key, head, job, visible);
  }

  private locate(): Promise<Located> {
    return locate(this.db, this.repo, this.path);
  }

  private async rootCreated(): Promise<number> {
    return (await repoCreated(this.db, this.repo.key)) ?? 0;
  }

  /**
   * FileInfo or FolderInfo JSON (children the caller cannot read are left out). A folder's
   * children come in name order: all of them as a stream, or one page of them (`next` then
   * names the following page, absent on the last).
   */
  async info(base: string, page?: ListPage, decorate?: (rows: ItemRow[]) => Promise<object[]>): Promise<{ folder: boolean; body: object | Readable }> {
    const { repo, path } = this;
    const at = await this.locate();
    if (at.kind === 'item' && at.row.type === 'file') return { folder: false, body: fileInfoJson(base, at.row) };
    const row = at.kind === 'item' ? at.row : undefined;
    const created = row ? row.created : await this.rootCreated();
    const readable = (rows: ItemRow[]) => filterAllowed(this.access, 'read', repo, rows);
    if (page) {
      const { rows, next } = await this.childrenPage(page);
      const visible = await readable(rows);
      const body = folderInfoJson(base, repo.key, row, visible, created);
      // The `details` form: each child with its size, dates and download count.
      const children = decorate ? await decorate(visible) : body.children;
      return { folder: true, body: { ...body, children, ...(next ? { next } : {}) } };
    }
    const template = folderInfoJson(base, repo.key, row, [], created);
    const job: ListingJob = { kind: 'children', repo: repo.key, folder: path, depth: 1, listFolders: true, mdTimestamps: false };
    return { folder: true, body: await this.stream(template, 'children', [], job) };
  }

  /** One page of the folder's children, and the token of the next page when there is one. */
  private async childrenPage(page: ListPage): Promise<{ rows: ItemRow[]; next?: string }> {
    const rows = await childrenPage(this.db, this.repo.key, this.path, parsePageToken(page.after, this.path), page.limit + 1);
    if (rows.length <= page.limit) return { rows };
    rows.length = page.limit;
    return { rows, next: pageToken(rows[rows.length - 1]) };
  }

  /**
   * The `?list` answer: files (and folders on request) below a folder, in tree order (depth
   * first, each folder's content by name), streamed; or one page of a folder's children.
   * BAD_REQUEST for a file.
   */
  async fileList(base: string, opts: ListOptions): Promise<object | Readable> {
    const { repo, path } = this;
    const at = await this.locate();
    if (at.kind === 'item' && at.row.type === 'file') {
      throw new ArcaError('BAD_REQUEST', `Expected a folder but found a file: '${repo.key}/${path}'`);
    }
    if (opts.page && opts.deep) throw new ArcaError('BAD_REQUEST', "Paging ('limit') lists one folder's children; it does not combine with 'deep'");
    const created = at.kind === 'item' ? at.row.created : await this.rootCreated();
    const toEntries = async (candidates: ItemRow[]): Promise<FileListEntry[]> => {
      // One page of children (at most MAX_PAGE): read on the event loop, written as the streamed listing writes its entries.
      const rows = opts.listFolders ? candidates : candidates.filter((r) => r.type !== 'folder');
      const visible = await filterAllowed(this.access, 'read', repo, rows);
      const withProps = opts.mdTimestamps && visible.length > 0 ? await idsWithProperties(this.db, visible.map((r) => r.id)) : new Set<number>();
      return visible.map((row) => fileListEntry(path, row, withProps.has(row.id)));
    };
    const head: FileListEntry[] = [];
    if (opts.includeRootPath && opts.listFolders && opts.page?.after === undefined) {
      const modified = at.kind === 'item' ? at.row.modified : created;
      head.push({ uri: '/', size: -1, lastModified: isoDate(modified), folder: true });
    }
    const template = { uri: storageUri(base, repo.key, path), created: isoDate(created) };
    if (opts.page) {
      const { rows, next } = await this.childrenPage(opts.page);
      return { ...template, files: [...head, ...(await toEntries(rows))], ...(next ? { next } : {}) };
    }
    // Depth first down to the depth asked for (the children only without `deep`); without one, the whole subtree.
    const depth = !opts.deep ? 1 : (opts.depth ?? Infinity);
    const job: ListingJob = { kind: 'files', repo: repo.key, folder: path, depth, listFolders: opts.listFolders, mdTimestamps: opts.mdTimestamps };
    return this.stream(template, 'files', head, job);
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

  /** `{properties, uri}` of the item, optionally only `keys`; NOT_FOUND when there are none (unless `allowEmpty`: `{}`). */
  async properties(base: string, keys?: string[], allowEmpty = false) {
    const at = await this.locate();
    let props: PropertyMap = {};
    if (at.kind === 'item') props = (await getProperties(this.db, [at.row.id])).get(at.row.id) ?? {};
    if (keys && keys.length > 0) {
      const wanted = new Set(keys);
      props = Object.fromEntries(Object.entries(props).filter(([k]) => wanted.has(k)));
    }
    if (Object.keys(props).length === 0 && !allowEmpty) throw new ArcaError('NOT_FOUND', 'No properties could be found.');
    return { properties: props, uri: storageUri(base, this.repo.key, this.path) };
  }

  /** The item's id (ITEM_NOT_FOUND when absent); undefined for the repository root, which has no row. */
  async itemId(): Promise<number | undefined> {
    const at = await this.locate();
    return at.kind === 'item' ? Number(at.row.id) : undefined;
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
