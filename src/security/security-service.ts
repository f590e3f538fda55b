import { writeFileSync } from 'node:fs';
import type { ConfigVersions } from '../cluster/config-versions.js';
import type { Clock } from '../core/clock.js';
import { sha256Hex } from '../core/digests.js';
import { ArcaError } from '../core/errors.js';
import { LruCache } from '../content/lru-cache.js';
import type { Database } from '../db/database.js';
import type { RepoConfig } from '../services/repositories.js';
import type { SystemSettings } from '../services/system-settings.js';
import { hashPassword, randomPassword, verifyPassword } from './passwords.js';
import type { Action, Credentials, Principal, Security } from './types.js';

export const ANONYMOUS: Principal = Object.freeze({ name: 'anonymous', admin: false, groups: [], anonymous: true, via: 'anonymous' as const });

export interface SecurityOptions {
  /** Failed logins before the user is locked for a growing period. */
  maxFailures: number;
  /** How long a verified credential is trusted without re-checking it (per process). */
  authCacheMs?: number;
}

interface CachedAuth {
  principal: Principal;
  expires: number;
}

/** Authentication (Basic with scrypt-hashed passwords) and authorisation decisions. */
export class SecurityService implements Security {
  private readonly authCache = new LruCache<CachedAuth>(10_000);
  private readonly authCacheMs: number;

  constructor(
    private readonly database: Database,
    private readonly settings: SystemSettings,
    private readonly versions: ConfigVersions,
    private readonly clock: Clock,
    private readonly options: SecurityOptions,
  ) {
    this.authCacheMs = options.authCacheMs ?? 30_000;
    versions.on('security', () => this.invalidate());
  }

  invalidate(): void {
    this.authCache.clear();
  }

  /** Creates `admin` at first start: password from ARCA_ADMIN_PASSWORD, else a random one written to a 0600 file. */
  async bootstrapAdmin(adminPassword: string | undefined, passwordFile: string): Promise<{ created: boolean; generated: boolean }> {
    const existing = await this.database.db.selectFrom('users').select('name').where('name', '=', 'admin').executeTakeFirst();
    if (existing) return { created: false, generated: false };
    const password = adminPassword && adminPassword !== '' ? adminPassword : randomPassword();
    const now = this.clock.now();
    await this.database.db
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
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const generated = !adminPassword;
    if (generated) writeFileSync(passwordFile, password + '\n', { mode: 0o600 });
    return { created: true, generated };
  }

  async anonymousAccessEnabled(): Promise<boolean> {
    return (await this.settings.get()).anonAccessEnabled;
  }

  async authenticate(credentials: Credentials): Promise<Principal> {
    const auth = credentials.authorization;
    if (!auth && !credentials.apiKey) return ANONYMOUS;
    const cacheKey = sha256Hex(`${auth ?? ''}\u0000${credentials.apiKey ?? ''}`);
    const hit = this.authCache.get(cacheKey);
    const now = this.clock.now();
    if (hit && hit.expires > now) return hit.principal;
    let principal: Principal;
    if (auth && /^basic /i.test(auth)) {
      principal = await this.basic(auth.slice(6).trim());
    } else {
      throw new ArcaError('UNAUTHORIZED', 'Unsupported authentication scheme');
    }
    this.authCache.set(cacheKey, { principal, expires: now + this.authCacheMs });
    return principal;
  }

  private async basic(encoded: string): Promise<Principal> {
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new ArcaError('UNAUTHORIZED', 'Malformed Basic credentials');
    return this.login(decoded.slice(0, colon), decoded.slice(colon + 1));
  }

  /** Checks a user name and password, applying the failed-login lockout. */
  async login(name: string, password: string): Promise<Principal> {
    const db = this.database.db;
    const user = await db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    const now = this.clock.now();
    if (user?.locked_until && user.locked_until > now) {
      const secs = Math.ceil((user.locked_until - now) / 1000);
      throw new ArcaError('LOCKED_OUT', `User '${name}' is locked after repeated failed logins; retry in ${secs} s`, { retryAfter: secs });
    }
    const ok = user && user.internal_password_disabled === 0 && (await verifyPassword(password, user.password_hash));
    if (!user || !ok) {
      if (user) {
        const failures = user.failed_logins + 1;
        const over = failures - this.options.maxFailures;
        const lockedUntil = over >= 0 ? now + Math.min(2 ** over, 300) * 1000 : null;
        await db.updateTable('users').set({ failed_logins: failures, locked_until: lockedUntil }).where('name', '=', name).execute();
      }
      throw new ArcaError('UNAUTHORIZED', 'Bad credentials');
    }
    if (user.failed_logins > 0 || user.locked_until !== null || (user.last_logged_in ?? 0) < now - 60_000) {
      await db.updateTable('users').set({ failed_logins: 0, locked_until: null, last_logged_in: now }).where('name', '=', name).execute();
    }
    const groups = await db.selectFrom('user_groups').select('group_name').where('user_name', '=', name).execute();
    return { name, admin: user.admin === 1, groups: groups.map((g) => g.group_name), anonymous: false, via: 'basic' };
  }

  async canAccess(principal: Principal, _action: Action, _repo: RepoConfig, _path: string): Promise<boolean> {
    if (principal.admin) return true;
    return false;
  }

  async canReadAny(principal: Principal, _repo: RepoConfig): Promise<boolean> {
    return principal.admin;
  }
}
