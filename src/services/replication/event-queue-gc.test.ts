import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompiledQuery, sql, type Compilable } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../../../test/helpers/databases.js';
import { FileSystemProvider } from '../../binstore/file-system-provider.js';
import { ContentStore } from '../../content/content-store.js';
import { FakeClock } from '../../core/clock.js';
import { deleteTree, putFile } from '../../db/items.js';
import { depthQuery, headsQuery, nextOfPathQuery, pruneBatchQuery, readyWindowQuery } from './event-queries.js';
import { ReplicationEventQueue } from './event-queue.js';
import { pathKey } from './event-types.js';

async function* once(data: Buffer) {
  yield data;
}

const T = 'libs>https://b.example';

describe.each(DIALECTS)('replication events and garbage collection on %s', (dialect) => {
  let tdb: TestDatabase;
  let dir: string;
  let provider: FileSystemProvider;
  let store: ContentStore;
  let queue: ReplicationEventQueue;
  const clock = new FakeClock(Date.now());

  beforeEach(async () => {
    tdb = await openTestDatabase(dialect);
    dir = mkdtempSync(join(tmpdir(), 'arca-repl-gc-'));
    provider = await new FileSystemProvider({ fileStoreDir: join(dir, 'filestore'), tempDir: join(dir, 'tmp') }).init();
    store = new ContentStore(tdb.database, provider, clock);
    queue = new ReplicationEventQueue(tdb.database.db, { clock, maxAttempts: 1 });
  });
  afterEach(async () => {
    await tdb.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A deploy whose event commits in the deploy's own transaction, as the wiring will do it. */
  async function deployWithEvent(path: string, data: Buffer) {
    const staged = await store.stage(once(data));
    return store.commit(staged, async (trx) => {
      const r = await putFile(trx, { repo: 'libs', fullPath: path, binary: staged, original: {}, mimeType: 'application/octet-stream', user: 'admin', now: clock.now() });
      await queue.enqueue({ repo: 'libs', path, kind: 'deploy', sha1: staged.sha1, size: staged.size }, [{ key: T }], trx);
      return r;
    });
  }

  it('keeps a binary a pending event still needs after its item is gone, and frees it once delivered', async () => {
    const a = await deployWithEvent('a.bin', randomBytes(300));
    await deleteTree(tdb.database.db, 'libs', 'a.bin');
    clock.advance(10_000);
    expect((await store.collectGarbage(1_000)).binariesRemoved).toBe(0);
    expect(await provider.exists(a.row.sha1!)).toBe(true);

    const [e] = await queue.claim(T, 'n1', 30_000, 1);
    expect(await queue.complete([e.id], e.fence)).toBe(1);
    expect(await queue.complete([e.id], e.fence)).toBe(0); // released once only
    expect((await store.collectGarbage(1_000)).binariesRemoved).toBe(1);
    expect(await provider.exists(a.row.sha1!)).toBe(false);
  });

  it('releases the binary of an event that failed for good, and never counts one for a binary already gone', async () => {
    const data = randomBytes(200);
    const b = await deployWithEvent('b.bin', data);
    await deleteTree(tdb.database.db, 'libs', 'b.bin');
    const [e] = await queue.claim(T, 'n1', 30_000, 1);
    expect(await queue.fail(e.id, e.fence, 'target down')).toBe('failed');
    clock.advance(10_000);
    expect((await store.collectGarbage(1_000)).binariesRemoved).toBe(1);
    // The binary is gone: an event naming it holds nothing, so a later upload of the same
    // content is counted by its item alone and is not collected when the event completes.
    await queue.enqueue({ repo: 'libs', path: 'c.bin', kind: 'deploy', sha1: b.row.sha1! }, [{ key: T }]);
    const again = await deployWithEvent('d.bin', data);
    expect(again.row.sha1).toBe(b.row.sha1);
    for (const ev of await queue.claim(T, 'n1', 30_000, 10)) await queue.complete([ev.id], ev.fence);
    for (const ev of await queue.claim(T, 'n1', 30_000, 10)) await queue.complete([ev.id], ev.fence);
    clock.advance(10_000);
    expect((await store.collectGarbage(1_000)).binariesRemoved).toBe(0);
    expect(await provider.exists(b.row.sha1!)).toBe(true);
  });
});

describe.runIf(DIALECTS.includes('postgresql'))('replication event queue plans on postgresql', () => {
  it('reads every hot query as a range of one index, never a sequential scan', async () => {
    const tdb = await openTestDatabase('postgresql');
    try {
      const db = tdb.database.db;
      // 60,000 events over 20 targets, most delivered: the planner chooses on real sizes.
      await sql`insert into replication_events (target, repo, path, path_key, kind, payload, created, state, next_at, done_at)
        select 't' || (g % 20), 'libs', 'p' || g, md5(g::text), 'deploy', '{}', g, case when g % 10 = 0 then 0 else 1 end, g, case when g % 10 = 0 then null else g end
        from generate_series(1, 60000) g`.execute(db);
      await sql`analyze replication_events`.execute(db);
      const plan = async (q: Compilable) => {
        const c = q.compile();
        const res = await db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${c.sql}`, [...c.parameters]));
        return res.rows.map((r) => r['QUERY PLAN']).join('\n');
      };
      // `sorts`: the heads of at most 200 keys may be sorted for the grouping; the window and
      // the prune batch are read in index order (a sort there would read the whole range).
      const checks: [Compilable, string, boolean][] = [
        [readyWindowQuery(db, 't0', 50_000, 40), 'replication_events_ready', false],
        [headsQuery(db, 't0', [pathKey('libs', 'a'), pathKey('libs', 'b')]), 'replication_events_path', true],
        [nextOfPathQuery(db, 't0', pathKey('libs', 'a')), 'replication_events_path', false],
        [depthQuery(db, 't0', 0), 'replication_events_ready', false],
        [pruneBatchQuery(db, 30_000, 500), 'replication_events_done', false],
      ];
      for (const [q, index, sorts] of checks) {
        const text = await plan(q);
        expect(text, text).toContain(index);
        expect(text, text).not.toMatch(sorts ? /Seq Scan/ : /Seq Scan|Sort/);
      }
    } finally {
      await tdb.drop();
    }
  }, 60_000);
});
