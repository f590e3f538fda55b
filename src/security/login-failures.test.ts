import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../../test/helpers/databases.js';
import { clearFailedLogins, countFailedLogin, MAX_LOCK_SECS } from './login-failures.js';

const NOW = 1_700_000_000_000;

describe.each(DIALECTS)('failed-login counting on %s', (dialect) => {
  let t: TestDatabase;
  const row = async (name: string) => {
    const r = await t.database.db.selectFrom('users').select(['failed_logins', 'locked_until']).where('name', '=', name).executeTakeFirstOrThrow();
    return { failed: Number(r.failed_logins), lockedFor: r.locked_until === null ? null : Number(r.locked_until) - NOW };
  };
  const addUser = (name: string) =>
    t.database.db
      .insertInto('users')
      .values({
        name,
        email: null,
        password_hash: null,
        admin: 0,
        profile_updatable: 1,
        disable_ui_access: 0,
        internal_password_disabled: 0,
        realm: 'internal',
        last_logged_in: null,
        failed_logins: 0,
        locked_until: null,
        api_key_enc: null,
        api_key_hash: null,
        created: NOW,
        modified: NOW,
      })
      .execute();

  beforeAll(async () => {
    t = await openTestDatabase(dialect);
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('locks from the new count: none below the threshold, then 1 s, 2 s, 4 s … capped at 5 minutes', async () => {
    await addUser('seq');
    const seen: (number | null)[] = [];
    for (let i = 0; i < 12; i++) {
      await countFailedLogin(t.database.db, 'seq', 3, NOW);
      const r = await row('seq');
      expect(r.failed).toBe(i + 1);
      seen.push(r.lockedFor);
    }
    expect(seen).toEqual([null, null, 1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, MAX_LOCK_SECS * 1000]);
  });

  it('counts every one of many concurrent failures exactly once', async () => {
    await addUser('par');
    await Promise.all(Array.from({ length: 60 }, () => countFailedLogin(t.database.db, 'par', 5, NOW)));
    expect(await row('par')).toEqual({ failed: 60, lockedFor: MAX_LOCK_SECS * 1000 });
  });

  it('clears the count after a success, but never a lock that is still running', async () => {
    await addUser('ok');
    await countFailedLogin(t.database.db, 'ok', 5, NOW);
    await clearFailedLogins(t.database.db, 'ok', NOW);
    expect(await row('ok')).toEqual({ failed: 0, lockedFor: null });
    for (let i = 0; i < 5; i++) await countFailedLogin(t.database.db, 'ok', 5, NOW);
    await clearFailedLogins(t.database.db, 'ok', NOW + 500);
    expect(await row('ok')).toEqual({ failed: 5, lockedFor: 1000 });
    await clearFailedLogins(t.database.db, 'ok', NOW + 1000);
    expect(await row('ok')).toEqual({ failed: 0, lockedFor: null });
  });
});
