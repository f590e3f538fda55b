import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../../test/helpers/databases.js';
import { bumpVersion, ConfigVersions } from '../../cluster/config-versions.js';
import { ChangeCapture, recordDeletes } from './change-capture.js';
import { targetKey } from './target-key.js';

/** The capture's own rules, on SQLite: which rows are event targets, the site id, reloads, close. */
describe('change capture', () => {
  let tdb: TestDatabase;
  let versions: ConfigVersions;
  const row = (repo: string, url: string, config: Record<string, unknown>, position = 0, lastRun: string | null = null, kind = 'push') =>
    tdb.database.db
      .insertInto('replications')
      .values({ repo_key: repo, position, kind, url, config: JSON.stringify({ enabled: true, enableEventReplication: true, ...config }), requested_at: null, last_run: lastRun, created: 1, modified: 1 })
      .execute();

  beforeEach(async () => {
    tdb = await openTestDatabase('sqlite');
    versions = new ConfigVersions(tdb.database, 60_000);
  });
  afterEach(async () => {
    delete tdb.database.changeCapture;
    await versions.stop();
    await tdb.drop();
  });

  it('keeps enabled push targets with event replication, with the site id of their last run', async () => {
    await row('libs', 'http://b/artifactory/libs', {}, 0, JSON.stringify({ status: 'ok', lastCompleted: 5, siteId: 'site-b' }));
    await row('libs', 'http://c/artifactory/libs', {}, 1, '{not json');
    await row('libs', 'http://d/artifactory/libs', { enabled: false }, 2);
    await row('libs', 'http://e/artifactory/libs', { enableEventReplication: false }, 3);
    await row('remote', '', {}, 0, null, 'pull');
    const capture = new ChangeCapture(tdb.database, versions);
    expect(capture.targetsOf('libs')).toEqual([]);
    await capture.start();
    expect(capture.targetsOf('libs')).toEqual([
      { key: targetKey('libs', 'http://b/artifactory/libs'), siteId: 'site-b' },
      { key: targetKey('libs', 'http://c/artifactory/libs') },
    ]);
    expect(capture.targetsOf('remote')).toEqual([]);
    expect(capture.targetsOf('other')).toEqual([]);
    capture.close();
  });

  it('reloads when the repositories version moves, and no more once closed', async () => {
    const capture = new ChangeCapture(tdb.database, versions);
    await capture.start();
    await versions.start();
    await row('libs', 'http://b/artifactory/libs', {});
    await tdb.database.db.transaction().execute((trx) => bumpVersion(trx, 'repositories'));
    await versions.poll();
    await expect.poll(() => capture.targetsOf('libs').length).toBe(1);
    capture.close();
    await tdb.database.db.deleteFrom('replications').execute();
    await tdb.database.db.transaction().execute((trx) => bumpVersion(trx, 'repositories'));
    await versions.poll();
    await new Promise((r) => setTimeout(r, 50));
    expect(capture.targetsOf('libs').length).toBe(1);
  });

  it('keeps the last targets when a reload fails, and records through the database it is installed on', async () => {
    await row('libs', 'http://b/artifactory/libs', {});
    const warnings: string[] = [];
    const capture = new ChangeCapture(tdb.database, versions, { warn: (m) => warnings.push(m) });
    await capture.start();
    tdb.database.changeCapture = capture;
    expect(await recordDeletes(tdb.database, 'libs', ['a/b.txt', ''])).toBe(1);
    expect((await capture.queue.depth(targetKey('libs', 'http://b/artifactory/libs'))).pending).toBe(1);
    await tdb.database.db.schema.alterTable('replications').renameTo('replications_gone').execute();
    await expect(capture.reload()).rejects.toThrow();
    expect(warnings[0]).toMatch(/replication event targets could not be read/);
    expect(capture.targetsOf('libs')).toHaveLength(1);
    await tdb.database.db.schema.alterTable('replications_gone').renameTo('replications').execute();
    capture.close();
  });
});
