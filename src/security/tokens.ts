import { randomBytes, randomUUID } from 'node:crypto';
import { bumpVersion, type ConfigVersions } from '../cluster/config-versions.js';
import type { Clock } from '../core/clock.js';
import { sha256Hex } from '../core/digests.js';
import { ArcaError } from '../core/errors.js';
import { LruCache } from '../core/lru-cache.js';
import type { Database } from '../db/database.js';
import type { Db } from '../db/items.js';
import type { Directory } from './directory.js';
import { signJwt, verifyJwt, type TokenClaims } from './jwt.js';
import { subjectOf, userOfSubject, type TokenKeys } from './token-keys.js';
import { fullBacking, tokenBacking } from './token-backing.js';
import { TokenLifetimePolicy } from './token-lifetime.js';
import { parseScope, type AppliedScope } from './token-scope.js';
import type { Principal } from './types.js';
import { checkName } from './validation.js';

export const DEFAULT_AUDIENCE = '*@*';
/** How long a "this token id is not revoked" answer is trusted; a revocation also drops it at once (security version). */
const REVOCATION_CACHE_MS = 5_000;

export interface TokenRequest {
  username?: string;
  scope?: string;
  /** Seconds; 0 = never expires (admins only); at most the policy's maximum for non-admins. */
  expiresIn?: number;
  /**
   * For tokens Arca mints on a client's behalf (npm login, the registry token service): a
   * lifetime above what the policy allows the caller is shortened to it instead of refused.
   */
  clampExpiry?: boolean;
  refreshable?: boolean;
  audience?: string;
  description?: string;
}

export interface IssuedToken {
  tokenId: string;
  accessToken: string;
  refreshToken?: string;
  expiresIn: number;
  scope: string;
  tokenType: 'Bearer';
}

export interface TokenInfo {
  token_id: string;
  issuer: string;
  subject: string;
  /** Epoch seconds; absent for tokens that never expire. */
  expiry?: number;
  refreshable: boolean;
  issued_at: number;
  description?: string;
}

export interface VerifiedToken {
  principal: Principal;
  /** Epoch milliseconds, or undefined when the token never expires. */
  expiresAt?: number;
}

const unauthorized = (message: string) => new ArcaError('UNAUTHORIZED', message);
const forbidden = (message: string) => new ArcaError('FORBIDDEN', message);
const badScope = (message: string) => new ArcaError('BAD_REQUEST', `Invalid token request: 'scope' ${message}`, { field: 'scope' });

/** A token id known not to be revoked (until `until`), with who created it (backs transient subjects). */
interface LiveToken {
  until: number;
  createdBy: string | null;
}

/**
 * Access tokens: HS256 JWTs recorded in `access_tokens` so they can be listed and revoked.
 * A token carries a scope, never privileges: each use evaluates the scope against the user's
 * current state (token-backing.ts), and a refresh re-checks it and the lifetime policy.
 */
export class TokenService {
  private readonly live = new LruCache<LiveToken>(50_000);

  constructor(
    private readonly database: Database,
    private readonly versions: ConfigVersions,
    private readonly clock: Clock,
    private readonly directory: Directory,
    private readonly keys: TokenKeys,
    readonly lifetimes: TokenLifetimePolicy = new TokenLifetimePolicy(),
  ) {}

  invalidate(): void {
    this.live.clear();
  }

  async create(caller: Principal, req: TokenRequest): Promise<IssuedToken> {
    if (caller.anonymous) throw unauthorized('Authentication is required to create a token');
    const username = checkName(req.username ?? caller.name, 'token request');
    const scope = parseScope(req.scope);
    const expiresIn = this.lifetimes.forCreate({ requested: req.expiresIn, admin: caller.admin, clamp: req.clampExpiry });
    await this.checkMayCreate(caller, username, scope.applied);
    return this.issue({
      username,
      scope: scope.text,
      applied: scope.applied,
      expiresIn,
      refreshable: req.refreshable === true,
      audience: req.audience || DEFAULT_AUDIENCE,
      description: req.description ?? null,
      createdBy: caller.backedBy ?? caller.name,
    });
  }

  /**
   * Non-admins create tokens only for themselves, never wider than their own rights. An
   * administrator may create any token, but only one whose scope the user backs: an admin
   * scope for an administrator, groups the user is a member of (any groups for a transient
   * user, backed by the creating administrator).
   */
  private async checkMayCreate(caller: Principal, username: string, applied: AppliedScope): Promise<void> {
    if (applied.kind === 'groups') {
      const known = await this.directory.allGroups();
      const missing = applied.groups.filter((g) => !known.has(g));
      if (missing.length > 0) throw badScope(`names groups that do not exist: ${missing.join(', ')}`);
    }
    if (caller.admin) {
      const user = await this.directory.user(username);
      if (!user) {
        if (applied.kind === 'groups') return;
        throw new ArcaError('BAD_REQUEST', `Invalid token request: 'username' names a user that does not exist ('${username}'); only group-scoped tokens may have a transient user`, { field: 'username' });
      }
      if (applied.kind === 'admin' && !(await this.directory.principalOf(user, 'token')).admin) {
        throw badScope(`is applied-permissions/admin, but '${username}' is not an administrator`);
      }
      if (applied.kind === 'groups') {
        const outside = applied.groups.filter((g) => !user.groups.includes(g));
        if (outside.length > 0) throw badScope(`names groups '${username}' is not a member of: ${outside.join(', ')}`);
      }
      return;
    }
    if (username !== caller.name) throw forbidden('Only administrators may create tokens for other users');
    if (applied.kind === 'admin') throw forbidden('Only administrators may create tokens with the admin scope');
    if (applied.kind === 'user' && caller.groupsOnly) throw forbidden('A group-scoped token cannot create a user-scoped token');
    if (applied.kind === 'groups') {
      const outside = applied.groups.filter((g) => !caller.groups.includes(g));
      if (outside.length > 0) throw forbidden(`Only administrators may create tokens for groups they are not a member of: ${outside.join(', ')}`);
    }
  }

  private async issue(t: {
    username: string;
    scope: string;
    applied: AppliedScope;
    expiresIn: number;
    refreshable: boolean;
    audience: string;
    description: string | null;
    createdBy: string;
    replaces?: string;
  }): Promise<IssuedToken> {
    const id = await this.keys.get();
    const now = this.clock.now();
    const iat = Math.floor(now / 1000);
    const claims: TokenClaims = { sub: subjectOf(id.issuer, t.username), scp: t.scope, aud: t.audience, iss: id.issuer, iat, jti: randomUUID() };
    if (t.expiresIn > 0) claims.exp = iat + t.expiresIn;
    const refreshToken = t.refreshable ? randomBytes(32).toString('base64url') : undefined;
    await this.database.db.transaction().execute(async (trx) => {
      if (t.replaces) {
        const res = await trx.updateTable('access_tokens').set({ revoked: 1, refresh_hash: null }).where('token_id', '=', t.replaces).where('revoked', '=', 0).executeTakeFirst();
        if (Number(res.numUpdatedRows) === 0) throw unauthorized('The refresh token was already used or revoked');
        await bumpVersion(trx, 'security');
      }
      await trx
        .insertInto('access_tokens')
        .values({
          token_id: claims.jti,
          subject: claims.sub,
          scope: t.scope,
          audience: t.audience,
          description: t.description,
          // Whole seconds, as in the JWT, so expiry minus issue time is the exact lifetime.
          issued_at: iat * 1000,
          expires_at: claims.exp === undefined ? null : claims.exp * 1000,
          refreshable: t.refreshable ? 1 : 0,
          refresh_hash: refreshToken ? sha256Hex(refreshToken) : null,
          revoked: 0,
          created_by: t.createdBy,
        })
        .execute();
    });
    if (t.replaces) this.versions.changedLocally('security');
    const out: IssuedToken = { tokenId: claims.jti, accessToken: signJwt(claims, id.key, id.kid), expiresIn: t.expiresIn, scope: t.scope, tokenType: 'Bearer' };
    if (refreshToken) out.refreshToken = refreshToken;
    return out;
  }

  /**
   * Exchanges a refresh token (and, when given, the access token it belongs to) for a new
   * pair; the old token is revoked in the same transaction, so a refresh token works once.
   * The scope must still be fully backed by the user as they are now, and the new lifetime
   * (asked for, or inherited from the old token) is held to the policy for that user.
   */
  async refresh(refreshToken: string, accessToken: string | undefined, expiresIn: number | undefined): Promise<IssuedToken> {
    const row = await this.database.db.selectFrom('access_tokens').selectAll().where('refresh_hash', '=', sha256Hex(refreshToken)).where('revoked', '=', 0).executeTakeFirst();
    if (!row) throw unauthorized('Invalid refresh token');
    const id = await this.keys.get();
    if (accessToken !== undefined && verifyJwt(accessToken, id.key)?.jti !== row.token_id) {
      throw unauthorized('The access token does not belong to the refresh token');
    }
    const username = userOfSubject(id.issuer, row.subject);
    if (!username) throw unauthorized('Invalid refresh token');
    const scope = parseScope(row.scope);
    const backing = await fullBacking(this.directory, { username, applied: scope.applied, tokenId: row.token_id, createdBy: row.created_by });
    const inherited = row.expires_at === null ? 0 : Math.round((Number(row.expires_at) - Number(row.issued_at)) / 1000);
    return this.issue({
      username,
      scope: row.scope,
      applied: scope.applied,
      expiresIn: this.lifetimes.forRefresh({ requested: expiresIn, inherited, admin: backing.admin }),
      refreshable: true,
      audience: row.audience ?? DEFAULT_AUDIENCE,
      description: row.description,
      createdBy: row.created_by,
      replaces: row.token_id,
    });
  }

  /** Checks signature, expiry, audience and revocation, and builds the token's principal. */
  async verify(token: string): Promise<VerifiedToken> {
    const id = await this.keys.get().catch(() => undefined);
    const claims = id && verifyJwt(token, id.key);
    if (!id || !claims) throw unauthorized('Invalid access token');
    const now = this.clock.now();
    if (claims.exp !== undefined && claims.exp * 1000 <= now) throw unauthorized('The access token has expired');
    if (!audienceMatches(claims.aud, id.issuer)) throw unauthorized('The access token is not meant for this service');
    const username = userOfSubject(id.issuer, claims.sub);
    if (!username) throw unauthorized('The access token has a foreign subject');
    const { createdBy } = await this.checkNotRevoked(claims.jti, now);
    const { principal } = await tokenBacking(this.directory, { username, applied: parseScope(claims.scp).applied, tokenId: claims.jti, createdBy });
    return { principal, expiresAt: claims.exp === undefined ? undefined : claims.exp * 1000 };
  }

  /** Loads the revocation state and the creator together; cached briefly, and dropped on every 'security' change. */
  private async checkNotRevoked(tokenId: string, now: number): Promise<LiveToken> {
    const hit = this.live.get(tokenId);
    if (hit !== undefined && hit.until > now) return hit;
    const row = await this.database.db.selectFrom('access_tokens').select(['revoked', 'created_by']).where('token_id', '=', tokenId).executeTakeFirst();
    if (!row || row.revoked !== 0) throw unauthorized('The access token has been revoked');
    const live = { until: now + REVOCATION_CACHE_MS, createdBy: row.created_by };
    this.live.set(tokenId, live);
    return live;
  }

  /** Live tokens: every one for an administrator, else the caller's own. */
  async list(caller: Principal): Promise<TokenInfo[]> {
    const id = await this.keys.get();
    const now = this.clock.now();
    let q = this.database.db
      .selectFrom('access_tokens')
      .selectAll()
      .where('revoked', '=', 0)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));
    if (!caller.admin) q = q.where('subject', '=', subjectOf(id.issuer, caller.name));
    const rows = await q.orderBy('issued_at').execute();
    return rows.map((r) => {
      const info: TokenInfo = {
        token_id: r.token_id,
        issuer: id.issuer,
        subject: r.subject,
        refreshable: r.refreshable === 1,
        issued_at: Math.floor(Number(r.issued_at) / 1000),
      };
      if (r.expires_at !== null) info.expiry = Math.floor(Number(r.expires_at) / 1000);
      if (r.description) info.description = r.description;
      return info;
    });
  }

  /** Revokes by id or by the token itself; non-admins only their own (others look absent). */
  async revoke(caller: Principal, ref: { tokenId?: string; token?: string }): Promise<void> {
    const id = await this.keys.get();
    let tokenId = ref.tokenId;
    if (ref.token !== undefined) {
      const claims = verifyJwt(ref.token, id.key);
      if (!claims) throw new ArcaError('BAD_REQUEST', "Invalid revoke request: 'token' is not an access token issued here", { field: 'token' });
      tokenId = claims.jti;
    }
    if (!tokenId) throw new ArcaError('BAD_REQUEST', "Invalid revoke request: give 'token' or 'token_id'", { field: 'token_id' });
    await this.database.db.transaction().execute(async (trx) => {
      let q = trx.updateTable('access_tokens').set({ revoked: 1, refresh_hash: null }).where('token_id', '=', tokenId!).where('revoked', '=', 0);
      if (!caller.admin) q = q.where('subject', '=', subjectOf(id.issuer, caller.name));
      const res = await q.executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) throw new ArcaError('NOT_FOUND', `Token '${tokenId}' not found`);
      await bumpVersion(trx, 'security');
    });
    this.live.delete(tokenId);
    this.versions.changedLocally('security');
  }

  /** Revokes every token of a user, inside the transaction that deletes them. */
  async revokeAllOf(trx: Db, username: string): Promise<void> {
    const issuer = await this.keys.existingIssuer(trx);
    if (!issuer) return;
    await trx.updateTable('access_tokens').set({ revoked: 1, refresh_hash: null }).where('subject', '=', subjectOf(issuer, username)).execute();
  }
}

/** `*@*`, `*`, `jfrt@*` and this service's own id are accepted. */
function audienceMatches(aud: string, issuer: string): boolean {
  return aud.split(/[\s,]+/).some((a) => a === '*' || a === '*@*' || a === 'jfrt@*' || a === issuer);
}
