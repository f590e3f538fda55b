import { ArcaError, isArcaError } from '../../core/errors.js';
import type { ItemRow } from '../../db/items.js';
import type { ArtifactService } from '../artifacts.js';
import type { RemoteFetchOptions, RemoteFetchService } from '../remote-fetch.js';
import type { RepoConfig, RepositoryService } from '../repositories.js';
import type { Access } from '../../security/access.js';

/** A member's copy of a path. */
export interface MemberHit {
  repo: RepoConfig;
  item: ItemRow;
}

export interface ResolveOptions extends RemoteFetchOptions {
  /** Only what is already stored: local members and remote caches, never an upstream. */
  cacheOnly?: boolean;
}

/**
 * Resolution in virtual repositories, shared by every format. The members are flattened
 * (nested virtual repositories expanded in place, each repository once) and searched in the
 * order Artifactory uses: local repositories first, then the caches of remote repositories,
 * then the remote upstreams, each group in the configured order. Read permission is checked
 * per member with the caller's Access; a member the caller cannot read is skipped.
 */
export class VirtualResolver {
  constructor(
    private readonly repos: RepositoryService,
    private readonly artifacts: ArtifactService,
    private readonly remote: RemoteFetchService,
  ) {}

  /** The flattened members of a virtual repository, locals first then remotes, each once. */
  async members(virtual: RepoConfig): Promise<RepoConfig[]> {
    const seen = new Set<string>([virtual.key]);
    const flat: RepoConfig[] = [];
    const walk = async (repo: RepoConfig) => {
      for (const key of memberKeys(repo)) {
        if (seen.has(key)) continue;
        seen.add(key);
        const member = await this.repos.get(key);
        if (!member) continue;
        if (member.rclass === 'virtual') await walk(member);
        else flat.push(member);
      }
    };
    await walk(virtual);
    return [...flat.filter((r) => r.rclass === 'local'), ...flat.filter((r) => r.rclass === 'remote')];
  }

  /** The first readable member holding a file at `path`; undefined when none has it. */
  async resolve(virtual: RepoConfig, path: string, access: Access, options: ResolveOptions = {}): Promise<MemberHit | undefined> {
    const members = await this.readable(virtual, path, access);
    for (const repo of members.filter((r) => r.rclass === 'local')) {
      const item = await this.artifacts.find(repo.key, path);
      if (item?.type === 'file') return { repo, item };
    }
    const remotes = members.filter((r) => r.rclass === 'remote');
    for (const repo of remotes) {
      const item = await this.fetchQuietly(repo, path, { ...options, cacheOnly: true });
      if (item) return { repo, item };
    }
    if (options.cacheOnly) return undefined;
    for (const repo of remotes) {
      const item = await this.fetchQuietly(repo, path, options);
      if (item) return { repo, item };
    }
    return undefined;
  }

  /**
   * Every readable member's copy of `path`, in resolution order (for merging metadata).
   * Remote members are asked through their cache rules; a failing upstream only drops its copy.
   */
  async collect(virtual: RepoConfig, path: string, access: Access, options: ResolveOptions = {}): Promise<MemberHit[]> {
    const hits: MemberHit[] = [];
    for (const repo of await this.readable(virtual, path, access)) {
      const item = repo.rclass === 'remote' ? await this.fetchQuietly(repo, path, options) : await this.artifacts.find(repo.key, path);
      if (item?.type === 'file') hits.push({ repo, item });
    }
    return hits;
  }

  /** Where a deploy to the virtual repository goes: its `defaultDeploymentRepo`, a local member. */
  async deploymentRepo(virtual: RepoConfig): Promise<RepoConfig> {
    const key = typeof virtual.defaultDeploymentRepo === 'string' ? virtual.defaultDeploymentRepo : '';
    if (!key) {
      throw new ArcaError('METHOD_NOT_ALLOWED', `Virtual repository '${virtual.key}' has no defaultDeploymentRepo: deploy to one of its local repositories instead`);
    }
    const target = await this.repos.get(key);
    if (!target || target.rclass !== 'local') {
      throw new ArcaError('CONFLICT', `The defaultDeploymentRepo '${key}' of virtual repository '${virtual.key}' is not a local repository`);
    }
    return target;
  }

  private async readable(virtual: RepoConfig, path: string, access: Access): Promise<RepoConfig[]> {
    const out: RepoConfig[] = [];
    for (const m of await this.members(virtual)) {
      if (m.blackedOut) continue;
      if (await access.can('read', m, path)) out.push(m);
    }
    return out;
  }

  private async fetchQuietly(repo: RepoConfig, path: string, options: RemoteFetchOptions): Promise<ItemRow | undefined> {
    try {
      return await this.remote.fetch(repo, path, options);
    } catch (err) {
      if (isArcaError(err, 'ITEM_NOT_FOUND') || isArcaError(err, 'UPSTREAM_FAILED')) return undefined;
      throw err;
    }
  }
}

/** The `repositories` list of a virtual repository configuration. */
export function memberKeys(repo: { [field: string]: unknown }): string[] {
  return Array.isArray(repo.repositories) ? repo.repositories.filter((k): k is string => typeof k === 'string') : [];
}
