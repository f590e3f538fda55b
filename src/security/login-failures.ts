import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/items.js';

/** Longest lock after failed logins, in seconds. */
export const MAX_LOCK_SECS = 300;

/**
 * `locked_until` for the count `failed_logins + 1`, as one CASE expression: no lock below
 * `maxFailures`, then 1 s, 2 s, 4 s … from `now`, at most MAX_LOCK_SECS. The numbers are our
 * own integers, inlined as literals so every dialect types the CASE as an integer.
 */
function lockExpression(maxFailures: number, now: number): RawBuilder<number | null> {
  const lit = (n: number) => sql.lit(n);
  const branches: RawBuilder<unknown>[] = [sql`when failed_logins + 1 < ${lit(maxFailures)} then null`];
  for (let over = 0; 2 ** over < MAX_LOCK_SECS; over++) {
    branches.push(sql`when failed_logins + 1 = ${lit(maxFailures + over)} then ${lit(now + 2 ** over * 1000)}`);
  }
  return sql<number | null>`case ${sql.join(branches, sql` `)} else ${lit(now + MAX_LOCK_SECS * 1000)} end`;
}

/**
 * Counts one failed login of `name` in ONE statement, atomic on every dialect: concurrent
 * failures from any worker or node each add exactly one, and the lock is computed in the
 * same statement from the new count (never from a count read earlier).
 *
 * `locked_until` is assigned before `failed_logins` on purpose: MySQL/MariaDB evaluate the
 * assignments of an UPDATE left to right and let later ones see earlier results, where
 * SQLite and PostgreSQL always read the old row; with this order all three read the old
 * `failed_logins`.
 */
export async function countFailedLogin(db: Db, name: string, maxFailures: number, now: number): Promise<void> {
  await db
    .updateTable('users')
    .set({ locked_until: lockExpression(maxFailures, now), failed_logins: sql<number>`failed_logins + 1` })
    .where('name', '=', name)
    .execute();
}

/**
 * Clears the count after a successful login, unless a lock began meanwhile (set by a
 * concurrent failure elsewhere): that lock stays for everyone who comes after.
 */
export async function clearFailedLogins(db: Db, name: string, now: number): Promise<void> {
  await db
    .updateTable('users')
    .set({ failed_logins: 0, locked_until: null, last_logged_in: now })
    .where('name', '=', name)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
    .execute();
}

/** The users locked out by failed logins at `now` (`GET /api/security/lockedUsers`), by name. */
export async function lockedUsers(db: Db, now: number): Promise<string[]> {
  const rows = await db.selectFrom('users').select('name').where('locked_until', '>', now).orderBy('name').execute();
  return rows.map((r) => r.name);
}

/** Lifts the lock of `names` (all users when undefined) and forgets their failures; the number of users changed. */
export async function unlockUsers(db: Db, names: string[] | undefined): Promise<number> {
  if (names !== undefined && names.length === 0) return 0;
  let q = db.updateTable('users').set({ failed_logins: 0, locked_until: null });
  if (names !== undefined) q = q.where('name', 'in', names);
  else q = q.where((eb) => eb.or([eb('failed_logins', '>', 0), eb('locked_until', 'is not', null)]));
  const res = await q.executeTakeFirst();
  return Number(res.numUpdatedRows);
}
