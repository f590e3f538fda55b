import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, type TestContext } from 'vitest';
import { acquireBatch, arenaStats, BATCH_BYTES, releaseBatch, type SharedBatch } from '../core/parallel-digest.js';
import { BatchWriter } from './batch-writer.js';
import { directIoSupported, stagedBytes } from './direct-io.js';
import { FileSystemProvider } from './file-system-provider.js';

const MiB = 1024 * 1024;
const TMPFS_MAGIC = 0x01021994;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDirIn(parent: string): string {
  const d = mkdtempSync(join(parent, 'arca-direct-io-'));
  dirs.push(d);
  return d;
}

const hex = (alg: string, data: Buffer) => createHash(alg).update(data).digest('hex');

/** Writes `data` through a BatchWriter in uneven chunks; returns the writer and what it reported. */
async function writeThrough(path: string, data: Buffer, directPath?: string) {
  const writer = new BatchWriter(await open(path, 'wx'), true, true, directPath);
  for (let off = 0, n = 1; off < data.length; n = (n * 7 + 13) % 200_000) {
    const end = Math.min(data.length, off + 1 + n);
    await writer.add(data.subarray(off, end));
    off = end;
  }
  return { writer, info: await writer.finish() };
}

function skipUnless(ctx: TestContext, ok: boolean, reason: string): void {
  if (ok) return;
  console.info(`[direct-io] skipped: ${reason}`);
  ctx.skip(reason);
}

/** The process's open descriptors, once the digest threads (which hold a few) are running. */
async function openFds(dir: string): Promise<number> {
  await writeThrough(join(dir, `warm-up-${Math.random()}`), randomBytes(2 * MiB));
  return readdirSync('/proc/self/fd').length;
}

describe('aligned batch arena', () => {
  it('hands out page-aligned 1 MiB batches of one shared memory and takes them back', () => {
    const before = arenaStats();
    const taken: SharedBatch[] = [];
    for (let i = 0; i < 3; i++) taken.push(acquireBatch());
    expect(taken.every((b) => b.aligned && b.view.length === BATCH_BYTES)).toBe(true);
    expect(new Set(taken.map((b) => b.offset)).size).toBe(3);
    expect(taken.every((b) => b.offset % BATCH_BYTES === 0 && b.sab === taken[0].sab)).toBe(true);
    expect(arenaStats().inUse).toBe(before.inUse + 3);
    for (const b of taken) releaseBatch(b);
    expect(arenaStats()).toEqual(before);
  });

  it('falls back to plain batches when the arena is used up', () => {
    const { size } = arenaStats();
    const taken: SharedBatch[] = [];
    try {
      for (let i = 0; i < size; i++) taken.push(acquireBatch());
      const extra = acquireBatch();
      taken.push(extra);
      expect(extra.aligned).toBe(false);
      expect(extra.view.length).toBe(BATCH_BYTES);
    } finally {
      for (const b of taken) releaseBatch(b);
    }
  });
});

describe('O_DIRECT staging', () => {
  const dir = tempDirIn(tmpdir());

  it('writes every full and partial batch with O_DIRECT and leaves the exact bytes, without the padding', async (ctx) => {
    skipUnless(ctx, await directIoSupported(dir), `${tmpdir()} is not on ext4, XFS, btrfs or f2fs`);
    for (const size of [MiB + 1, 3 * MiB, 4 * MiB + 4095, 9 * MiB + 12_345]) {
      const data = randomBytes(size);
      const path = join(dir, `direct-${size}`);
      const fdsBefore = await openFds(dir);
      const { writer, info } = await writeThrough(path, data, path);
      expect(info, `${size} bytes`).toMatchObject({ size, md5: hex('md5', data), sha1: hex('sha1', data), sha256: hex('sha256', data) });
      expect(writer.directBytes, `${size} bytes went through O_DIRECT`).toBe(size);
      expect(readFileSync(path).equals(data), `${size} bytes`).toBe(true);
      expect(readdirSync('/proc/self/fd').length).toBe(fdsBefore);
    }
  });

  it('counts direct bytes for the metric, and a store with directIo false writes through the page cache', async (ctx) => {
    skipUnless(ctx, await directIoSupported(dir), `${tmpdir()} is not on ext4, XFS, btrfs or f2fs`);
    const data = randomBytes(2 * MiB + 5);
    const source = async function* () {
      yield data;
    };
    for (const directIo of [true, false]) {
      const store = await new FileSystemProvider({ fileStoreDir: join(dir, `store-${directIo}`), tempDir: join(dir, `tmp-${directIo}`), directIo }).init();
      const before = stagedBytes();
      const staged = await store.stage(source());
      await staged.commit();
      const after = stagedBytes();
      expect(after.direct - before.direct, `directIo ${directIo}`).toBe(directIo ? data.length : 0);
      expect(after.buffered - before.buffered, `directIo ${directIo}`).toBe(directIo ? 0 : data.length);
      expect(readFileSync(store.pathOf(staged.sha1)).equals(data)).toBe(true);
    }
  });

  it('writes small files through the page cache', async (ctx) => {
    skipUnless(ctx, await directIoSupported(dir), `${tmpdir()} is not on ext4, XFS, btrfs or f2fs`);
    const data = randomBytes(MiB - 1);
    const path = join(dir, 'small');
    const { writer } = await writeThrough(path, data, path);
    expect(writer.directBytes).toBe(0);
    expect(readFileSync(path).equals(data)).toBe(true);
  });

  it('writes the batches that are not aligned through the page cache when the arena is used up', async (ctx) => {
    skipUnless(ctx, await directIoSupported(dir), `${tmpdir()} is not on ext4, XFS, btrfs or f2fs`);
    const { size } = arenaStats();
    const hogged: SharedBatch[] = [];
    for (let i = 0; i < size - 2; i++) hogged.push(acquireBatch());
    try {
      const data = randomBytes(6 * MiB + 999);
      const path = join(dir, 'mixed');
      const { writer, info } = await writeThrough(path, data, path);
      expect(info.sha256).toBe(hex('sha256', data));
      // Two batches came from the arena, two did not: both kinds of write reached the file.
      expect(writer.directBytes).toBeGreaterThan(0);
      expect(writer.directBytes).toBeLessThan(data.length);
      expect(readFileSync(path).equals(data)).toBe(true);
    } finally {
      for (const b of hogged) releaseBatch(b);
    }
  });

  it('closes both descriptors when an upload is abandoned', async (ctx) => {
    skipUnless(ctx, await directIoSupported(dir), `${tmpdir()} is not on ext4, XFS, btrfs or f2fs`);
    const fdsBefore = await openFds(dir);
    const path = join(dir, 'abandoned');
    const writer = new BatchWriter(await open(path, 'wx'), true, false, path);
    await writer.add(randomBytes(3 * MiB));
    await writer.abandon();
    expect(writer.directBytes).toBeGreaterThan(0);
    expect(readdirSync('/proc/self/fd').length).toBe(fdsBefore);
  });
});

describe('file systems without O_DIRECT', () => {
  const shm = '/dev/shm';
  const tmpfs = existsSync(shm) && Number(statfsSync(shm).type) === TMPFS_MAGIC;

  it('are not asked for direct I/O (tmpfs)', async (ctx) => {
    skipUnless(ctx, tmpfs, `${shm} is not a tmpfs mount here`);
    expect(await directIoSupported(tempDirIn(shm))).toBe(false);
  });
});
