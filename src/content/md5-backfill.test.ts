import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../../test/helpers/databases.js';
import { FileSystemProvider } from '../binstore/file-system-provider.js';
import { FakeClock } from '../core/clock.js';
import { MD5_PENDING } from '../core/digests.js';
import { putFile } from '../db/items.js';
import { fileInfoJson } from '../services/item-info.js';
import { ContentStore } from './content-store.js';
import { pendingMd5Count } from './md5-backfill.js';

async function* once(data: Buffer) {
  yield data;
}

const md5Of = (data: Buffer) => createHash('md5').update(data).digest('hex');

describe.each(DIALECTS)('MD5 backfill on %s', (dialect) => {
  let tdb: TestDatabase;
  let dir: string;
  let provider: FileSystemProvider;
  let store: ContentStore;
  let clock: FakeClock;
  const errors: string[] = [];

  beforeEach(async () => {
    tdb = await openTestDatabase(dialect);
    dir = mkdtempSync(join(tmpdir(), 'arca-md5-'));
    provider = await new FileSystemProvider({ fileStoreDir: join(dir, 'filestore'), tempDir: join(dir, 'tmp') }).init();
    clock = new FakeClock();
    errors.length = 0;
    // Timers far away: the test drives every pass itself.
    store = new ContentStore(tdb.database, provider, clock, { md5Backfill: { quietMs: 3_600_000, sweepMs: 3_600_000, sweepAgeMs: 60_000, onError: (sha1) => errors.push(sha1) } });
  });
  afterEach(async () => {
    await store.md5Backfill.stop();
    await tdb.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function deploy(path: string, data: Buffer, md5: boolean) {
    const staged = await store.stage(once(data), { md5 });
    return store.commit(staged, (trx) =>
      putFile(trx, { repo: 'r', fullPath: path, binary: staged, original: {}, mimeType: 'application/octet-stream', user: 'admin', now: clock.now() }),
    );
  }
  const binaryMd5 = async (sha1: string) => (await tdb.database.db.selectFrom('binaries').select('md5').where('sha1', '=', sha1).executeTakeFirstOrThrow()).md5;
  const itemMd5s = async (sha1: string) => (await tdb.database.db.selectFrom('items').select(['name', 'md5']).where('sha1', '=', sha1).orderBy('name').execute()).map((r) => r.md5);

  it('fills the MD5 of a binary committed without one, in its binaries row and every item, and the storage JSON shows it only then', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 5);
    const { row } = await deploy('blob-a', data, false);
    expect(row.md5).toBe(MD5_PENDING);
    expect(await binaryMd5(row.sha1!)).toBe(MD5_PENDING);
    expect(await pendingMd5Count(tdb.database)).toBe(1);
    expect(fileInfoJson('http://x/artifactory', row).checksums).toEqual({ sha1: row.sha1, sha256: row.sha256 });

    // The queued binary is done without a sweep (no age needed).
    expect(await store.md5Backfill.runOnce(false)).toBe(1);
    expect(await binaryMd5(row.sha1!)).toBe(md5Of(data));
    expect(await itemMd5s(row.sha1!)).toEqual([md5Of(data)]);
    expect(await pendingMd5Count(tdb.database)).toBe(0);
    // Nothing left to do: a second pass changes nothing.
    expect(await store.md5Backfill.runOnce(true, 0)).toBe(0);
  });

  it('gives an item written later the MD5 the backfill found, and one written before the backfill its update', async () => {
    const data = randomBytes(5000);
    const first = await deploy('one', data, false);
    // A second item of the same binary before the backfill: pending as well.
    const second = await deploy('two', data, false);
    expect(second.row.md5).toBe(MD5_PENDING);
    await store.md5Backfill.runOnce(false);
    expect(await itemMd5s(first.row.sha1!)).toEqual([md5Of(data), md5Of(data)]);
    // A third, staged without MD5 again (its staged info says pending): putFile reads the row's MD5.
    const third = await deploy('three', data, false);
    expect(third.row.md5).toBe(md5Of(data));
  });

  it('sweeps pending binaries left by another process once they are old enough, and reports an unreadable one once', async () => {
    const data = randomBytes(3000);
    const { row } = await deploy('left', data, false);
    // Another process's binary: this store's queue does not know it.
    const fresh = new ContentStore(tdb.database, provider, clock, { md5Backfill: { quietMs: 3_600_000, sweepMs: 3_600_000, sweepAgeMs: 60_000 } });
    expect(await fresh.md5Backfill.runOnce(true)).toBe(0);
    expect(await binaryMd5(row.sha1!)).toBe(MD5_PENDING);
    clock.advance(61_000);
    expect(await fresh.md5Backfill.runOnce(true)).toBe(1);
    expect(await binaryMd5(row.sha1!)).toBe(md5Of(data));

    const lost = await deploy('lost', randomBytes(4000), false);
    await provider.delete(lost.row.sha1!);
    clock.advance(61_000);
    expect(await store.md5Backfill.runOnce(true)).toBe(0);
    expect(await store.md5Backfill.runOnce(true)).toBe(0);
    expect(errors).toEqual([lost.row.sha1]);
    expect(await binaryMd5(lost.row.sha1!)).toBe(MD5_PENDING);
    await fresh.md5Backfill.stop();
  });

  it('sweeps items left without the MD5 their binary already has', async () => {
    const data = randomBytes(2000);
    const { row } = await deploy('early', data, false);
    await store.md5Backfill.runOnce(false);
    // As if the item's transaction had read the binaries row before the backfill's update.
    await tdb.database.db.updateTable('items').set({ md5: MD5_PENDING }).where('id', '=', row.id).execute();
    expect(await itemMd5s(row.sha1!)).toEqual([MD5_PENDING]);
    expect(await store.md5Backfill.runOnce(true)).toBe(0);
    expect(await itemMd5s(row.sha1!)).toEqual([md5Of(data)]);
  });

  it('leaves binaries staged with an MD5 alone and never queues them', async () => {
    const data = randomBytes(1000);
    const { row } = await deploy('full', data, true);
    expect(row.md5).toBe(md5Of(data));
    expect(await pendingMd5Count(tdb.database)).toBe(0);
    expect(await store.md5Backfill.runOnce(true, 0)).toBe(0);
  });
});
