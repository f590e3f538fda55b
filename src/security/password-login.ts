import type { Clock } from '../core/clock.js';
import { ArcaError } from '../core/errors.js';
import type { Database } from '../db/database.js';
import type { Directory } from './directory.js';
import { verifyPassword } from './passwords.js';
import type { Principal } from './types.js';

/** Longest lock after failed logins, in seconds. */
export const MAX_LOCK_SECS = 300;

/**
 * Password checks with the failed-login lockout: after `maxFailures` consecutive failures the
 * user is locked for 1 s, and each further failure after a lock ends doubles it (2 s, 4 s, …,
 * at most 5 minutes). While locked every password, right or wrong, is refused with
 * LOCKED_OUT (401 + Retry-After) and not counted; a success resets the counter.
 *
 * The lock guards the password only: access tokens and API keys (long random secrets that
 * cannot be guessed) keep working while a user is locked, so someone guessing passwords
 * cannot take a user's CI jobs down. A bad Bearer token or `X-JFrog-Art-Api` key never
 * counts (it names no user); a token or key given as the Basic password that does not check
 * out is tried as a password, and so counts like any wrong password of that user.
 */
export class PasswordLogin {
  constructor(
    private readonly database: Database,
    private readonly directory: Directory,
    private readonly clock: Clock,
    private readonly maxFailures: number,
    /** Told when a failure is recorded, so the caller can drop cached successes of that user. */
    private readonly onFailure: (name: string) => void,
  ) {}

  async login(name: string, password: string): Promise<Principal> {
    const db = this.database.db;
    const user = await db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    const now = this.clock.now();
    if (user?.locked_until && Number(user.locked_until) > now) {
      const secs = Math.ceil((Number(user.locked_until) - now) / 1000);
      throw new ArcaError('LOCKED_OUT', `User '${name}' is locked after repeated failed logins; retry in ${secs} s`, { retryAfter: secs });
    }
    const ok = user !== undefined && user.internal_password_disabled === 0 && (await verifyPassword(password, user.password_hash));
    if (!user || !ok) {
      if (user) {
        const failures = user.failed_logins + 1;
        const over = failures - this.maxFailures;
        const lockedUntil = over >= 0 ? now + Math.min(2 ** over, MAX_LOCK_SECS) * 1000 : null;
        await db.updateTable('users').set({ failed_logins: failures, locked_until: lockedUntil }).where('name', '=', name).execute();
        this.onFailure(name);
      }
      throw new ArcaError('UNAUTHORIZED', 'Bad credentials');
    }
    if (user.failed_logins > 0 || user.locked_until !== null || Number(user.last_logged_in ?? 0) < now - 60_000) {
      await db.updateTable('users').set({ failed_logins: 0, locked_until: null, last_logged_in: now }).where('name', '=', name).execute();
    }
    const facts = await this.directory.user(name);
    if (!facts) throw new ArcaError('UNAUTHORIZED', 'Bad credentials');
    return this.directory.principalOf(facts, 'basic');
  }
}
