import type { Clock } from '../core/clock.js';
import { ArcaError } from '../core/errors.js';
import type { Database } from '../db/database.js';
import type { Directory } from './directory.js';
import { KeyedSerializer } from './keyed-serializer.js';
import { clearFailedLogins, countFailedLogin } from './login-failures.js';
import { verifyPassword } from './passwords.js';
import type { Principal } from './types.js';

/**
 * Password checks with the failed-login lockout: after `maxFailures` consecutive failures the
 * user is locked for 1 s, and each further failure after a lock ends doubles it (2 s, 4 s, …,
 * at most 5 minutes). While locked every password, right or wrong, is refused with
 * LOCKED_OUT (401 + Retry-After) and not counted; a success resets the counter.
 *
 * Under concurrency: the checks of one user name run one at a time in this process, and each
 * reads the lock state from the database just before it hashes, so a lock set by any worker
 * or node stops every later check. A failure is counted by one atomic statement that also
 * sets the lock (login-failures.ts). N parallel wrong guesses are therefore checked at most
 * `maxFailures` times plus one per other process that had a check under way when the lock
 * began; the rest are refused without a check.
 *
 * Every check that is not refused by a lock costs one scrypt, whether or not the user exists
 * or has an internal password, so the answer time does not tell user names apart.
 *
 * The lock guards the password only: access tokens and API keys (long random secrets that
 * cannot be guessed) keep working while a user is locked, so someone guessing passwords
 * cannot take a user's CI jobs down. A bad Bearer token or `X-JFrog-Art-Api` key never
 * counts (it names no user); a token or key given as the Basic password that does not check
 * out is tried as a password, and so counts like any wrong password of that user.
 */
export class PasswordLogin {
  private readonly checks = new KeyedSerializer();

  constructor(
    private readonly database: Database,
    private readonly directory: Directory,
    private readonly clock: Clock,
    private readonly maxFailures: number,
    /** Told when a failure is recorded, so the caller can drop cached successes of that user. */
    private readonly onFailure: (name: string) => void,
  ) {}

  login(name: string, password: string): Promise<Principal> {
    return this.checks.run(name, () => this.check(name, password));
  }

  private async check(name: string, password: string): Promise<Principal> {
    const db = this.database.db;
    const user = await db
      .selectFrom('users')
      .select(['password_hash', 'internal_password_disabled', 'failed_logins', 'locked_until', 'last_logged_in'])
      .where('name', '=', name)
      .executeTakeFirst();
    const now = this.clock.now();
    if (user?.locked_until && Number(user.locked_until) > now) {
      const secs = Math.ceil((Number(user.locked_until) - now) / 1000);
      throw new ArcaError('LOCKED_OUT', `User '${name}' is locked after repeated failed logins; retry in ${secs} s`, { retryAfter: secs });
    }
    // An unknown user, or one without an internal password, is checked against no hash:
    // verifyPassword then spends the same scrypt and answers false.
    const stored = user && user.internal_password_disabled === 0 ? user.password_hash : null;
    const ok = (await verifyPassword(password, stored)) && stored !== null;
    if (!user || !ok) {
      if (user) {
        await countFailedLogin(db, name, this.maxFailures, this.clock.now());
        this.onFailure(name);
      }
      throw new ArcaError('UNAUTHORIZED', 'Bad credentials');
    }
    if (user.failed_logins > 0 || user.locked_until !== null || Number(user.last_logged_in ?? 0) < now - 60_000) {
      await clearFailedLogins(db, name, now);
    }
    const facts = await this.directory.user(name);
    if (!facts) throw new ArcaError('UNAUTHORIZED', 'Bad credentials');
    return this.directory.principalOf(facts, 'basic');
  }
}
