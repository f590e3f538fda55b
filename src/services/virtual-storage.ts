import { ArcaError } from '../core/errors.js';
import type { Database } from '../db/database.js';
import { getItem, type ItemRow } from '../db/items.js';
import { repoCreated } from '../db/search-queries.js';
import { childrenPage } from '../db/tree.js';
import type { Access } from '../security/access.js';
import { childEntries, downloadUri, fileInfoJson, folderInfoJson, storageUri } from './item-info.js';
import type { ListPage } from './list-page.js';
import type { RepoConfig } from './repositories.js';
import type { VirtualResolver } from './serve/virtual-resolver.js';

/** Children listed at once when a virtual folder is asked for without `limit` (a `next` token follows when there are more). */
export const VIRTUAL_UNPAGED_MAX = 10_000;

/** A child of a merged listing and the member it comes from. */
export interface MergedChild {
  row: ItemRow;
  member: string;
  /** For a folder: every member holding it (the folder's content is merged from all of them). */
  members: string[];
}

/** Byte order of the names' UTF-8, as the databases sort children. */
function byName(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function virtualToken(name: string): string {
  return Buffer.from(JSON.stringify(['v', name])).toString('base64url');
}

function parseVirtualToken(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value) || value.length !== 2 || value[0] !== 'v' || typeof value[1] !== 'string') {
    throw new ArcaError('BAD_REQUEST', `Query parameter 'after' is not a page token of this virtual repository listing: '${token}'`);
  }
  return value[1];
}

/**
 * The storage API of a virtual repository (`GET /api/storage/{virtual}/{path}`): what its
 * members hold, merged. A folder lists the union of its members' children in name order,
 * each name from the first member holding it in resolution order (local repositories, then
 * the caches of remote ones), each child kept only where the caller may read it in that
 * member. Paged like any folder (`limit`, `after`): a page asks each member for at most one
 * page after the last name, so its cost does not grow with the folder. A file answers the
 * FileInfo of the member copy a download would serve (cached copies only, no upstream
 * request), with `resolvedRepo` naming the member.
 */
export class VirtualStorage {
  constructor(
    private readonly database: Database,
    private readonly virtual: VirtualResolver,
  ) {}

  private get db() {
    return this.database.db;
  }

  /** The members the caller may read at `path`, in resolution order, skipping blacked-out ones. */
  private async readableMembers(access: Access, repo: RepoConfig, path: string): Promise<RepoConfig[]> {
    const out: RepoConfig[] = [];
    for (const m of await this.virtual.members(repo)) {
      if (m.blackedOut) continue;
      const ok = path === '' ? await access.canReadAny(m) : await access.can('read', m, path);
      if (ok) out.push(m);
    }
    return out;
  }

  /**
   * The member `path` is read from: the member copy of a file a download would serve, or the
   * first member holding the folder; undefined when no readable member has it.
   */
  async memberOf(access: Access, repo: RepoConfig, path: string): Promise<{ member: RepoConfig; row: ItemRow } | undefined> {
    if (path === '') return undefined;
    const hit = await this.virtual.resolve(repo, path, access, { user: access.user, cacheOnly: true });
    if (hit) return { member: hit.repo, row: hit.item };
    for (const m of await this.readableMembers(access, repo, path)) {
      const row = await getItem(this.db, m.key, path);
      if (row?.type === 'folder') return { member: m, row };
    }
    return undefined;
  }

  /** One page of the merged children of `path` (every member holding it as a folder), and the next page's token. */
  async children(access: Access, repo: RepoConfig, path: string, page: ListPage): Promise<{ children: MergedChild[]; next?: string; found: boolean; first?: ItemRow }> {
    const after = parseVirtualToken(page.after);
    const cursor = after === undefined ? undefined : { path, id: Number.MAX_SAFE_INTEGER, name: after };
    const byNameFirst = new Map<string, MergedChild>();
    let found = path === '';
    /** The folder's row in the first member holding it. */
    let first: ItemRow | undefined;
    for (const m of await this.readableMembers(access, repo, path)) {
      if (path !== '') {
        const self = await getItem(this.db, m.key, path);
        if (self?.type !== 'folder') continue;
        first ??= self;
      }
      found = true;
      // Each member's first page after the cursor: the merged page's names are all among them.
      const rows = await childrenPage(this.db, m.key, path, cursor, page.limit + 1);
      for (const row of rows) {
        const seen = byNameFirst.get(row.name);
        if (seen && (seen.row.type !== 'folder' || row.type !== 'folder')) continue;
        const child = path === '' ? row.name : `${path}/${row.name}`;
        if (!(await access.can('read', m, child))) continue;
        if (seen) seen.members.push(m.key);
        else byNameFirst.set(row.name, { row, member: m.key, members: [m.key] });
      }
    }
    const merged = [...byNameFirst.values()].sort((a, b) => byName(a.row.name, b.row.name));
    if (merged.length <= page.limit) return { children: merged, found, first };
    merged.length = page.limit;
    return { children: merged, next: virtualToken(merged[merged.length - 1].row.name), found, first };
  }

  /**
   * FileInfo or FolderInfo of `path` in the virtual repository. `decorate` turns a page of
   * children into their JSON entries (the `details` form); plain `{uri, folder}` otherwise.
   */
  async info(
    access: Access,
    repo: RepoConfig,
    path: string,
    base: string,
    page: ListPage | undefined,
    decorate?: (children: MergedChild[]) => Promise<object[]>,
  ): Promise<{ folder: boolean; body: object }> {
    if (path !== '') {
      const hit = await this.virtual.resolve(repo, path, access, { user: access.user, cacheOnly: true });
      if (hit) {
        const info = fileInfoJson(base, hit.item);
        return {
          folder: false,
          body: { ...info, repo: repo.key, downloadUri: downloadUri(base, repo.key, path), uri: storageUri(base, repo.key, path), resolvedRepo: hit.repo.key },
        };
      }
    }
    const listed = await this.children(access, repo, path, page ?? { limit: VIRTUAL_UNPAGED_MAX });
    if (!listed.found) throw new ArcaError('ITEM_NOT_FOUND', `Unable to find item '${repo.key}/${path}'`);
    // The folder's own facts come from the first member holding it, found while listing.
    const first = listed.first;
    const created = first?.created ?? (await repoCreated(this.db, repo.key)) ?? 0;
    const template = folderInfoJson(base, repo.key, first, [], created);
    const children = decorate ? await decorate(listed.children) : childEntries(listed.children.map((c) => c.row));
    return { folder: true, body: { ...template, children, ...(listed.next ? { next: listed.next } : {}) } };
  }
}
