import { FileBodies } from './file-bodies.js';
import type { ContentStore } from '../../content/content-store.js';
import { ArcaError } from '../../core/errors.js';
import { fullPathOf } from '../../db/items.js';
import type { FormatHandlers } from '../../formats/format-handlers.js';
import type { Access } from '../../security/access.js';
import type { ArtifactService } from '../artifacts.js';
import type { PackageServices } from '../remote/package-services.js';
import type { RepoConfig, RepositoryService } from '../repositories.js';
import { ChecksumFiles } from './checksums.js';
import { CurrentFiles } from './current-files.js';
import { Locator, type Found, type LocatorDeps } from './locate.js';
import type { VirtualResolver } from './virtual-resolver.js';
import { RepoVisibility, type Addressed } from './visibility.js';

/** Refuses (400) a repository of another package type than a format's route serves; `format` reads "a Go", "a PyPI". */
export function requirePackageType(repo: RepoConfig, packageType: string, format: string): void {
  if (repo.packageType !== packageType) throw new ArcaError('BAD_REQUEST', `Repository '${repo.key}' is a ${repo.packageType} repository, not ${format} repository`);
}

export interface ServeDeps {
  repos: RepositoryService;
  artifacts: ArtifactService;
  content: ContentStore;
  /** The format handlers: checksum files, path kinds, metadata merging. */
  formats: FormatHandlers;
  /** The shared package services: upstream fetches, the virtual resolver, the formats' view of a repository. */
  packages: Pick<PackageServices, 'remote' | 'virtual' | 'deploy'>;
  /** The reads a format's service answers itself, by package type. */
  reads?: LocatorDeps['reads'];
}

export interface ReadOptions {
  /** The request URL ended with '/' (a folder URL). */
  folder?: boolean;
}

/**
 * Serve: what a caller reads at a path of a local, remote or virtual repository of any
 * format, and which repository a URL key addresses (for reads and for deploys). The caller's
 * `Access` comes in with every call and the read permission is decided here: the path's own
 * permission in a local or remote repository, each member's in a virtual one (a member the
 * caller may not read is skipped), and the children of a folder the caller may not read are
 * left out.
 */
export class ServeService {
  /** What a caller may know of repositories (a hidden one answers like a missing one). */
  readonly visibility: RepoVisibility;
  /** Resolution in virtual repositories (members in order, first hit, every copy). */
  readonly virtual: VirtualResolver;
  /** The bytes of stored files, for the edge to send. */
  readonly bodies: FileBodies;
  /**
   * Small stored files kept for plain downloads while the database proves them current. The
   * edge's fast path (http/fast-get.ts) decides the caller's read permission itself, with the
   * same decisions `read` makes, before it asks.
   */
  readonly currentFiles: CurrentFiles;
  private readonly locator: Locator;
  private readonly artifacts: ArtifactService;

  constructor(deps: ServeDeps) {
    this.artifacts = deps.artifacts;
    const { remote, virtual, deploy } = deps.packages;
    this.visibility = new RepoVisibility(deps.repos);
    this.virtual = virtual;
    this.bodies = new FileBodies(deps.content);
    this.currentFiles = new CurrentFiles(deps.artifacts, this.bodies);
    this.locator = new Locator({
      artifacts: deps.artifacts,
      remote,
      virtual,
      formats: deps.formats,
      stores: deploy,
      checksums: new ChecksumFiles(deps.content),
      reads: deps.reads,
    });
  }

  /** The repository a URL key addresses for the caller (`{remote}-cache` included). */
  address(access: Access, key: string, intent: 'read' | 'change'): Promise<Addressed> {
    return this.visibility.address(access, key, intent);
  }

  /** `address` for a format's protocol route: a repository of another package type is a 400 (see requirePackageType). */
  async addressFormat(access: Access, key: string, intent: 'read' | 'change', packageType: string, format: string): Promise<Addressed> {
    const addressed = await this.address(access, key, intent);
    requirePackageType(addressed.repo, packageType, format);
    return addressed;
  }

  /**
   * What a GET of `path` answers in an addressed repository: a stored or proxied file, content
   * made by the format, or a folder's children the caller may read (a repository root is
   * always a folder). Throws ITEM_NOT_FOUND when there is nothing, and the caller's refusal
   * when the caller may not read it (in a virtual repository: when nothing was found and a
   * member was hidden from the caller, so clients that log in only when challenged do).
   */
  async read(access: Access, at: Addressed, path: string, options: ReadOptions = {}): Promise<Found> {
    const { repo } = at;
    // A virtual repository is read through its members' permissions (checked per member).
    if (repo.rclass !== 'virtual') await access.require('read', repo, path);
    const found = await this.locator.locate({ access, cacheOnly: at.cacheOnly, folder: options.folder }, repo, path);
    if (repo.rclass === 'virtual' && (!found || (found.kind === 'folder' && found.rows.length === 0))) {
      for (const m of await this.virtual.members(repo)) {
        if (!(await access.can('read', m, path))) await access.refuse(`read '${repo.key}/${path}'`);
      }
    }
    if (found && found.kind !== 'folder') return found;
    if (!found && path !== '') throw new ArcaError('ITEM_NOT_FOUND', `Could not find resource '${at.key}/${path}'`);
    const rows = found?.kind === 'folder' ? found.rows : await this.artifacts.children(repo.key, '');
    // Children of a virtual repository were filtered per member already.
    if (repo.rclass === 'virtual') return { kind: 'folder', rows };
    const visible = [];
    for (const c of rows) {
      if (await access.can('read', repo, fullPathOf(c))) visible.push(c);
    }
    return { kind: 'folder', rows: visible };
  }

  /**
   * The local repository a deploy to `key` goes to: the repository itself, or a virtual
   * repository's defaultDeploymentRepo. Remote repositories (and their caches) are read-only.
   */
  async deployTarget(access: Access, key: string): Promise<RepoConfig> {
    const { repo, cacheOnly } = await this.visibility.address(access, key, 'change');
    if (repo.rclass === 'remote' || cacheOnly) {
      throw new ArcaError('METHOD_NOT_ALLOWED', `Remote repository '${repo.key}' is read-only: deploy to a local repository instead`);
    }
    // A deploy to a virtual repository goes to its defaultDeploymentRepo, with that repository's permissions.
    return repo.rclass === 'virtual' ? this.virtual.deploymentRepo(repo) : repo;
  }
}
