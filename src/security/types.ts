import type { RepoConfig } from '../core/repo-config.js';

/** Permission actions of the v2 permission-target JSON; v1 letters map onto them (r w n d m). */
export type Action = 'read' | 'write' | 'annotate' | 'delete' | 'manage';

export interface Principal {
  /** User name; `anonymous` for unauthenticated callers when anonymous access is on. */
  name: string;
  admin: boolean;
  /** Groups the principal acts with (a token's scope may narrow them). */
  groups: string[];
  anonymous: boolean;
  /** How the caller authenticated (`system`: the node itself, see SYSTEM_ACCESS in access.ts). */
  via: 'basic' | 'token' | 'apikey' | 'session' | 'anonymous' | 'system';
  /** Set for access tokens. */
  tokenId?: string;
  /**
   * True for a token scoped to `applied-permissions/groups:…`: the caller acts with `groups`
   * only, and grants given to the user name itself do not apply.
   */
  groupsOnly?: boolean;
  /**
   * For the token of a transient subject (a group-scoped token of a user that does not exist):
   * the administrator whose rights back it. A token such a caller creates is backed by them too.
   */
  backedBy?: string;
}

/** The request facts authentication needs, independent of the HTTP framework. */
export interface Credentials {
  authorization?: string;
  apiKey?: string;
  /** The UI session cookie's value; used only when no other credentials are given. */
  session?: string;
  remoteAddress?: string;
}

/**
 * What the HTTP layer needs from security: who is calling, and may they do this.
 * `authenticate` returns the anonymous principal when no credentials are given (whether or
 * not anonymous access is on; `canAccess` then decides), and throws UNAUTHORIZED for bad
 * credentials or LOCKED_OUT while a user is locked after failed logins.
 */
export interface Security {
  authenticate(credentials: Credentials): Promise<Principal>;
  canAccess(principal: Principal, action: Action, repo: RepoConfig, path: string): Promise<boolean>;
  /** True when the principal may read something in the repository (for listings and searches). */
  canReadAny(principal: Principal, repo: RepoConfig): Promise<boolean>;
  anonymousAccessEnabled(): Promise<boolean>;
}
