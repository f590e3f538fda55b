import { ArcaError, isArcaError } from '../../core/errors.js';
import type { ItemRow } from '../../db/items.js';
import type { FormatHandler } from '../../formats/format-handler.js';
import type { PackageServices } from '../../services/remote/package-services.js';
import type { RepoConfig } from '../../services/repositories.js';
import type { AccessCheck } from '../../services/storage-api.js';
import type { Principal } from '../../security/types.js';
import type { AppContext } from '../app-context.js';
import { anonymousHidden, canSeeRepo, intentOf } from '../visible-repo.js';
import { checksumOfBytes, checksumOfItem } from './artifacts-serve.js';

/** What a GET path resolves to in a repository of any class. */
export type Found =
  | { kind: 'item'; item: ItemRow }
  | { kind: 'bytes'; data: Buffer; modified: number; type?: string }
  | { kind: 'folder'; rows: ItemRow[] };

/** A repository addressed by a URL key: `{remote}-cache` is the cache of a remote, never its upstream. */
export interface Addressed {
  repo: RepoConfig;
  cacheOnly: boolean;
}

/**
 * The repository a URL key addresses, for a caller: a repository the caller may not see is
 * answered exactly as one that does not exist (see visible-repo.ts).
 */
export async function addressRepo(ctx: AppContext, key: string, caller: { principal: Principal; method: string }): Promise<Addressed> {
  const intent = intentOf(caller.method);
  const repo = await ctx.repos.get(key);
  if (repo) {
    if (await canSeeRepo(ctx, caller.principal, repo, intent)) return { repo, cacheOnly: false };
  } else if (key.endsWith('-cache')) {
    const remote = await ctx.repos.get(key.slice(0, -'-cache'.length));
    if (remote?.rclass === 'remote' && (await canSeeRepo(ctx, caller.principal, remote, intent))) return { repo: remote, cacheOnly: true };
  }
  if (caller.principal.anonymous) throw anonymousHidden();
  throw new ArcaError('REPO_NOT_FOUND', `Repository '${key}' not found`);
}

export interface LocateContext {
  ctx: AppContext;
  svc: PackageServices;
  can: AccessCheck;
  user: string;
  cacheOnly: boolean;
  /** The request URL ended with '/'. */
  folder?: boolean;
}

/**
 * Finds what a GET of `path` answers in `repo`: a stored (or freshly proxied) file, content
 * made by the format (merged metadata, a checksum file for a file that has none stored), or
 * a folder's children. Undefined when there is nothing.
 */
export async function locate(lc: LocateContext, repo: RepoConfig, path: string): Promise<Found | undefined> {
  const handler = lc.ctx.formats.handlerFor(repo.packageType);
  const sum = handler.checksumTarget?.(path);
  if (sum) {
    const target = await locateDirect(lc, handler, repo, sum.target);
    if (target?.kind === 'item') {
      const hex = await checksumOfItem(lc.ctx, target.item, sum.algorithm);
      return { kind: 'bytes', data: Buffer.from(hex), modified: target.item.modified, type: 'text/plain' };
    }
    if (target?.kind === 'bytes') return { kind: 'bytes', data: Buffer.from(checksumOfBytes(target.data, sum.algorithm)), modified: target.modified, type: 'text/plain' };
  }
  return locateDirect(lc, handler, repo, path);
}

async function locateDirect(lc: LocateContext, handler: FormatHandler, repo: RepoConfig, path: string): Promise<Found | undefined> {
  const { ctx, svc } = lc;
  if (repo.rclass === 'virtual') return locateVirtual(lc, handler, repo, path);
  const stored = await ctx.artifacts.find(repo.key, path);
  if (stored?.type === 'folder') return { kind: 'folder', rows: await ctx.artifacts.children(repo.key, path) };
  if (repo.rclass !== 'remote') return stored ? { kind: 'item', item: stored } : undefined;
  // The cache only: `{key}-cache`, and folder URLs (a remote lists what it has cached).
  if (lc.cacheOnly || lc.folder || path === '') return stored ? { kind: 'item', item: stored } : undefined;
  try {
    return { kind: 'item', item: await svc.remote.fetch(repo, path, { user: lc.user }) };
  } catch (err) {
    if (isArcaError(err, 'ITEM_NOT_FOUND')) return undefined;
    throw err;
  }
}

async function locateVirtual(lc: LocateContext, handler: FormatHandler, repo: RepoConfig, path: string): Promise<Found | undefined> {
  const { ctx, svc, can } = lc;
  if (lc.folder || path === '') {
    // A folder URL: only the members' folders below.
  } else if (handler.mergeMetadata && handler.classify(path) === 'metadata') {
    const hits = await svc.virtual.collect(repo, path, can, { user: lc.user });
    if (hits.length === 1) return { kind: 'item', item: hits[0].item };
    if (hits.length > 1) {
      const copies = [];
      for (const h of hits) {
        const data = await svc.deploy.storeFor(h.repo, lc.user).read(path);
        if (data) copies.push({ repoKey: h.repo.key, data, modified: h.item.modified });
      }
      const data = handler.mergeMetadata(path, copies);
      return { kind: 'bytes', data, modified: Math.max(...copies.map((c) => c.modified)) };
    }
  } else {
    const hit = await svc.virtual.resolve(repo, path, can, { user: lc.user });
    if (hit) return { kind: 'item', item: hit.item };
  }
  // A folder in any member: the union of the members' children (first member wins a name).
  const rows = new Map<string, ItemRow>();
  let isFolder = path === '';
  for (const m of await svc.virtual.members(repo)) {
    if (!(await can('read', m, path))) continue;
    const self = path === '' ? undefined : await ctx.artifacts.find(m.key, path);
    if (path !== '' && self?.type !== 'folder') continue;
    isFolder = true;
    for (const c of await ctx.artifacts.children(m.key, path)) {
      if (!rows.has(c.name) && (await can('read', m, path === '' ? c.name : `${path}/${c.name}`))) rows.set(c.name, c);
    }
  }
  if (!isFolder) return undefined;
  return { kind: 'folder', rows: [...rows.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
}
