import { ArcaError, isArcaError } from '../../core/errors.js';
import { encodePath } from '../../core/paths.js';
import { fullPathOf, getProperties, listChildren, listDescendants, type ItemRow } from '../../db/items.js';
import { isNormalizedProjectName, normalizeProjectName } from '../../formats/pypi/names.js';
import { parseDistributionFilename } from '../../formats/pypi/filenames.js';
import { buildProjectPage } from '../../formats/pypi/project-page.js';
import { cachedPagePath } from '../../formats/pypi/pypi-handler.js';
import type { IndexFile, ProjectPage } from '../../formats/pypi/simple-index.js';
import { parseProjectPage, parseRootPage, UPSTREAM_ACCEPT } from '../../formats/pypi/upstream-page.js';
import type { PackageServices } from '../../services/remote/package-services.js';
import type { RepoConfig } from '../../services/repositories.js';
import type { AccessCheck } from '../../services/storage-api.js';
import type { AppContext } from '../app-context.js';

/**
 * The simple pages and file lookups of PyPI repositories of every class. Links are relative
 * to the project page (`../../packages/{path}`), so they work behind any host name and
 * through a virtual repository alike. A remote repository caches the upstream's pages and
 * rewrites the links to files below its `url` + `/packages/` to point at itself; links
 * elsewhere stay as the upstream wrote them.
 */

export interface PageContext {
  ctx: AppContext;
  svc: PackageServices;
  can: AccessCheck;
  user: string;
  /** `{remote}-cache` was addressed: never ask the upstream. */
  cacheOnly: boolean;
}

const linkTo = (path: string) => `../../packages/${encodePath(path)}`;

/** A remote's index base (JFrog `pyPIRegistryUrl`, default `url`) and simple suffix. */
function upstreamOf(pc: PageContext, repo: RepoConfig) {
  const filesBase = pc.svc.remote.settings(repo).url;
  const registry = typeof repo.pyPIRegistryUrl === 'string' && repo.pyPIRegistryUrl ? repo.pyPIRegistryUrl.replace(/\/+$/, '') : filesBase;
  const suffix = typeof repo.pyPIRepositorySuffix === 'string' && repo.pyPIRepositorySuffix ? repo.pyPIRepositorySuffix.replace(/^\/+|\/+$/g, '') : 'simple';
  return { filesBase, registry, suffix };
}

/** A remote's cached (or freshly fetched) upstream page; undefined when the upstream has none. */
async function upstreamPage(pc: PageContext, repo: RepoConfig, project: string | undefined): Promise<{ data: Buffer; url: string } | undefined> {
  const { registry, suffix } = upstreamOf(pc, repo);
  const rel = project === undefined ? `${suffix}/` : `${suffix}/${encodeURIComponent(project)}/`;
  let item: ItemRow;
  try {
    // The page lives at the registry URL, which may differ from the files' `url`.
    item = await pc.svc.remote.fetch({ ...repo, url: registry }, cachedPagePath(project), {
      upstreamPath: rel,
      kind: 'metadata',
      headers: { accept: UPSTREAM_ACCEPT },
      user: pc.user,
      cacheOnly: pc.cacheOnly,
    });
  } catch (err) {
    if (isArcaError(err, 'ITEM_NOT_FOUND')) return undefined;
    throw err;
  }
  const data = await pc.svc.deploy.storeFor(repo, pc.user).read(fullPathOf(item));
  return data ? { data, url: `${registry}/${rel}` } : undefined;
}

/** Not the parser's reason: a JSON error quotes the upstream's page, which is never shown to callers. */
function badUpstream(repo: RepoConfig, _err: unknown): ArcaError {
  return new ArcaError('UPSTREAM_FAILED', `The upstream index of '${repo.key}' sent a page that cannot be read (neither PEP 691 JSON nor PEP 503 HTML)`);
}

async function localPage(pc: PageContext, repo: RepoConfig, project: string): Promise<ProjectPage | undefined> {
  const db = pc.ctx.database.db;
  const rows: ItemRow[] = [];
  for (const r of await listDescendants(db, repo.key, project)) {
    if (r.type === 'file' && r.sha256 && (await pc.can('read', repo, fullPathOf(r)))) rows.push(r);
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

async function remotePage(pc: PageContext, repo: RepoConfig, project: string): Promise<ProjectPage | undefined> {
  if (!(await pc.can('read', repo, cachedPagePath(project)))) return undefined;
  const page = await upstreamPage(pc, repo, project);
  if (!page) return undefined;
  let parsed;
  try {
    parsed = parseProjectPage(page.data, page.url);
  } catch (err) {
    throw badUpstream(repo, err);
  }
  const filesPrefix = `${upstreamOf(pc, repo).filesBase}/packages/`;
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
async function virtualPage(pc: PageContext, repo: RepoConfig, project: string): Promise<ProjectPage | undefined> {
  const byName = new Map<string, IndexFile>();
  const versions = new Set<string>();
  let found = false;
  for (const member of await pc.svc.virtual.members(repo)) {
    if (member.blackedOut || member.packageType !== 'pypi') continue;
    let page: ProjectPage | undefined;
    try {
      page = member.rclass === 'local' ? await localPage(pc, member, project) : await remotePage(pc, member, project);
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

/** The page of a (normalised) project; undefined when the repository has no such project. */
export function projectPage(pc: PageContext, repo: RepoConfig, project: string): Promise<ProjectPage | undefined> {
  if (repo.rclass === 'virtual') return virtualPage(pc, repo, project);
  if (repo.rclass === 'remote') return remotePage(pc, repo, project);
  return localPage(pc, repo, project);
}

/** The normalised names of the projects a repository holds, sorted. */
export async function projectNames(pc: PageContext, repo: RepoConfig): Promise<string[]> {
  const names = new Set<string>();
  const add = async (member: RepoConfig) => {
    if (member.rclass === 'local') {
      for (const c of await listChildren(pc.ctx.database.db, member.key, '')) {
        if (c.type === 'folder' && isNormalizedProjectName(c.name) && (await pc.can('read', member, c.name))) names.add(c.name);
      }
      return;
    }
    if (!(await pc.can('read', member, cachedPagePath(undefined)))) return;
    const page = await upstreamPage(pc, member, undefined);
    if (!page) return;
    try {
      for (const n of parseRootPage(page.data)) names.add(normalizeProjectName(n));
    } catch (err) {
      throw badUpstream(member, err);
    }
  };
  if (repo.rclass !== 'virtual') await add(repo);
  else {
    for (const member of await pc.svc.virtual.members(repo)) {
      if (member.blackedOut || member.packageType !== 'pypi') continue;
      try {
        await add(member);
      } catch (err) {
        if (!isArcaError(err, 'UPSTREAM_FAILED')) throw err;
      }
    }
  }
  return [...names].sort();
}

/** The stored (or proxied) file behind `packages/{path}`; undefined when there is none. */
export async function packageFile(pc: PageContext, repo: RepoConfig, path: string): Promise<ItemRow | undefined> {
  const options = { upstreamPath: `packages/${encodePath(path)}`, kind: 'artifact' as const, user: pc.user, cacheOnly: pc.cacheOnly };
  if (repo.rclass === 'virtual') return (await pc.svc.virtual.resolve(repo, path, pc.can, options))?.item;
  if (repo.rclass === 'remote') {
    try {
      return await pc.svc.remote.fetch(repo, path, options);
    } catch (err) {
      if (isArcaError(err, 'ITEM_NOT_FOUND')) return undefined;
      throw err;
    }
  }
  const item = await pc.ctx.artifacts.find(repo.key, path);
  return item?.type === 'file' ? item : undefined;
}
