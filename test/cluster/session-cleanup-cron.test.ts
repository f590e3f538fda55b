import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemProperties } from '../../src/config/system-properties.js';
import { sessionCleanupCron, sessionCleanupSchedule } from '../../src/security/session-setup.js';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../helpers/databases.js';

describe.each(DIALECTS)('session cleanup schedule on %s', (dialect) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase(dialect);
  });
  afterAll(() => t?.drop());

  it('uses artifactory.db.session.cleanup.cron when the file gives it', async () => {
    expect(await sessionCleanupCron(SystemProperties.parse('artifactory.db.session.cleanup.cron=0 5 */2 * * ?', 'f'), t.database)).toBe('0 5 */2 * * ?');
  });

  it('else draws one random minute for the whole cluster and keeps it', async () => {
    const none = SystemProperties.parse('', 'f');
    const first = await sessionCleanupCron(none, t.database);
    expect(first).toMatch(/^0 ([0-9]|[1-5][0-9]) \* \* \* \?$/);
    const again = await Promise.all([sessionCleanupCron(none, t.database), sessionCleanupCron(none, t.database)]);
    expect(again).toEqual([first, first]);
  });

  it('schedules the cleanup task only for db sessions', async () => {
    expect(await sessionCleanupSchedule(SystemProperties.parse('artifactory.db.session.cleanup.cron=0 9 * * * ?', 'f'), t.database)).toBe('0 9 * * * ?');
    expect(await sessionCleanupSchedule(SystemProperties.parse('artifactory.map.provider.type=distributed', 'f'), t.database)).toBeUndefined();
    expect(await sessionCleanupSchedule(SystemProperties.parse('artifactory.map.provider.type=jvm', 'f'), t.database)).toBeUndefined();
  });
});
