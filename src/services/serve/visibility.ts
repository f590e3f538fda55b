import { ArcaError } from '../../core/errors.js';
import type { Access } from '../../security/access.js';
import type { RepoConfig, RepositoryService } from '../repositories.js';

/**
 * Repositories as a caller may know them. A caller who may not read anything in a repository
 * learns nothing about it: every per-repository endpoint looks the key up here and answers
 * exactly as it does for a key that does not exist (same status, same body). Only a request
 * that changes something (`intent: 'change'`: a deploy, a delete, new properties) also counts
 * the other permissions, so a deploy-only user can still deploy.
 *
 * An anonymous caller gets 401 "Authentication is required" both for a repository it may not
 * see and for one that does not exist, so clients that send credentials only after a challenge
 * (Maven, pip) still log in, and the two answers stay the same.
 */

export type Intent = 'read' | 'change';

/** A repository addressed by a URL key: `{remote}-cache` is the cache of a remote, never its upstream. */
export interface Addressed {
  repo: RepoConfig;
  cacheOnly: boolean;
  /** The key as the caller wrote it (`{remote}-cache` for a remote's cache). */
  key: string;
}

/** Nested virtual repositories deeper than this are not followed (a cycle cannot be saved anyway). */
const MAX_DEPTH = 8;

/** The answer for an anonymous caller to a repository it may not see (or that does not exist). */
export function anonymousHidden(): ArcaError {
  return new ArcaError('UNAUTHORIZED', 'Authentication is required');
}

export class RepoVisibility {
  constructor(private readonly repos: Pick<RepositoryService, 'get'>) {}

  /** True when the caller may know that `repo` exists. */
  canSee(access: Access, repo: RepoConfig, intent: Intent = 'read'): Promise<boolean> {
    if (access.admin) return Promise.resolve(true);
    return this.sees(access, repo, intent, 0);
  }

  /**
   * The repository `key` names, or undefined when there is none or the caller may not see it
   * (the endpoint then gives its usual "not found" answer). Anonymous callers get UNAUTHORIZED
   * instead of undefined.
   */
  async visible(access: Access, key: string, intent: Intent = 'read'): Promise<RepoConfig | undefined> {
    const repo = await this.repos.get(key);
    if (repo && (await this.canSee(access, repo, intent))) return repo;
    if (access.anonymous) throw anonymousHidden();
    return undefined;
  }

  /** Like `visible`, but throws the JFrog REPO_NOT_FOUND answer instead of returning undefined. */
  async requireVisible(access: Access, key: string, intent: Intent = 'read'): Promise<RepoConfig> {
    const repo = await this.visible(access, key, intent);
    if (!repo) throw new ArcaError('REPO_NOT_FOUND', `Repository '${key}' not found`);
    return repo;
  }

  /** The repository a URL key addresses (`{remote}-cache` included), answered like `requireVisible`. */
  async address(access: Access, key: string, intent: Intent): Promise<Addressed> {
    const repo = await this.repos.get(key);
    if (repo) {
      if (await this.canSee(access, repo, intent)) return { repo, cacheOnly: false, key };
    } else if (key.endsWith('-cache')) {
      const remote = await this.repos.get(key.slice(0, -'-cache'.length));
      if (remote?.rclass === 'remote' && (await this.canSee(access, remote, intent))) return { repo: remote, cacheOnly: true, key };
    }
    if (access.anonymous) throw anonymousHidden();
    throw new ArcaError('REPO_NOT_FOUND', `Repository '${key}' not found`);
  }

  private async sees(access: Access, repo: RepoConfig, intent: Intent, depth: number): Promise<boolean> {
    const direct = intent === 'read' ? access.canReadAny(repo) : access.holdsAny(repo);
    if (await direct) return true;
    // A virtual repository is read through its members' permissions.
    if (repo.rclass !== 'virtual' || depth >= MAX_DEPTH || !Array.isArray(repo.repositories)) return false;
    for (const key of repo.repositories as unknown[]) {
      const member = typeof key === 'string' ? await this.repos.get(key) : undefined;
      if (member && (await this.sees(access, member, intent, depth + 1))) return true;
    }
    return false;
  }
}
