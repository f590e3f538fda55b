import { ArcaError, isArcaError } from '../../../core/errors.js';
import { encodePath } from '../../../core/paths.js';
import type { Database } from '../../../db/database.js';
import { fullPathOf, getProperties, listChildren, listDescendants, type ItemRow } from '../../../db/items.js';
import type { Access } from '../../../security/access.js';
import type { ArtifactService } from '../../../services/artifacts.js';
import type { PackageServices } from '../../../services/remote/package-services.js';
import type { RepoConfig } from '../../../services/repositories.js';
import { parseDistributionFilename } from '../filenames.js';
import { isNormalizedProjectName, normalizeProjectName } from '../names.js';
import { buildProjectPage } from '../project-page.js';
import { cachedPagePath } from '../pypi-handler.js';
import type { IndexFile, ProjectPage } from '../simple-index.js';
import { parseProjectPage, parseRootPage, UPSTREAM_ACCEPT } from '../upstream-page.js';

/** What the PyPI pages are read from. */
export interface PypiStores {
  database: Database;
  artifacts: ArtifactService;
  packages: PackageServices;
}

const linkTo = (path: string) => `../../packages/${encodePath(path)}`;

/** Not the parser's reason: a JSON error quotes the upstream's page, which is never shown to callers. */
function badUpstream(repo: RepoConfig, _err: unknown): ArcaError {
  return new ArcaError('UPSTREAM_FAILED', `The upstream index of '${repo.key}' sent a page that cannot be read (neither PEP 691 JSON nor PEP 503 HTML)`);
}

/**
 * The simple pages and file lookups of PyPI repositories of every class, as one caller sees
 * them (files it may not read are left out). Links are relative to the project page
 * (`../../packages/{path}`), so they work behind any host name and through a virtual
 * repository alike. A remote repository caches the upstream's pages and rewrites the links
 * to files below its `url` + `/packages/` to point at itself; links elsewhere stay as the
 * upstream wrote them.
 *
 * Made by `PypiService.reader` once the caller may read the repository; one per request.
 */
export class PypiPages {

  constructor(
    private readonly stores: PypiStores,
    private readonly access: Access,
    /** `{remote}-cache` was addressed: never ask the upstream. */
    private readonly cacheOnly: boolean,
  ) {
  }

  /** The page of a (normalised) project; NOT_FOUND when the repository has no such project. */
  async projectPage(repo: RepoConfig, project: string): Promise<ProjectPage> {
    const page = await this.pageOf(repo, project);
    if (!page) throw new ArcaError('NOT_FOUND', `No project '${project}' in repository '${repo.key}'`);
    return page;
  }

  /** The normalised names of the projects a repository holds, sorted. */
  async projectNames(repo: RepoConfig): Promise<string[]> {
    const names = new Set<string>();
    if (repo.rclass !== 'virtual') await this.addNames(names, repo);
    else {
      for (const member of await this.stores.packages.virtual.members(repo)) {
        if (member.blackedOut || member.packageType !== 'pypi') continue;
        try {
          await this.addNames(names, member);
        } catch (err) {
          if (!isArcaError(err, 'UPSTREAM_FAILED')) throw err;
        }
      }
    }
    return [...names].sort();
  }

  /** The stored (or proxied) file behind `packages/{path}`; undefined when there is none. */
  async packageFile(repo: RepoConfig, path: string): Promise<ItemRow | undefined> {
    const { packages, artifacts } = this.stores;
    const options = { upstreamPath: `packages/${encodePath(path)}`, kind: 'artifact' as const, user: this.access.user, cacheOnly: this.cacheOnly };
    if (repo.rclass === 'virtual') return (await packages.virtual.resolve(repo, path, this.access, options))?.item;
    if (repo.rclass === 'remote') {
      try {
        return await packages.remote.fetch(repo, path, options);
      } catch (err) {
        if (isArcaError(err, 'ITEM_NOT_FOUND')) return undefined;
        throw err;
      }
    }
    const item = await artifacts.find(repo.key, path);
    return item?.type === 'file' ? item : undefined;
  }

  private pageOf(repo: RepoConfig, project: string): Promise<ProjectPage | undefined> {
    if (repo.rclass === 'virtual') return this.virtualPage(repo, project);
    if (repo.rclass === 'remote') return this.remotePage(repo, project);
    return this.localPage(repo, project);
  }

  private async addNames(names: Set<string>, member: RepoConfig): Promise<void> {
    if (member.rclass === 'local') {
      for (const c of await listChildren(this.stores.database.db, member.key, '')) {
        if (c.type === 'folder' && isNormalizedProjectName(c.name) && (await this.access.can('read', member, c.name))) names.add(c.name);
      }
      return;
    }
    if (!(await this.access.can('read', member, cachedPagePath(undefined)))) return;
    const page = await this.upstreamPage(member, undefined);
    if (!page) return;
    try {
      for (const n of parseRootPage(page.data)) names.add(normalizeProjectName(n));
    } catch (err) {
      throw badUpstream(member, err);
    }
  }

  /** A remote's index base (JFrog `pyPIRegistryUrl`, default `url`) and simple suffix. */
  private upstreamOf(repo: RepoConfig) {
    const filesBase = this.stores.packages.remote.settings(repo).url;
    const registry = typeof repo.pyPIRegistryUrl === 'string' && repo.pyPIRegistryUrl ? repo.pyPIRegistryUrl.replace(/\/+$/, '') : filesBase;
    const suffix = typeof repo.pyPIRepositorySuffix === 'string' && repo.pyPIRepositorySuffix ? repo.pyPIRepositorySuffix.replace(/^\/+|\/+$/g, '') : 'simple';
    return { filesBase, registry, suffix };
  }

  /** A remote's cached (or freshly fetched) upstream page; undefined when the upstream has none. */
  private async upstreamPage(repo: RepoConfig, project: string | undefined): Promise<{ data: Buffer; url: string } | undefined> {
    const { packages } = this.stores;
    const { registry, suffix } = this.upstreamOf(repo);
    const rel = project === undefined ? `${suffix}/` : `${suffix}/${encodeURIComponent(project)}/`;
    let item: ItemRow;
    try {
      // The page lives at the registry URL, which may differ from the files' `url`.
      item = await packages.remote.fetch({ ...repo, url: registry }, cachedPagePath(project), {
        upstreamPath: rel,
        kind: 'metadata',
        headers: { accept: UPSTREAM_ACCEPT },
        user: this.access.user,
        cacheOnly: this.cacheOnly,
      });
    } catch (err) {
      if (isArcaError(err, 'ITEM_NOT_FOUND')) return undefined;
      throw err;
    }
    const data = await packages.deploy.storeFor(repo, this.access.user).read(fullPathOf(item));
    return data ? { data, url: `${registry}/${rel}` } : undefined;
  }

  private async localPage(repo: RepoConfig, project: string): Promise<ProjectPage | undefined> {
    const db = this.stores.database.db;
    const rows: ItemRow[] = [];
    for (const r of await listDescendants(db, repo.key, project)) {
      if (r.type === 'file' && r.sha256 && (await this.access.can('read', repo, fullPathOf(r)))) rows.push(r);
    }
    const props = await getProperties(db, rows.map((r) => r.id));
    const files = rows.map((r) => ({
      path: fullPathOf(r),
      name: r.name,
      sha256: r.sha256!,
      size: Number(r.size),
      created: r.created,
      properties: props.get(r.id) ?? {},
    }));
    return buildProjectPage(project, files, linkTo);
  }

  private async remotePage(repo: RepoConfig, project: string): Promise<ProjectPage | undefined> {
    if (!(await this.access.can('read', repo, cachedPagePath(project)))) return undefined;
    const page = await this.upstreamPage(repo, project);
    if (!page) return undefined;
    let parsed;
    try {
      parsed = parseProjectPage(page.data, page.url);
    } catch (err) {
      throw badUpstream(repo, err);
    }
    const filesPrefix = `${this.upstreamOf(repo).filesBase}/packages/`;
    const versions = new Set<string>();
    const files: IndexFile[] = parsed.map((f) => {
      const v = parseDistributionFilename(f.filename);
      if (v.ok) versions.add(v.file.normalizedVersion);
      const url = f.url.startsWith(filesPrefix) ? `../../packages/${f.url.slice(filesPrefix.length)}` : f.url;
      return { ...f, url };
    });
    return { name: project, files, versions: [...versions] };
  }

  /** Members' pages merged, locals first: a file name listed by two members comes from the first. */
  private async virtualPage(repo: RepoConfig, project: string): Promise<ProjectPage | undefined> {
    const byName = new Map<string, IndexFile>();
    const versions = new Set<string>();
    let found = false;
    for (const member of await this.stores.packages.virtual.members(repo)) {
      if (member.blackedOut || member.packageType !== 'pypi') continue;
      let page: ProjectPage | undefined;
      try {
        page = member.rclass === 'local' ? await this.localPage(member, project) : await this.remotePage(member, project);
      } catch (err) {
        // A failing upstream only drops its member's files.
        if (isArcaError(err, 'UPSTREAM_FAILED')) continue;
        throw err;
      }
      if (!page) continue;
      found = true;
      for (const f of page.files) if (!byName.has(f.filename)) byName.set(f.filename, f);
      for (const v of page.versions) versions.add(v);
    }
    if (!found) return undefined;
    const files = [...byName.values()].sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0));
    return { name: project, files, versions: [...versions] };
  }
}
