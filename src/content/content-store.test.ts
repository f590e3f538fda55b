import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../../test/helpers/databases.js';
import { FileSystemProvider } from '../binstore/file-system-provider.js';
import type { Clock } from '../core/clock.js';
import { getItem, putFile, deleteTree } from '../db/items.js';
import { ContentStore } from './content-store.js';

async function* once(data: Buffer) {
  yield data;
}

describe.each(DIALECTS)('content store on %s', (dialect) => {
  let tdb: TestDatabase;
  let dir: string;
  let provider: FileSystemProvider;
  let store: ContentStore;
  const clock: Clock & { offset: number } = { offset: 0, now() { return Date.now() + this.offset; } };

  beforeEach(async () => {
    tdb = await openTestDatabase(dialect);
    dir = mkdtempSync(join(tmpdir(), 'arca-content-'));
    provider = await new FileSystemProvider({ fileStoreDir: join(dir, 'filestore'), tempDir: join(dir, 'tmp') }).init();
    clock.offset = 0;
    store = new ContentStore(tdb.database, provider, clock);
  });
  afterEach(async () => {
    await tdb.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function deploy(repo: string, path: string, data: Buffer) {
    const staged = await store.stage(once(data));
    return store.commit(staged, (trx) =>
      putFile(trx, { repo, fullPath: path, binary: staged, original: {}, mimeType: 'application/octet-stream', user: 'admin', now: clock.now() }),
    );
  }

  it('stores one binary for identical content deployed twice', async () => {
    const data = randomBytes(1000);
    const a = await deploy('r', 'a.bin', data);
    const b = await deploy('r', 'b.bin', data);
    expect(a.row.sha1).toBe(b.row.sha1);
    const rows = await tdb.database.db.selectFrom('binaries').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ sha1: a.row.sha1, size: 1000 });
  });

  it('collects unreferenced binaries after the grace period and keeps referenced ones', async () => {
    const kept = await deploy('r', 'keep.bin', randomBytes(100));
    const gone = await deploy('r', 'gone.bin', randomBytes(200));
    await deleteTree(tdb.database.db, 'r', 'gone.bin');

    expect((await store.collectGarbage(3_600_000)).binariesRemoved).toBe(0);
    expect(await provider.exists(gone.row.sha1!)).toBe(true);

    clock.offset = 2 * 3_600_000;
    const result = await store.collectGarbage(3_600_000);
    expect(result).toMatchObject({ binariesRemoved: 1, bytesRemoved: 200 });
    expect(await provider.exists(gone.row.sha1!)).toBe(false);
    expect(await provider.exists(kept.row.sha1!)).toBe(true);
    expect(await tdb.database.db.selectFrom('binaries').select('sha1').execute()).toEqual([{ sha1: kept.row.sha1 }]);
  });

  it('never collects a binary that an in-flight upload is about to reference', async () => {
    const data = randomBytes(4096);
    // An old, unreferenced copy of the same content is a GC candidate…
    const old = await deploy('r', 'old.bin', data);
    await deleteTree(tdb.database.db, 'r', 'old.bin');
    clock.offset = 2 * 3_600_000;

    // …while a new upload of it has made the file visible and not yet committed its item.
    const staged = await store.stage(once(data));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let fileCommitted!: () => void;
    const committed = new Promise<void>((r) => (fileCommitted = r));
    const upload = store.commit(staged, async (trx) => {
      fileCommitted();
      await gate;
      return putFile(trx, { repo: 'r', fullPath: 'new.bin', binary: staged, original: {}, mimeType: 'x', user: 'admin', now: clock.now() });
    });
    await committed;
    const gc = store.collectGarbage(0);
    await new Promise((r) => setTimeout(r, 200));
    release();
    await upload;
    const result = await gc;

    expect(result.binariesRemoved).toBe(0);
    expect(await provider.exists(old.row.sha1!)).toBe(true);
    const item = await getItem(tdb.database.db, 'r', 'new.bin');
    expect(item?.sha1).toBe(old.row.sha1);
    expect((await store.readSmall(item!.sha1!)).equals(data)).toBe(true);
  });

  it('removes files that have no binaries row (a crash between rename and commit)', async () => {
    const kept = await deploy('r', 'k.bin', randomBytes(10));
    const orphan = 'ab'.padEnd(40, '0');
    mkdirSync(join(dir, 'filestore', 'ab'), { recursive: true });
    writeFileSync(join(dir, 'filestore', 'ab', orphan), 'orphan');
    expect((await store.collectGarbage(3_600_000)).orphanFilesRemoved).toBe(0);
    clock.offset = 2 * 3_600_000;
    const result = await store.collectGarbage(3_600_000);
    expect(result.orphanFilesRemoved).toBe(1);
    expect(existsSync(join(dir, 'filestore', 'ab', orphan))).toBe(false);
    expect(await provider.exists(kept.row.sha1!)).toBe(true);
    expect(await tdb.database.db.selectFrom('binaries').select('sha1').where('size', '<', 0).execute()).toEqual([]);
  });

  it('runs the whole transaction again after a deadlock in the item work, committing the file once', async () => {
    const staged = await store.stage(once(randomBytes(70)));
    let commits = 0;
    const commit = staged.commit.bind(staged);
    staged.commit = async () => {
      commits++;
      return commit();
    };
    let runs = 0;
    const row = await store.commit(staged, async (trx) => {
      runs++;
      const r = await putFile(trx, { repo: 'r', fullPath: 'retried.bin', binary: staged, original: {}, mimeType: 'application/octet-stream', user: 'admin', now: clock.now() });
      // What MySQL answers to the loser of a deadlock, after rows were written.
      if (runs === 1) throw Object.assign(new Error('Deadlock found when trying to get lock'), { errno: 1213 });
      return r.row;
    });
    expect([runs, commits]).toEqual([2, 1]);
    expect((await getItem(tdb.database.db, 'r', 'retried.bin'))?.sha1).toBe(row.sha1);
    expect(await tdb.database.db.selectFrom('binaries').select('sha1').execute()).toEqual([{ sha1: staged.sha1 }]);
    expect(await provider.exists(staged.sha1)).toBe(true);
  });

  it('leaves the binary in place when the item transaction fails, for GC to collect later', async () => {
    const staged = await store.stage(once(randomBytes(50)));
    await expect(
      store.commit(staged, async () => {
        throw new Error('item insert failed');
      }),
    ).rejects.toThrow('item insert failed');
    expect(await tdb.database.db.selectFrom('binaries').selectAll().execute()).toEqual([]);
    clock.offset = 2 * 3_600_000;
    expect((await store.collectGarbage(3_600_000)).orphanFilesRemoved).toBe(1);
    expect(await provider.exists(staged.sha1)).toBe(false);
  });
});
