import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../../../test/helpers/databases.js';
import { FileSystemProvider } from '../../binstore/file-system-provider.js';
import { ContentStore } from '../../content/content-store.js';
import { FakeClock } from '../../core/clock.js';
import { deleteTree, putFile } from '../../db/items.js';
import { ReplicationEventQueue } from './event-queue.js';

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
