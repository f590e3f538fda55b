/**
 * The npm service. Reads of npm packages across the three repository kinds: where a packument
 * and a tarball come from in a local repository (the NpmStore), a remote one (the upstream
 * registry, through the shared RemoteFetchService: packument at `.npm/{name}/package.json`,
 * tarballs at the Artifactory path) and a virtual one (members merged, locals first), and the
 * rendered packument bytes, cached by the content they were made from. Every use case takes
 * the caller's `Access` and checks it before it answers.
 */
import { createHash } from 'node:crypto';
import { LruCache } from '../../../core/lru-cache.js';
import type { ContentStore } from '../../../content/content-store.js';
import type { Clock } from '../../../core/clock.js';
import { ArcaError, isArcaError } from '../../../core/errors.js';
import type { Database } from '../../../db/database.js';
import type { ItemRow } from '../../../db/items.js';
import type { Access } from '../../../security/access.js';
import type { ArtifactService } from '../../../services/artifacts.js';
import type { PackageServices } from '../../../services/remote/package-services.js';
import type { RepoConfig } from '../../../services/repositories.js';
import { documentPath, escapeName, parsePackageName, tarballPath, versionOfTarball } from '../names.js';
import { renderAbbreviated, renderFull, type PackageDocument } from '../packument.js';
import { fromUpstream, mergeDocuments, upstreamTarballPath, versionForTarball } from '../upstream.js';
import { NpmSearch } from './npm-search.js';
import { NpmStore } from './npm-store.js';
import { NpmWrites } from './npm-writes.js';

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

/** What the npm service is built from (the composition root gives it). */
export interface NpmDeps {
  database: Database;
  content: ContentStore;
  clock: Clock;
  packages: PackageServices;
  artifacts: ArtifactService;
}

/**
 * The npm service: reads here (each checks the caller's `Access` before it answers), changes
 * in `writes`, search and audit in `registry`.
 */
export class NpmPackages {
  readonly store: NpmStore;
  readonly services: PackageServices;
  /** Publish, deprecate, unpublish and dist-tag changes. */
  readonly writes: NpmWrites;
  /** Search and audit, across the members of a virtual repository. */
  readonly registry: NpmSearch;
  private readonly rendered = new LruCache<RenderedPackument>(64 * 1024 * 1024, (r) => r.body.length + 200);
  private readonly upstreamDocs = new LruCache<{ doc: PackageDocument; bytes: number }>(32 * 1024 * 1024, (e) => e.bytes);

  constructor(deps: NpmDeps) {
    this.store = new NpmStore(deps.database, deps.content, deps.clock);
    this.services = deps.packages;
    this.writes = new NpmWrites(this, deps);
    this.registry = new NpmSearch(this, deps.clock);
  }

  /** The local repository writes to this repository go to (a virtual's defaultDeploymentRepo). */
  async writeTarget(repo: RepoConfig): Promise<RepoConfig> {
    if (repo.rclass === 'local') return repo;
    if (repo.rclass === 'virtual') return this.services.virtual.deploymentRepo(repo);
    throw new ArcaError('METHOD_NOT_ALLOWED', `Remote repository '${repo.key}' is read-only: publish to a local or virtual repository`);
  }

  /**
   * The document a read of `name` sees, once the caller may read it. `own` (npm's
   * `?write=true`, read before a write) reads the write target's own document of a virtual
   * repository instead of its members merged.
   */
  async packument(access: Access, repo: RepoConfig, name: string, own = false): Promise<ResolvedDocument | undefined> {
    await access.require('read', repo, name);
    if (own && repo.rclass === 'virtual') {
      const target = await this.writeTarget(repo);
      const stored = await this.store.document(target.key, name);
      return stored && { doc: stored.doc, key: `L${stored.sha1}` };
    }
    return this.document(repo, name, access);
  }

  /** A package's document in any kind of repository; undefined when no member `access` may read has it. */
  async document(repo: RepoConfig, name: string, access: Access): Promise<ResolvedDocument | undefined> {
    if (repo.rclass === 'local') {
      const stored = await this.store.document(repo.key, name);
      return stored && { doc: stored.doc, key: `L${stored.sha1}` };
    }
    if (repo.rclass === 'remote') return this.remoteDocument(repo, name, true);
    if (repo.rclass !== 'virtual') return undefined;
    const found: ResolvedDocument[] = [];
    for (const member of await this.services.virtual.members(repo)) {
      if (member.blackedOut || !(await access.can('read', member, name))) continue;
      const d = await this.document(member, name, access).catch((err) => {
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

  /**
   * The tarball `file` (`pkg-1.0.0.tgz`, `@scope/pkg-1.0.0.tgz`) of `name`, once the caller may
   * read it, from whichever member has it; NOT_FOUND when none has.
   */
  async tarballFile(access: Access, repo: RepoConfig, name: string, file: string): Promise<ItemRow> {
    const version = versionOfTarball(parsePackageName(name), file);
    if (version === undefined) throw new ArcaError('NOT_FOUND', `'${file}' is not a tarball of ${name}`);
    await access.require('read', repo, tarballPath(name, version));
    const item = await this.tarball(repo, name, file, access);
    if (!item) throw new ArcaError('NOT_FOUND', `Tarball ${file} of ${name} not found`);
    return item;
  }

  /** A tarball by its file name, from whichever member `access` may read it in has it. */
  async tarball(repo: RepoConfig, name: string, file: string, access: Access): Promise<ItemRow | undefined> {
    if (repo.rclass === 'local') {
      const version = versionForTarball(undefined, name, file);
      return version === undefined ? undefined : this.store.tarball(repo.key, name, version);
    }
    if (repo.rclass === 'remote') return this.remoteTarball(repo, name, file, access.user);
    if (repo.rclass !== 'virtual') return undefined;
    for (const member of await this.services.virtual.members(repo)) {
      if (member.blackedOut) continue;
      const version = versionForTarball(undefined, name, file);
      if (version === undefined || !(await access.can('read', member, tarballPath(name, version)))) continue;
      const item = await this.tarball(member, name, file, access).catch((err) => {
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
