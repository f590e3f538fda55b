import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { ArcaError } from '../core/errors.js';
import type { Database } from '../db/database.js';
import type { Directory } from './directory.js';
import type { SessionRecord, SessionStore } from './session-store.js';
import type { Principal } from './types.js';

/** What a session needs from security: the password check (with lockout) and user facts. */
export interface SessionAuthority {
  login(name: string, password: string): Promise<Principal>;
  readonly directory: Directory;
}

export interface SessionOptions {
  nodeId: string;
  /** `artifactory.ui.session.timeout.minutes`, in ms. */
  idleMs: number;
}

/** 32 random bytes, base64url: what the cookie carries. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface LoginResult {
  /** The cookie value; only its hash is stored. */
  token: string;
  principal: Principal;
  expiresAt: number;
}

/**
 * UI login sessions on a pluggable store. A session is created by a password login and
 * authenticates later requests by cookie; it dies after `idleMs` without a request, or at
 * logout. Nothing about a session is cached in the process: each request reads the store, so
 * a logout or expiry through any node takes effect on every node at once (db, distributed).
 * The principal is rebuilt from the current user facts, so a deleted user's sessions die and
 * a changed admin flag or group applies at once.
 */
export class SessionService {
  /** Sliding the idle timeout writes at most once per this period per session. */
  private readonly touchMs: number;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    readonly store: SessionStore,
    private readonly authority: SessionAuthority,
    private readonly database: Database,
    private readonly clock: Clock,
    private readonly options: SessionOptions,
  ) {
    this.touchMs = Math.min(60_000, Math.max(1, Math.floor(options.idleMs / 10)));
    // Process-local sessions are nobody else's to clean: sweep them here once a minute. (db
    // sessions are cleaned by the cluster task; Redis expires its keys itself.)
    if (store.kind === 'jvm') {
      this.sweeper = setInterval(() => void this.cleanup().catch(() => undefined), 60_000);
      this.sweeper.unref();
    }
  }

  get kind(): SessionStore['kind'] {
    return this.store.kind;
  }

  get idleMs(): number {
    return this.options.idleMs;
  }

  /** Checks the password (failed logins count toward the lockout) and opens a session. */
  async login(name: string, password: string): Promise<LoginResult> {
    const principal = await this.authority.login(name, password);
    const row = await this.database.db.selectFrom('users').select('disable_ui_access').where('name', '=', name).executeTakeFirst();
    if (row?.disable_ui_access === 1) throw new ArcaError('FORBIDDEN', `UI access is disabled for user '${name}'`);
    const token = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const record: SessionRecord = { idHash: hashToken(token), user: principal.name, node: this.options.nodeId, created: now, lastAccess: now, expires: now + this.options.idleMs };
    await this.unavailableOnError(() => this.store.create(record));
    return { token, principal: { ...principal, via: 'session' }, expiresAt: record.expires };
  }

  /** The principal of a live session, sliding its idle timeout; undefined when there is none. */
  async principal(token: string): Promise<Principal | undefined> {
    if (!TOKEN_SHAPE.test(token)) return undefined;
    const idHash = hashToken(token);
    const record = await this.unavailableOnError(() => this.store.get(idHash));
    if (!record) return undefined;
    const now = this.clock.now();
    if (record.expires <= now) {
      await this.store.delete(idHash).catch(() => undefined);
      return undefined;
    }
    const facts = await this.authority.directory.user(record.user);
    if (!facts) {
      await this.store.delete(idHash).catch(() => undefined);
      return undefined;
    }
    if (now - record.lastAccess >= this.touchMs) {
      await this.unavailableOnError(() => this.store.touch(idHash, now, now + this.options.idleMs));
    }
    return this.authority.directory.principalOf(facts, 'session');
  }

  /** Ends the session everywhere (db, distributed) or in this process (jvm). */
  async logout(token: string): Promise<void> {
    if (!TOKEN_SHAPE.test(token)) return;
    await this.unavailableOnError(() => this.store.delete(hashToken(token)));
  }

  /** Removes expired sessions; returns how many. */
  cleanup(): Promise<number> {
    return this.store.cleanup(this.clock.now());
  }

  close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    return this.store.close();
  }

  private async unavailableOnError<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new ArcaError('UNAVAILABLE', `The session store (${this.store.kind}) is unavailable: ${(err as Error).message}`, undefined, err);
    }
  }
}
