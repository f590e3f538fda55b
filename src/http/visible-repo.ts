import { ArcaError } from '../core/errors.js';
import type { Principal } from '../security/types.js';
import type { RepoConfig } from '../services/repositories.js';
import type { AppContext } from './app-context.js';

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

/** Nested virtual repositories deeper than this are not followed (a cycle cannot be saved anyway). */
const MAX_DEPTH = 8;

async function sees(ctx: AppContext, principal: Principal, repo: RepoConfig, intent: Intent, depth: number): Promise<boolean> {
  const direct = intent === 'read' ? ctx.security.canReadAny(principal, repo) : ctx.security.holdsAny(principal, repo);
  if (await direct) return true;
  // A virtual repository is read through its members' permissions.
  if (repo.rclass !== 'virtual' || depth >= MAX_DEPTH || !Array.isArray(repo.repositories)) return false;
  for (const key of repo.repositories as unknown[]) {
    const member = typeof key === 'string' ? await ctx.repos.get(key) : undefined;
    if (member && (await sees(ctx, principal, member, intent, depth + 1))) return true;
  }
  return false;
}

/** True when the caller may know that `repo` exists. */
export function canSeeRepo(ctx: AppContext, principal: Principal, repo: RepoConfig, intent: Intent = 'read'): Promise<boolean> {
  if (principal.admin) return Promise.resolve(true);
  return sees(ctx, principal, repo, intent, 0);
}

/** The answer for an anonymous caller to a repository it may not see (or that does not exist). */
export function anonymousHidden(): ArcaError {
  return new ArcaError('UNAUTHORIZED', 'Authentication is required');
}

/**
 * The repository `key` names, or undefined when there is none or the caller may not see it
 * (the endpoint then gives its usual "not found" answer). Anonymous callers get UNAUTHORIZED
 * instead of undefined.
 */
export async function visibleRepo(ctx: AppContext, principal: Principal, key: string, intent: Intent = 'read'): Promise<RepoConfig | undefined> {
  const repo = await ctx.repos.get(key);
  if (repo && (await canSeeRepo(ctx, principal, repo, intent))) return repo;
  if (principal.anonymous) throw anonymousHidden();
  return undefined;
}

/** Like visibleRepo, but throws the JFrog REPO_NOT_FOUND answer instead of returning undefined. */
export async function requireVisibleRepo(ctx: AppContext, principal: Principal, key: string, intent: Intent = 'read'): Promise<RepoConfig> {
  const repo = await visibleRepo(ctx, principal, key, intent);
  if (!repo) throw new ArcaError('REPO_NOT_FOUND', `Repository '${key}' not found`);
  return repo;
}

/** The intent of an HTTP method: GET, HEAD and OPTIONS read; everything else changes. */
export function intentOf(method: string): Intent {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' ? 'read' : 'change';
}
