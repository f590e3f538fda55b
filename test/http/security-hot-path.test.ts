import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigVersions } from '../../src/cluster/config-versions.js';
import { FakeClock } from '../../src/core/clock.js';
import type { Database } from '../../src/db/database.js';
import { SecurityService } from '../../src/security/security-service.js';
import type { Principal } from '../../src/security/types.js';
import type { RepoConfig } from '../../src/services/repositories.js';
import { SystemSettings } from '../../src/services/system-settings.js';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { basic } from '../helpers/node-context.js';

const LIBS = { key: 'libs-local', rclass: 'local' } as RepoConfig;
const OTHER = { key: 'other-local', rclass: 'local' } as RepoConfig;

/**
 * Authentication and authorisation sit on every request: once warm they must not touch the
 * database. The service gets a Database whose `db` getter counts every use.
 */
describe.each(DIALECTS)('security hot path on %s', (dialect) => {
  let test: TestDatabase;
  let security: SecurityService;
  let versions: ConfigVersions;
  let uses = 0;

  beforeAll(async () => {
    test = await openTestDatabase(dialect);
    const counting: Database = Object.create(test.database, { db: { get: () => (uses++, test.database.db) } });
    const clock = new FakeClock();
    versions = new ConfigVersions(test.database);
    const settings = new SystemSettings(test.database, versions, clock);
    security = new SecurityService(counting, settings, versions, clock, { maxFailures: 5, masterKey: Buffer.alloc(16, 7) });
    await security.users.put('alice', { password: 'Alice-Pw1', admin: true });
    await security.users.put('bob', { password: 'Bob-Pw1' });
    for (let i = 0; i < 200; i++) {
      await security.permissions.save(
        { name: `t${i}`, repo: { 'include-patterns': [`team${i}/**`], 'exclude-patterns': ['**/*.tmp'], repositories: ['libs-local'], actions: { users: { bob: ['read'] }, groups: {} } } },
        'create',
      );
    }
  });
  afterAll(async () => {
    versions?.stop();
    await test?.drop();
  });

  it('authenticates and decides with no database query once warm', async () => {
    const token = (await security.tokens.create({ name: 'bob', admin: false, groups: [], anonymous: false, via: 'basic' }, {})).accessToken;
    const creds = [{ authorization: basic('bob', 'Bob-Pw1') }, { authorization: `Bearer ${token}` }];
    const warm = async () => {
      for (const c of creds) {
        const p = await security.authenticate(c);
        await security.canAccess(p, 'read', LIBS, 'team7/a.jar');
        await security.canReadAny(p, OTHER);
      }
    };
    await warm();
    uses = 0;
    let allowed = 0;
    const started = process.hrtime.bigint();
    for (let i = 0; i < 20_000; i++) {
      const p: Principal = await security.authenticate(creds[i % 2]);
      if (await security.canAccess(p, 'read', LIBS, `team${i % 250}/x/${i}.jar`)) allowed++;
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(uses).toBe(0);
    expect(allowed).toBe(20_000 * (200 / 250));
    // Loose bound (a 2-core CI machine): 20k authentications + decisions over 200 targets.
    expect(ms).toBeLessThan(5_000);
  });

  it('drops its caches on a security change and reloads once', async () => {
    const bob = await security.authenticate({ authorization: basic('bob', 'Bob-Pw1') });
    expect(await security.canAccess(bob, 'read', LIBS, 'team1/a.jar')).toBe(true);
    await security.permissions.delete('t1');
    const again = await security.authenticate({ authorization: basic('bob', 'Bob-Pw1') });
    expect(await security.canAccess(again, 'read', LIBS, 'team1/a.jar')).toBe(false);
    uses = 0;
    for (let i = 0; i < 100; i++) await security.canAccess(again, 'read', LIBS, `team2/${i}.jar`);
    expect(uses).toBe(0);
  });
});
