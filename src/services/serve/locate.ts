import { isArcaError } from '../../core/errors.js';
import type { ItemRow } from '../../db/items.js';
import type { FormatHandler, FormatReads, RepoStore, StreamedContent } from '../../formats/format-handler.js';
import type { FormatHandlers } from '../../formats/format-handlers.js';
import type { ArtifactService } from '../artifacts.js';
import type { RemoteFetchService } from '../remote-fetch.js';
import type { RepoConfig } from '../repositories.js';
import type { Access } from '../../security/access.js';
import type { ChecksumFiles } from './checksums.js';
import type { VirtualResolver } from './virtual-resolver.js';

/** What a GET path resolves to in a repository of any class. */
export type Found =
  | { kind: 'item'; item: ItemRow }
  | { kind: 'bytes'; data: Buffer; modified: number; type?: string }
  | StreamedContent
  | { kind: 'folder'; rows: ItemRow[] };

/** One read, as the locator needs it. */
export interface LocateRequest {
  /** The caller's read permission, asked per member of a virtual repository. */
  access: Access;
  /** Addressed as `{remote}-cache`: the cache only, never the upstream. */
  cacheOnly: boolean;
  /** The request URL ended with '/'. */
  folder?: boolean;
}

export interface LocatorDeps {
  artifacts: ArtifactService;
  remote: RemoteFetchService;
  virtual: VirtualResolver;
  formats: FormatHandlers;
  /** A repository's files as its format reads them (to merge metadata copies). */
  stores: { storeFor(repo: RepoConfig, user: string): RepoStore };
  checksums: ChecksumFiles;
  /** The reads a format's service answers itself, by package type (FormatModule.reads). */
  reads?: (packageType: string) => FormatReads<Access, ItemRow> | undefined;
}

/**
 * Finds what a read of a path answers in a local, remote or virtual repository, through the
 * repository's format handler: a stored (or freshly proxied) file, content made by the format
 * (metadata merged across a virtual repository's members, a checksum file for a file that has
 * none stored), or a folder's children.
 */
export class Locator {
  constructor(private readonly deps: LocatorDeps) {}

  /** What a GET of `path` answers in `repo`; undefined when there is nothing. */
  async locate(lr: LocateRequest, repo: RepoConfig, path: string): Promise<Found | undefined> {
    const handler = this.deps.formats.handlerFor(repo.packageType);
    const reads = lr.folder ? undefined : this.deps.reads?.(repo.packageType);
    if (reads?.handles(repo, path)) {
      const answer = await reads.read({ repo, path, cacheOnly: lr.cacheOnly, access: lr.access });
      if (answer.kind === 'missing') return undefined;
      if (answer.kind !== 'pass') return answer;
    }
    const sum = handler.checksumTarget?.(path);
    if (sum) {
      const target = await this.direct(lr, handler, repo, sum.target);
      if (target?.kind === 'item') {
        const hex = await this.deps.checksums.ofItem(target.item, sum.algorithm);
        return { kind: 'bytes', data: Buffer.from(hex), modified: target.item.modified, type: 'text/plain' };
      }
      if (target?.kind === 'bytes') {
        return { kind: 'bytes', data: Buffer.from(this.deps.checksums.ofBytes(target.data, sum.algorithm)), modified: target.modified, type: 'text/plain' };
      }
    }
    return this.direct(lr, handler, repo, path);
  }

  private async direct(lr: LocateRequest, handler: FormatHandler, repo: RepoConfig, path: string): Promise<Found | undefined> {
    const { artifacts, remote } = this.deps;
    if (repo.rclass === 'virtual') return this.virtual(lr, handler, repo, path);
    const stored = await artifacts.find(repo.key, path);
    if (stored?.type === 'folder') return { kind: 'folder', rows: await artifacts.children(repo.key, path) };
    if (repo.rclass !== 'remote') return stored ? { kind: 'item', item: stored } : undefined;
    // The cache only: `{key}-cache`, and folder URLs (a remote lists what it has cached).
    if (lr.cacheOnly || lr.folder || path === '') return stored ? { kind: 'item', item: stored } : undefined;
    try {
      return { kind: 'item', item: await remote.fetch(repo, path, { user: lr.access.user }) };
    } catch (err) {
      if (isArcaError(err, 'ITEM_NOT_FOUND')) return undefined;
      throw err;
    }
  }

  private async virtual(lr: LocateRequest, handler: FormatHandler, repo: RepoConfig, path: string): Promise<Found | undefined> {
    const { artifacts, virtual, stores } = this.deps;
    const { access } = lr;
    if (lr.folder || path === '') {
      // A folder URL: only the members' folders below.
    } else if (handler.mergeMetadata && handler.classify(path) === 'metadata') {
      const hits = await virtual.collect(repo, path, access, { user: access.user });
      if (hits.length === 1) return { kind: 'item', item: hits[0].item };
      if (hits.length > 1) {
        const copies = [];
        for (const h of hits) {
          const data = await stores.storeFor(h.repo, access.user).read(path);
          if (data) copies.push({ repoKey: h.repo.key, data, modified: h.item.modified });
        }
        const data = handler.mergeMetadata(path, copies);
        return { kind: 'bytes', data, modified: Math.max(...copies.map((c) => c.modified)) };
      }
    } else {
      const hit = await virtual.resolve(repo, path, access, { user: access.user });
      if (hit) return { kind: 'item', item: hit.item };
    }
    // A folder in any member: the union of the members' children (first member wins a name).
    const rows = new Map<string, ItemRow>();
    let isFolder = path === '';
    for (const m of await virtual.members(repo)) {
      if (!(await access.can('read', m, path))) continue;
      const self = path === '' ? undefined : await artifacts.find(m.key, path);
      if (path !== '' && self?.type !== 'folder') continue;
      isFolder = true;
      for (const c of await artifacts.children(m.key, path)) {
        if (!rows.has(c.name) && (await access.can('read', m, path === '' ? c.name : `${path}/${c.name}`))) rows.set(c.name, c);
      }
    }
    if (!isFolder) return undefined;
    return { kind: 'folder', rows: [...rows.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
  }
}
