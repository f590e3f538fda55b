import { ArcaError } from '../core/errors.js';
import type { Directory, UserFacts } from './directory.js';
import type { AppliedScope } from './token-scope.js';
import type { Principal } from './types.js';

/** What a token claims, and who issued it (`access_tokens.created_by`). */
export interface TokenSubject {
  username: string;
  applied: AppliedScope;
  tokenId: string;
  createdBy: string | null;
}

export interface Backing {
  /** What the token acts with now. */
  principal: Principal;
  /** Parts of the scope that are no longer backed (groups the user left, deleted groups). */
  lost: string[];
  /** Whether the user behind the token (the creator, for a transient subject) is an administrator now: decides the lifetime policy. */
  admin: boolean;
}

const unbacked = (message: string) => new ArcaError('UNAUTHORIZED', message);

async function isAdmin(directory: Directory, user: UserFacts): Promise<boolean> {
  return user.admin || (await directory.anyAdminGroup(user.groups));
}

/**
 * Evaluates a token's scope against the current user and group facts (the cached directory,
 * dropped on every 'security' change anywhere in the cluster), so privileges are decided when
 * the token is used, not when it was issued:
 *
 * - `user`: the user as they are now; a deleted user's tokens are dead.
 * - `admin`: admin only while the user is still an administrator (admin flag or an
 *   admin-privileged group); otherwise the token is refused.
 * - `groups` of an existing user: only the groups the user is still a member of.
 * - `groups` of a transient subject (no such user): only while the administrator who created
 *   the token still exists and is still an administrator.
 *
 * Throws UNAUTHORIZED when nothing of the scope is backed any more.
 */
export async function tokenBacking(directory: Directory, s: TokenSubject): Promise<Backing> {
  const user = await directory.user(s.username);
  const applied = s.applied;
  if (applied.kind !== 'groups') {
    if (!user) throw unbacked(`User '${s.username}' no longer exists`);
    const principal = await directory.principalOf(user, 'token', s.tokenId);
    if (applied.kind === 'admin' && !principal.admin) {
      throw unbacked(`The token's admin scope is no longer backed: '${s.username}' is no longer an administrator`);
    }
    return { principal, lost: [], admin: principal.admin };
  }
  const known = await directory.allGroups();
  let held = applied.groups.filter((g) => known.has(g));
  let admin: boolean;
  let backedBy: string | undefined;
  if (user) {
    held = held.filter((g) => user.groups.includes(g));
    if (held.length === 0) throw unbacked(`The token's groups scope is no longer backed: '${s.username}' is no longer a member of ${applied.groups.join(', ')}`);
    admin = await isAdmin(directory, user);
  } else {
    const creator = s.createdBy === null ? undefined : await directory.user(s.createdBy);
    if (!creator || !(await isAdmin(directory, creator))) {
      throw unbacked(`The token of transient user '${s.username}' is no longer backed: its creator '${s.createdBy ?? ''}' is no longer an administrator`);
    }
    if (held.length === 0) throw unbacked(`The token's groups no longer exist: ${applied.groups.join(', ')}`);
    admin = true;
    backedBy = creator.name;
  }
  const principal: Principal = {
    name: s.username,
    admin: await directory.anyAdminGroup(held),
    groups: held,
    anonymous: false,
    via: 'token',
    tokenId: s.tokenId,
    groupsOnly: true,
  };
  if (backedBy) principal.backedBy = backedBy;
  return { principal, lost: applied.groups.filter((g) => !held.includes(g)), admin };
}

/** For a refresh: the whole scope must still be backed, else no new token is minted. */
export async function fullBacking(directory: Directory, s: TokenSubject): Promise<Backing> {
  const b = await tokenBacking(directory, s);
  if (b.lost.length > 0) throw unbacked(`The token's scope is no longer backed: '${s.username}' is no longer a member of ${b.lost.join(', ')}`);
  return b;
}
