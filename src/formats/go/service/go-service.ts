import { ArcaError, isArcaError } from '../../../core/errors.js';
import { fullPathOf, listChildren, type ItemRow } from '../../../db/items.js';
import type { Access } from '../../../security/access.js';
import type { RepoConfig } from '../../../services/repositories.js';
import type { Database } from '../../../db/database.js';
import type { ArtifactService } from '../../../services/artifacts.js';
import type { PackageServices } from '../../../services/remote/package-services.js';
import { filePath, generatedInfo, latestPath, listPath, parseVersionFileName, versionsFolder, type GoFileExt } from '../go-files.js';
import { checkCanonicalVersion, compareVersions, isPseudoVersion, latestOf } from '../module-path.js';

/** What a GOPROXY file request answers: a stored (or proxied) item, or bytes made here (a generated .info). */
export type GoAnswer = { kind: 'item'; item: ItemRow } | { kind: 'bytes'; data: Buffer; modified: number; path: string };

/** Largest upstream `@v/list` or `@latest` read. */
const MAX_UPSTREAM_METADATA = 4 << 20;

/** What the GOPROXY answers are read from. */
interface Stores {
  database: Database;
  artifacts: ArtifactService;
  packages: PackageServices;
}

/**
 * The GOPROXY use cases of every Go repository (local, remote, virtual), as one caller sees
 * them: a module's version list, its latest version, and the files of a version. Local
 * repositories answer from their items (the children of `{module}/@v`, one query per
 * module, never a walk of the repository); remote ones proxy the upstream GOPROXY at the
 * same paths; virtual ones merge their members' lists and take each file from the first
 * member that has it, locals first. Built once per node (`go.service`).
 */
export class GoService {
  constructor(private readonly stores: Stores) {}

  /** The module proxy of `repo` as the caller sees it; refused unless the caller may read something in `repo`. */
  async reader(access: Access, repo: RepoConfig, cacheOnly: boolean): Promise<GoProxy> {
    if (!(await access.canReadAny(repo))) await access.refuse(`read '${repo.key}'`);
    return new GoProxy(this.stores, access, cacheOnly);
  }
}

/** One request's view of Go repositories (see GoService). */
export class GoProxy {
  constructor(
    private readonly stores: Stores,
    private readonly access: Access,
    /** `{remote}-cache` was addressed: never ask the upstream. */
    private readonly cacheOnly: boolean,
  ) {}

  /** The `@v/list` of a module: its versions, pseudo-versions left out; NOT_FOUND when the repository has no such module. */
  async list(repo: RepoConfig, module: string): Promise<string[]> {
    const versions = await this.versionsOf(repo, module, false);
    if (!versions) throw new ArcaError('NOT_FOUND', `No module '${module}' in repository '${repo.key}'`);
    return versions.filter((v) => !isPseudoVersion(v)).sort(compareVersions);
  }

  /**
   * The `.info` of the module's latest version (release, else pre-release, else
   * pseudo-version), from the version lists; a remote's or member's upstream `@latest` counts
   * when its list is empty (a module with pseudo-versions only).
   */
  async latest(repo: RepoConfig, module: string): Promise<GoAnswer> {
    const version = latestOf((await this.versionsOf(repo, module, true)) ?? []);
    const info = version ? await this.file(repo, module, version, 'info') : undefined;
    if (!info) throw new ArcaError('NOT_FOUND', `No module '${module}' in repository '${repo.key}'`);
    return info;
  }

  /** The `.zip`, `.mod` or `.info` of a version; undefined when the repository does not have it. */
  async file(repo: RepoConfig, module: string, version: string, ext: GoFileExt): Promise<GoAnswer | undefined> {
    if (repo.rclass === 'local') return this.localFile(repo, module, version, ext);
    const path = filePath(module, version, ext);
    const options = { upstreamPath: path, kind: 'artifact' as const, user: this.access.user, cacheOnly: this.cacheOnly };
    if (repo.rclass === 'remote') {
      if (!(await this.access.can('read', repo, path))) return undefined;
      const item = await this.fetchQuietly(repo, path, options);
      return item ? { kind: 'item', item } : undefined;
    }
    const members = await this.members(repo);
    // Locals first, so a version deployed without its .info answers with the one made for it.
    for (const member of members) {
      if (member.rclass !== 'local') continue;
      const found = await this.localFile(member, module, version, ext);
      if (found) return found;
    }
    const hit = await this.stores.packages.virtual.resolve(repo, path, this.access, options);
    return hit && hit.repo.packageType === 'go' ? { kind: 'item', item: hit.item } : undefined;
  }

  private async members(virtual: RepoConfig): Promise<RepoConfig[]> {
    return (await this.stores.packages.virtual.members(virtual)).filter((m) => !m.blackedOut && m.packageType === 'go');
  }

  /** Versions with a zip or a go.mod; undefined when the module is unknown. With `withLatest`, a remote's `@latest` counts too. */
  private async versionsOf(repo: RepoConfig, module: string, withLatest: boolean): Promise<string[] | undefined> {
    if (repo.rclass === 'local') return this.localVersions(repo, module);
    if (repo.rclass === 'remote') {
      const listed = await this.upstreamList(repo, module);
      // The go command asks `@latest` only when the list has nothing for it; so do we.
      if (!withLatest || (listed && listed.length > 0)) return listed;
      const latest = await this.upstreamLatest(repo, module);
      return latest ? [...(listed ?? []), latest] : listed;
    }
    const all = new Set<string>();
    let found = false;
    for (const member of await this.members(repo)) {
      let versions: string[] | undefined;
      try {
        versions = await this.versionsOf(member, module, withLatest);
      } catch (err) {
        // A failing upstream only drops its member's versions.
        if (isArcaError(err, 'UPSTREAM_FAILED')) continue;
        throw err;
      }
      if (!versions) continue;
      found = true;
      for (const v of versions) all.add(v);
    }
    return found ? [...all] : undefined;
  }

  private async localVersions(repo: RepoConfig, module: string): Promise<string[] | undefined> {
    const folder = versionsFolder(module);
    const versions = new Set<string>();
    let found = false;
    for (const row of await listChildren(this.stores.database.db, repo.key, folder)) {
      const parsed = row.type === 'file' ? parseVersionFileName(row.name) : undefined;
      if (!parsed || parsed.ext === 'info' || versions.has(parsed.version)) continue;
      if (!(await this.access.can('read', repo, `${folder}/${row.name}`))) continue;
      found = true;
      versions.add(parsed.version);
    }
    return found ? [...versions] : undefined;
  }

  private async localFile(repo: RepoConfig, module: string, version: string, ext: GoFileExt): Promise<GoAnswer | undefined> {
    const find = async (e: GoFileExt) => {
      const path = filePath(module, version, e);
      if (!(await this.access.can('read', repo, path))) return undefined;
      const item = await this.stores.artifacts.find(repo.key, path);
      return item?.type === 'file' ? item : undefined;
    };
    const item = await find(ext);
    if (item) return { kind: 'item', item };
    if (ext !== 'info') return undefined;
    // No .info deployed: made from the version and when its files were stored.
    const source = (await find('zip')) ?? (await find('mod'));
    if (!source) return undefined;
    return { kind: 'bytes', data: generatedInfo(version, source.created), modified: source.created, path: filePath(module, version, 'info') };
  }

  private async fetchQuietly(repo: RepoConfig, path: string, options: { upstreamPath: string; kind: 'artifact' | 'metadata'; user: string; cacheOnly: boolean }): Promise<ItemRow | undefined> {
    try {
      return await this.stores.packages.remote.fetch(repo, path, options);
    } catch (err) {
      if (isArcaError(err, 'ITEM_NOT_FOUND')) return undefined;
      throw err;
    }
  }

  /** A remote's cached (or fetched) metadata file, read; undefined when the upstream has none. */
  private async upstreamMetadata(repo: RepoConfig, path: string): Promise<{ item: ItemRow; data: Buffer } | undefined> {
    if (!(await this.access.can('read', repo, path))) return undefined;
    const item = await this.fetchQuietly(repo, path, { upstreamPath: path, kind: 'metadata', user: this.access.user, cacheOnly: this.cacheOnly });
    if (!item) return undefined;
    if (Number(item.size) > MAX_UPSTREAM_METADATA) throw new ArcaError('UPSTREAM_FAILED', `The upstream of '${repo.key}' sent a ${path} larger than ${MAX_UPSTREAM_METADATA} bytes`);
    const data = await this.stores.packages.deploy.storeFor(repo, this.access.user).read(fullPathOf(item));
    return data ? { item, data } : undefined;
  }

  private async upstreamList(repo: RepoConfig, module: string): Promise<string[] | undefined> {
    const got = await this.upstreamMetadata(repo, listPath(module));
    if (!got) return undefined;
    // One version per line; anything else the upstream wrote is left out.
    const versions = got.data
      .toString('utf8')
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[0])
      .filter((v) => v && checkCanonicalVersion(v).ok);
    return [...new Set(versions)];
  }

  private async upstreamLatest(repo: RepoConfig, module: string): Promise<string | undefined> {
    const got = await this.upstreamMetadata(repo, latestPath(module));
    if (!got) return undefined;
    let version: unknown;
    try {
      version = (JSON.parse(got.data.toString('utf8')) as { Version?: unknown }).Version;
    } catch {
      version = undefined;
    }
    if (typeof version !== 'string' || !checkCanonicalVersion(version).ok) {
      throw new ArcaError('UPSTREAM_FAILED', `The upstream of '${repo.key}' sent an @latest that names no valid version`);
    }
    return version;
  }
}
