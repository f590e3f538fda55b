import { writeFileSync } from 'node:fs';
import type { ConfigVersions } from '../cluster/config-versions.js';
import type { Clock } from '../core/clock.js';
import { ArcaError } from '../core/errors.js';
import type { RepoConfig } from '../core/repo-config.js';
import type { Database } from '../db/database.js';
import { API_KEY_PREFIX, ApiKeyService } from './api-keys.js';
import { AuthCache } from './auth-cache.js';
import { Directory } from './directory.js';
import { decryptPassword, encryptPassword, ENCRYPTED_PASSWORD_PREFIX } from './encrypted-password.js';
import { PermissionEvaluator } from './evaluator.js';
import { GroupStore } from './groups.js';
import { JWT_SHAPE } from './jwt.js';
import { PasswordLogin } from './password-login.js';
import type { SessionStore } from './session-store.js';
import { SessionService, type SessionOptions } from './sessions.js';
import { hashPassword, randomPassword } from './passwords.js';
import { PermissionStore } from './permissions.js';
import { TokenKeys } from './token-keys.js';
import { TokenLifetimePolicy } from './token-lifetime.js';
import { TokenService } from './tokens.js';
import type { Action, Credentials, Principal, Security } from './types.js';
import { UserStore } from './users.js';
import type { PasswordPolicy } from './password-policy.js';
import { orIgnore } from '../db/dialect.js';

export const ANONYMOUS: Principal = Object.freeze({ name: 'anonymous', admin: false, groups: [], anonymous: true, via: 'anonymous' as const });

/** The system settings security reads (services/system-settings.ts's `SystemSettings` is one). */
export interface SecuritySettings {
  get(): Promise<{ anonAccessEnabled: boolean }>;
  /** What `get` would answer, when it is known without waiting; else undefined. */
  peek?(): { anonAccessEnabled: boolean } | undefined;
}

export interface SecurityOptions {
  /** Failed logins before the user is locked for a growing period. */
  maxFailures: number;
  /** How long a verified credential is trusted without re-checking it (per process). */
  authCacheMs?: number;
  /** The master key: encrypts API keys, the token signing key and encrypted passwords. */
  masterKey: Buffer;
  /** Longest token lifetime a non-admin gets, in seconds (`arca.token.nonAdminMaxExpiresInSecs`; default one year). */
  tokenMaxExpiresInSecs?: number;
  /** UI login sessions (cookie authentication) on this store; none without it. */
  sessions?: { store: SessionStore } & SessionOptions;
  /** The rules of new passwords (`arca.password.*`); any non-empty password without it. */
  passwordPolicy?: PasswordPolicy;
}

/**
 * The security facade: authentication (Basic with a password, an encrypted password, an
 * access token or an API key; Bearer tokens; `X-JFrog-Art-Api`), authorisation decisions,
 * and the stores behind the security REST API. Every cache here is per process and is
 * dropped when the 'security' version changes anywhere in the cluster.
 */
export class SecurityService implements Security {
  readonly directory: Directory;
  readonly users: UserStore;
  readonly groups: GroupStore;
  readonly permissions: PermissionStore;
  readonly tokens: TokenService;
  readonly apiKeys: ApiKeyService;
  private readonly tokenKeys: TokenKeys;
  private readonly evaluator: PermissionEvaluator;
  private readonly passwords: PasswordLogin;
  private readonly authCache = new AuthCache(10_000);
  private readonly verifying = new Map<string, Promise<Principal>>();
  private readonly authCacheMs: number;
  private readonly masterKey: Buffer;
  /** UI login sessions (cookie authentication), when the options give their store. */
  readonly sessions: SessionService | undefined;

  constructor(
    private readonly database: Database,
    private readonly settings: SecuritySettings,
    versions: ConfigVersions,
    private readonly clock: Clock,
    options: SecurityOptions,
  ) {
    this.authCacheMs = options.authCacheMs ?? 30_000;
    this.masterKey = options.masterKey;
    this.directory = new Directory(database);
    this.users = new UserStore(database, versions, clock, options.passwordPolicy);
    this.groups = new GroupStore(database, versions, clock);
    this.permissions = new PermissionStore(database, versions, clock);
    this.tokenKeys = new TokenKeys(database, clock, options.masterKey);
    this.tokens = new TokenService(database, versions, clock, this.directory, this.tokenKeys, new TokenLifetimePolicy(options.tokenMaxExpiresInSecs));
    this.apiKeys = new ApiKeyService(database, versions, clock, options.masterKey);
    this.evaluator = new PermissionEvaluator(() => this.permissions.all());
    this.passwords = new PasswordLogin(database, this.directory, clock, options.maxFailures, (name) => this.authCache.dropUser(name));
    this.users.onDeleted = (trx, name) => this.tokens.revokeAllOf(trx, name);
    // A session logs in through this service (password check, lockout) and reads its directory.
    const s = options.sessions;
    this.sessions = s && new SessionService(s.store, this, database, clock, { nodeId: s.nodeId, idleMs: s.idleMs });
    versions.on('security', () => this.invalidate());
  }

  invalidate(): void {
    this.authCache.clear();
    this.directory.invalidate();
    this.evaluator.invalidate();
    this.tokens.invalidate();
  }

  /** Creates `admin` at first start: password from ARCA_ADMIN_PASSWORD, else a random one written to a 0600 file. */
  async bootstrapAdmin(adminPassword: string | undefined, passwordFile: string): Promise<{ created: boolean; generated: boolean }> {
    const existing = await this.database.db.selectFrom('users').select('name').where('name', '=', 'admin').executeTakeFirst();
    if (existing) return { created: false, generated: false };
    const password = adminPassword && adminPassword !== '' ? adminPassword : randomPassword();
    const now = this.clock.now();
    const db = this.database.db;
    const insert = db
      .insertInto('users')
      .values({
        name: 'admin',
        email: null,
        password_hash: await hashPassword(password),
        admin: 1,
        profile_updatable: 1,
        disable_ui_access: 0,
        internal_password_disabled: 0,
        realm: 'internal',
        last_logged_in: null,
        failed_logins: 0,
        locked_until: null,
        api_key_enc: null,
        api_key_hash: null,
        created: now,
        modified: now,
      });
    await orIgnore(db, insert, 'name').execute();
    const generated = !adminPassword;
    if (generated) writeFileSync(passwordFile, password + '\n', { mode: 0o600 });
    return { created: true, generated };
  }

  async anonymousAccessEnabled(): Promise<boolean> {
    return (await this.settings.get()).anonAccessEnabled;
  }

  /**
   * The principal for credentials verified recently, without waiting: the common case of
   * every request after a client's first. Undefined when they must be verified.
   */
  cachedPrincipal(credentials: Credentials): Principal | undefined {
    const { authorization: auth, apiKey } = credentials;
    // A session cookie is read from its store on every request (logout must end it at once).
    if (!auth && !apiKey) return credentials.session ? undefined : ANONYMOUS;
    // The credentials themselves are the key: they are in this process's memory anyway, and
    // hashing them on every request costs more than the lookup.
    const cacheKey = auth ? `a:${auth}` : `k:${apiKey}`;
    const now = this.clock.now();
    const hit = this.authCache.entry(cacheKey, now);
    if (!hit) return undefined;
    // Re-verify in the background shortly before the entry lapses, so a busy client never
    // waits for a password hash once its credentials are cached.
    if (hit.expires - now < this.authCacheMs / 5 && !this.verifying.has(cacheKey)) {
      this.verifyOnce(auth, apiKey, cacheKey, now).catch(() => undefined);
    }
    return hit.principal;
  }

  async authenticate(credentials: Credentials): Promise<Principal> {
    const cached = this.cachedPrincipal(credentials);
    if (cached) return cached;
    const { authorization: auth, apiKey } = credentials;
    if (!auth && !apiKey) return (this.sessions && (await this.sessions.principal(credentials.session!))) || ANONYMOUS;
    const cacheKey = auth ? `a:${auth}` : `k:${apiKey}`;
    // Concurrent requests with the same credentials share one verification (one scrypt),
    // instead of a burst of identical ones when a client opens many connections at once.
    return this.verifying.get(cacheKey) ?? this.verifyOnce(auth, apiKey, cacheKey, this.clock.now());
  }

  private verifyOnce(auth: string | undefined, apiKey: string | undefined, cacheKey: string, now: number): Promise<Principal> {
    const verification = this.verify(auth, apiKey, cacheKey, now).finally(() => this.verifying.delete(cacheKey));
    this.verifying.set(cacheKey, verification);
    return verification;
  }

  private async verify(auth: string | undefined, apiKey: string | undefined, cacheKey: string, now: number): Promise<Principal> {
    let principal: Principal;
    let expires = now + this.authCacheMs;
    if (auth && /^basic /i.test(auth)) {
      const r = await this.basic(auth.slice(6).trim());
      principal = r.principal;
      if (r.expiresAt !== undefined) expires = Math.min(expires, r.expiresAt);
    } else if (auth && /^bearer /i.test(auth)) {
      const r = await this.tokens.verify(auth.slice(7).trim());
      principal = r.principal;
      if (r.expiresAt !== undefined) expires = Math.min(expires, r.expiresAt);
    } else if (auth && JWT_SHAPE.test(auth.trim())) {
      // A bare token or API key as the whole header: what cargo sends after `cargo login <token>`,
      // and `gem` (RubyGems' API keys have no scheme).
      const r = await this.tokens.verify(auth.trim());
      principal = r.principal;
      if (r.expiresAt !== undefined) expires = Math.min(expires, r.expiresAt);
    } else if (auth && auth.trim().startsWith(API_KEY_PREFIX)) {
      principal = await this.viaApiKey(auth.trim());
    } else if (auth) {
      throw new ArcaError('UNAUTHORIZED', 'Unsupported authentication scheme');
    } else {
      principal = await this.viaApiKey(apiKey!);
    }
    this.authCache.set(cacheKey, principal, expires);
    return principal;
  }

  private async viaApiKey(apiKey: string, expectedUser?: string): Promise<Principal> {
    const owner = await this.apiKeys.owner(apiKey);
    const facts = owner === undefined || (expectedUser !== undefined && owner !== expectedUser) ? undefined : await this.directory.user(owner);
    if (!facts) throw new ArcaError('UNAUTHORIZED', 'Bad API key');
    return this.directory.principalOf(facts, 'apikey');
  }

  /**
   * `user:secret` where the secret is an access token, an API key, an encrypted password or
   * the password. A token or key that does not check out falls through to the password check
   * (and so counts as a failed login), as a mistyped password would.
   */
  private async basic(encoded: string): Promise<{ principal: Principal; expiresAt?: number }> {
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new ArcaError('UNAUTHORIZED', 'Malformed Basic credentials');
    const name = decoded.slice(0, colon);
    let secret = decoded.slice(colon + 1);
    if (JWT_SHAPE.test(secret)) {
      const r = await this.tokens.verify(secret).catch(() => undefined);
      if (r && r.principal.name === name) return r;
    } else if (secret.startsWith('AKC')) {
      const p = await this.viaApiKey(secret, name).catch(() => undefined);
      if (p) return { principal: p };
    } else if (secret.startsWith(ENCRYPTED_PASSWORD_PREFIX)) {
      secret = decryptPassword(this.masterKey, name, secret) ?? secret;
    }
    return { principal: await this.passwords.login(name, secret) };
  }

  /** Checks a user name and password, applying the failed-login lockout. */
  async login(name: string, password: string): Promise<Principal> {
    return this.passwords.login(name, password);
  }

  /** The encrypted form of the password the caller logged in with (see encrypted-password.ts). */
  encryptedPasswordFor(principal: Principal, authorization: string | undefined): string {
    if (principal.via !== 'basic' || !authorization || !/^basic /i.test(authorization)) {
      throw new ArcaError('FORBIDDEN', 'An encrypted password can only be made for a caller that logged in with a user name and password');
    }
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const name = decoded.slice(0, colon);
    let password = decoded.slice(colon + 1);
    if (name !== principal.name) throw new ArcaError('UNAUTHORIZED', 'Bad credentials');
    password = decryptPassword(this.masterKey, name, password) ?? password;
    return encryptPassword(this.masterKey, name, password);
  }

  async canAccess(principal: Principal, action: Action, repo: RepoConfig, path: string): Promise<boolean> {
    if (principal.admin) return true;
    if (principal.anonymous && !(await this.anonymousAccessEnabled())) return false;
    return this.evaluator.allows(principal, action, repo, path);
  }

  /**
   * What `canAccess` answers, without waiting: for an administrator, or a user whose grants
   * this process has compiled since the last 'security' change (anonymous callers: and the
   * anonymous access setting is cached). Undefined otherwise: then ask `canAccess`.
   */
  canAccessNow(principal: Principal, action: Action, repo: RepoConfig, path: string): boolean | undefined {
    if (principal.admin) return true;
    if (principal.anonymous) {
      const settings = this.settings.peek?.();
      if (settings === undefined) return undefined;
      if (!settings.anonAccessEnabled) return false;
    }
    return this.evaluator.allowsNow(principal, action, repo, path);
  }

  async canReadAny(principal: Principal, repo: RepoConfig): Promise<boolean> {
    if (principal.admin) return true;
    if (principal.anonymous && !(await this.anonymousAccessEnabled())) return false;
    return this.evaluator.readsAny(principal, repo);
  }

  /** True when `canAccess(principal, 'read', repo, path)` is true for every path of the repository. */
  async canReadAll(principal: Principal, repo: RepoConfig): Promise<boolean> {
    if (principal.admin) return true;
    if (principal.anonymous && !(await this.anonymousAccessEnabled())) return false;
    return this.evaluator.allowsEverywhere(principal, 'read', repo);
  }

  /** True when the principal may do anything at all in the repository (so may know that it exists). */
  async holdsAny(principal: Principal, repo: RepoConfig): Promise<boolean> {
    if (principal.admin) return true;
    if (principal.anonymous && !(await this.anonymousAccessEnabled())) return false;
    return this.evaluator.holdsAny(principal, repo);
  }

  /** True when `action` is allowed on some path of the repository (a check before the path is known). */
  async canAny(principal: Principal, action: Action, repo: RepoConfig): Promise<boolean> {
    if (principal.admin) return true;
    if (principal.anonymous && !(await this.anonymousAccessEnabled())) return false;
    return this.evaluator.allowsAny(principal, action, repo);
  }
}
