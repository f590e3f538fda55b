import { ArcaError } from '../core/errors.js';
import { isTrashRepo, type RepoConfig } from '../core/repo-config.js';
import type { Action, Principal } from './types.js';

/** The permission decisions an `Access` delegates (the security service). */
export interface AccessDecider {
  canAccess(principal: Principal, action: Action, repo: RepoConfig, path: string): Promise<boolean>;
  canReadAny(principal: Principal, repo: RepoConfig): Promise<boolean>;
  canReadAll(principal: Principal, repo: RepoConfig): Promise<boolean>;
  holdsAny(principal: Principal, repo: RepoConfig): Promise<boolean>;
  canAny(principal: Principal, action: Action, repo: RepoConfig): Promise<boolean>;
}

/**
 * One caller's permissions, as a use case receives them. The HTTP edge makes it from the
 * authenticated principal (`request.access`); a service asks it before it acts, so the
 * permission check of a use case lives in the use case, next to what it protects. (The edge
 * still refuses a request before reading its body when the caller can do nothing there; see
 * http/route-access.ts. That is a cheap pre-check, not the decision.)
 */
export class Access {
  constructor(
    readonly principal: Principal,
    private readonly decider: AccessDecider,
    /** `security.hideUnauthorizedResources`: refusals answer "not found" instead of 403. */
    private readonly hideRefusals: () => Promise<boolean>,
  ) {}

  /** The caller's user name (`anonymous` for anonymous access). */
  get user(): string {
    return this.principal.name;
  }

  get admin(): boolean {
    return this.principal.admin;
  }

  get anonymous(): boolean {
    return this.principal.anonymous;
  }

  /** The trash can is for administrators only, whatever the permission targets say (as in the seed). */
  private trashRefused(repo: RepoConfig): boolean {
    return !this.principal.admin && isTrashRepo(repo);
  }

  /** May the caller do `action` at `path` of `repo`? */
  async can(action: Action, repo: RepoConfig, path: string): Promise<boolean> {
    if (this.trashRefused(repo)) return false;
    return this.decider.canAccess(this.principal, action, repo, path);
  }

  /** May the caller read something in `repo` (listings, searches)? */
  async canReadAny(repo: RepoConfig): Promise<boolean> {
    if (this.trashRefused(repo)) return false;
    return this.decider.canReadAny(this.principal, repo);
  }

  /**
   * May the caller read every path of `repo`? Then `can('read', repo, path)` is true for any
   * path, so a listing may skip the check per item (it still asks this once per page).
   */
  async canReadAll(repo: RepoConfig): Promise<boolean> {
    if (this.trashRefused(repo)) return false;
    return this.decider.canReadAll(this.principal, repo);
  }

  /** Does the caller hold any permission at all in `repo`? */
  async holdsAny(repo: RepoConfig): Promise<boolean> {
    if (this.trashRefused(repo)) return false;
    return this.decider.holdsAny(this.principal, repo);
  }

  /** May the caller do `action` somewhere in `repo`? */
  async canAny(action: Action, repo: RepoConfig): Promise<boolean> {
    if (this.trashRefused(repo)) return false;
    return this.decider.canAny(this.principal, action, repo);
  }

  /** Throws the refusal of `action` at `path` unless the caller may do it. */
  async require(action: Action, repo: RepoConfig, path: string): Promise<void> {
    if (await this.can(action, repo, path)) return;
    await this.refuse(`${action} '${repo.key}/${path}'`);
  }

  /** Throws the refusal unless the caller is an administrator. */
  async requireAdmin(): Promise<void> {
    if (this.principal.admin) return;
    await this.refuse('perform this administrative action');
  }

  /**
   * The refusal of `what`: UNAUTHORIZED for an anonymous caller (so clients log in and retry),
   * NOT_FOUND when unauthorised resources are hidden, FORBIDDEN otherwise.
   */
  async refuse(what: string): Promise<never> {
    if (this.principal.anonymous) throw new ArcaError('UNAUTHORIZED', `Authentication is required to ${what}`);
    if (await this.hideRefusals()) throw new ArcaError('NOT_FOUND', 'Not found');
    throw new ArcaError('FORBIDDEN', `User '${this.principal.name}' is not permitted to ${what}`);
  }
}

/** The node acting on its own account; it never acts for a caller. */
const SYSTEM_PRINCIPAL: Principal = Object.freeze({ name: '_system', admin: true, groups: [], anonymous: false, via: 'system' as const });

const ALLOW_ALL: AccessDecider = {
  canAccess: async () => true,
  canReadAny: async () => true,
  canReadAll: async () => true,
  holdsAny: async () => true,
  canAny: async () => true,
};

/**
 * The access of the node itself, for writes a format makes on its own account after the
 * caller's use case was allowed: metadata it regenerates (maven-metadata.xml, an npm
 * packument), a file it derives from an accepted upload (a wheel's `.metadata`). Every check
 * passes, so it must never be given to a caller's request.
 */
export const SYSTEM_ACCESS = new Access(SYSTEM_PRINCIPAL, ALLOW_ALL, async () => false);
