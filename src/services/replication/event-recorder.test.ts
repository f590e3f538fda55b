import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../../test/helpers/databases.js';
import { FakeClock } from '../../core/clock.js';
import { ReplicationEventQueue } from './event-queue.js';
import { eventRecorder, recordNothing } from './event-recorder.js';

describe('event recorder', () => {
  let tdb: TestDatabase;
  beforeEach(async () => {
    tdb = await openTestDatabase('sqlite');
  });
  afterEach(() => tdb.drop());

  it('writes events only for repositories with event targets, and queries nothing otherwise', async () => {
    const queue = new ReplicationEventQueue(tdb.database.db, { clock: new FakeClock() });
    const record = eventRecorder(queue, (repo) => (repo === 'libs' ? [{ key: 'libs>b' }, { key: 'libs>c' }] : []));
    expect(await record({ repo: 'libs', path: 'a.jar', kind: 'delete' })).toBe(2);
    expect((await queue.depth('libs>c')).pending).toBe(1);
    // A closed database fails any query: a repository without targets must not make one.
    await tdb.database.close();
    expect(await record({ repo: 'other', path: 'a.jar', kind: 'delete' })).toBe(0);
    expect(await recordNothing({ repo: 'libs', path: 'a.jar', kind: 'delete' })).toBe(0);
  });
});
