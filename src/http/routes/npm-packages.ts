/**
 * npm packages across the three repository kinds: where a packument and a tarball come from
 * in a local repository (the NpmStore), a remote one (the upstream registry, through the
 * shared RemoteFetchService: packument at `.npm/{name}/package.json`, tarballs at the
 * Artifactory path) and a virtual one (members merged, locals first), and the rendered
 * packument bytes, cached by the content they were made from.
 */
import { createHash } from 'node:crypto';
import { LruCache } from '../../content/lru-cache.js';
import { ArcaError, isArcaError } from '../../core/errors.js';
import type { ItemRow } from '../../db/items.js';
import { documentPath, escapeName, tarballPath } from '../../formats/npm/names.js';
import { NpmStore } from '../../formats/npm/npm-store.js';
import { renderAbbreviated, renderFull, type PackageDocument } from '../../formats/npm/packument.js';
import { fromUpstream, mergeDocuments, upstreamTarballPath, versionForTarball } from '../../formats/npm/upstream.js';
import type { ContentStore } from '../../content/content-store.js';
import type { Clock } from '../../core/clock.js';
import type { Database } from '../../db/database.js';
import type { PackageServices } from '../../services/remote/package-services.js';
import type { RepoConfig } from '../../services/repositories.js';
import type { AccessCheck } from '../../services/storage-api.js';

export interface ResolvedDocument {
  doc: PackageDocument;
  /** Identifies the content the document was made from (for the render cache and ETags). */
  key: string;
}

export interface RenderedPackument {
  body: Buffer;
  etag: string;
  modified: string | undefined;
}

const quiet = (err: unknown) => isArcaError(err, 'ITEM_NOT_FOUND') || isArcaError(err, 'UPSTREAM_FAILED') || isArcaError(err, 'NOT_FOUND');

export class NpmPackages {
  readonly store: NpmStore;
  readonly services: PackageServices;
  private readonly rendered = new LruCache<RenderedPackument>(64 * 1024 * 1024, (r) => r.body.length + 200);
  private readonly upstreamDocs = new LruCache<{ doc: PackageDocument; bytes: number }>(32 * 1024 * 1024, (e) => e.bytes);

  constructor(deps: { database: Database; content: ContentStore; clock: Clock; packages: PackageServices }) {
    this.store = new NpmStore(deps.database, deps.content, deps.clock);
    this.services = deps.packages;
  }

  /** The local repository writes to this repository go to (a virtual's defaultDeploymentRepo). */
  async writeTarget(repo: RepoConfig): Promise<RepoConfig> {
    if (repo.rclass === 'local') return repo;
    if (repo.rclass === 'virtual') return this.services.virtual.deploymentRepo(repo);
    throw new ArcaError('METHOD_NOT_ALLOWED', `Remote repository '${repo.key}' is read-only: publish to a local or virtual repository`);
  }

  /** A package's document in any kind of repository; undefined when no member has it. */
  async document(repo: RepoConfig, name: string, can: AccessCheck): Promise<ResolvedDocument | undefined> {
    if (repo.rclass === 'local') {
      const stored = await this.store.document(repo.key, name);
      return stored && { doc: stored.doc, key: `L${stored.sha1}` };
    }
    if (repo.rclass === 'remote') return this.remoteDocument(repo, name, true);
    if (repo.rclass !== 'virtual') return undefined;
    const found: ResolvedDocument[] = [];
    for (const member of await this.services.virtual.members(repo)) {
      if (member.blackedOut || !(await can('read', member, name))) continue;
      const d = await this.document(member, name, can).catch((err) => {
        if (quiet(err)) return undefined;
        throw err;
      });
      if (d) found.push(d);
    }
    if (found.length === 0) return undefined;
    return { doc: mergeDocuments(name, found.map((f) => f.doc)), key: `V${found.map((f) => f.key).join(',')}` };
  }

  private async remoteDocument(repo: RepoConfig, name: string, fetch: boolean): Promise<ResolvedDocument | undefined> {
    let item: ItemRow | undefined;
    try {
      item = fetch
        ? await this.services.remote.fetch(repo, documentPath(name), { upstreamPath: escapeName(name), kind: 'metadata', headers: { accept: 'application/json' } })
        : await this.services.remote.cached(repo, documentPath(name));
    } catch (err) {
      if (isArcaError(err, 'ITEM_NOT_FOUND')) return undefined;
      throw err;
    }
    if (!item?.sha1) return undefined;
    const hit = this.upstreamDocs.get(item.sha1);
    if (hit) return { doc: hit.doc, key: `R${item.sha1}` };
    const doc = fromUpstream(await this.store.parse(item), name);
    this.upstreamDocs.set(item.sha1, { doc, bytes: Number(item.size) * 2 });
    return { doc, key: `R${item.sha1}` };
  }

  /** A tarball by its file name (`pkg-1.0.0.tgz`, `@scope/pkg-1.0.0.tgz`), from whichever member has it. */
  async tarball(repo: RepoConfig, name: string, file: string, can: AccessCheck, user: string): Promise<ItemRow | undefined> {
    if (repo.rclass === 'local') {
      const version = versionForTarball(undefined, name, file);
      return version === undefined ? undefined : this.store.tarball(repo.key, name, version);
    }
    if (repo.rclass === 'remote') return this.remoteTarball(repo, name, file, user);
    if (repo.rclass !== 'virtual') return undefined;
    for (const member of await this.services.virtual.members(repo)) {
      if (member.blackedOut) continue;
      const version = versionForTarball(undefined, name, file);
      if (version === undefined || !(await can('read', member, tarballPath(name, version)))) continue;
      const item = await this.tarball(member, name, file, can, user).catch((err) => {
        if (quiet(err)) return undefined;
        throw err;
      });
      if (item) return item;
    }
    return undefined;
  }

  private async remoteTarball(repo: RepoConfig, name: string, file: string, user: string): Promise<ItemRow | undefined> {
    const version = versionForTarball(undefined, name, file);
    if (version === undefined) return undefined;
    const path = tarballPath(name, version);
    const cached = await this.services.remote.cached(repo, path);
    if (cached) return cached;
    // The upstream's tarball URL is in its packument: read the cached one, or fetch it first.
    let docItem = await this.services.remote.cached(repo, documentPath(name));
    if (!docItem) {
      await this.remoteDocument(repo, name, true);
      docItem = await this.services.remote.cached(repo, documentPath(name));
    }
    const raw = docItem ? await this.store.parse(docItem) : undefined;
    if (raw && !(raw as PackageDocument).versions?.[version]) return undefined;
    const upstreamPath = upstreamTarballPath(raw, name, version, this.services.remote.settings(repo).url);
    try {
      return await this.services.remote.fetch(repo, path, { upstreamPath, kind: 'artifact', user });
    } catch (err) {
      if (isArcaError(err, 'ITEM_NOT_FOUND')) return undefined;
      throw err;
    }
  }

  /** The packument bytes for a registry URL, full or abbreviated, cached by content. */
  render(resolved: ResolvedDocument, registryUrl: string, abbreviated: boolean): RenderedPackument {
    const cacheKey = `${resolved.key}|${abbreviated ? 'a' : 'f'}|${registryUrl}`;
    const hit = this.rendered.get(cacheKey);
    if (hit) return hit;
    const json = abbreviated ? renderAbbreviated(resolved.doc, registryUrl) : renderFull(resolved.doc, registryUrl);
    const body = Buffer.from(JSON.stringify(json));
    const etag = `"${createHash('sha1').update(cacheKey).digest('hex').slice(0, 32)}"`;
    const out = { body, etag, modified: resolved.doc.time.modified };
    this.rendered.set(cacheKey, out);
    return out;
  }

  /** The first remote repository reachable from `repo` (itself, or a virtual's first remote member). */
  async upstreamOf(repo: RepoConfig): Promise<RepoConfig | undefined> {
    if (repo.rclass === 'remote') return repo;
    if (repo.rclass !== 'virtual') return undefined;
    return (await this.services.virtual.members(repo)).find((m) => m.rclass === 'remote' && !m.blackedOut);
  }

  /** The local repositories whose packages a search in `repo` covers. */
  async searchableLocals(repo: RepoConfig): Promise<RepoConfig[]> {
    if (repo.rclass === 'local') return [repo];
    if (repo.rclass !== 'virtual') return [];
    return (await this.services.virtual.members(repo)).filter((m) => m.rclass === 'local' && !m.blackedOut);
  }
}
