import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeCluster, settle } from '../../src/cluster/tasks/testing/cluster.js';
import { SystemProperties } from '../../src/config/system-properties.js';
import { Directory } from '../../src/security/directory.js';
import { SESSION_CLEANUP_TASK, sessionCleanupTask } from '../../src/security/session-cleanup-task.js';
import { DbSessionStore } from '../../src/security/session-store-db.js';
import { SessionService } from '../../src/security/sessions.js';
import { DIALECTS } from '../helpers/databases.js';

const MINUTE = 60_000;

describe.each(DIALECTS)('the session cleanup cluster task on %s', (dialect) => {
  let cluster: FakeCluster;

  beforeAll(async () => {
    cluster = await FakeCluster.open(dialect);
  });
  afterAll(() => cluster?.close());

  it('is not registered when sessions are not in the database', async () => {
    const database = cluster.t.database;
    const sessions = new SessionService(new DbSessionStore(database), { login: async () => Promise.reject(new Error('unused')), directory: new Directory(database) }, database, cluster.clock, { nodeId: 'x', idleMs: 30 * MINUTE });
    for (const type of ['distributed', 'jvm']) {
      expect(await sessionCleanupTask(SystemProperties.parse(`artifactory.map.provider.type=${type}`, 'f'), database, sessions)).toBeUndefined();
    }
    await expect(sessionCleanupTask(SystemProperties.parse('artifactory.db.session.cleanup.cron=0 99 * * * ?', 'etc/p'), database, sessions)).rejects.toThrow(
      /etc\/p: artifactory.db.session.cleanup.cron/,
    );
  });

  it('runs once per scheduled minute across the cluster and removes only expired sessions', async () => {
    const database = cluster.t.database;
    const store = new DbSessionStore(database);
    const sessions = new SessionService(store, { login: async () => Promise.reject(new Error('unused')), directory: new Directory(database) }, database, cluster.clock, { nodeId: 'n1', idleMs: 30 * MINUTE });
    const props = SystemProperties.parse('artifactory.db.session.cleanup.cron=0 17 * * * ?', 'f');
    const task = (await sessionCleanupTask(props, database, sessions))!;
    expect(task.name).toBe(SESSION_CLEANUP_TASK);
    const a = await cluster.node('n1', [task]);
    const b = await cluster.node('n2', [task]);

    // The fake clock starts at 00:00 UTC: one session idle since then, one fresh at 00:16.
    const now = cluster.clock.now();
    await store.create({ idHash: 'old', user: 'u', node: 'n1', created: now, lastAccess: now, expires: now + 30 * MINUTE });
    cluster.clock.advance(16 * MINUTE);
    const later = cluster.clock.now();
    await store.create({ idHash: 'new', user: 'u', node: 'n2', created: later, lastAccess: later, expires: later + 30 * MINUTE });

    // 00:16: not yet due. 00:31 is past 00:17, and the first session expired at 00:30.
    await cluster.tick(a, b);
    expect(await cluster.runs(SESSION_CLEANUP_TASK)).toEqual([]);
    cluster.clock.advance(15 * MINUTE);
    await cluster.tick(a, b);
    await settle();
    await cluster.tick(a, b);
    const runs = await cluster.runs(SESSION_CLEANUP_TASK);
    expect(runs.map((r) => [r.status, JSON.parse(r.counts ?? '{}')])).toEqual([['SUCCEEDED', { removed: 1 }]]);
    expect((await database.db.selectFrom('ui_sessions').select('id_hash').execute()).map((r) => r.id_hash)).toEqual(['new']);
  });
});
