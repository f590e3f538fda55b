import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../test/helpers/databases.js';
import type { BinaryProvider } from '../binstore/binary-provider.js';
import { FileSystemProvider } from '../binstore/file-system-provider.js';
import { systemClock } from '../core/clock.js';
import { putFile } from '../db/items.js';
import { ContentStore } from './content-store.js';
import { scrubStore } from './scrub.js';

async function* once(data: Buffer) {
  yield data;
}

describe('scrub', () => {
  let tdb: TestDatabase;
  let dir: string;
  let provider: FileSystemProvider;
  let store: ContentStore;

  beforeEach(async () => {
    tdb = await openTestDatabase('sqlite');
    dir = mkdtempSync(join(tmpdir(), 'arca-scrub-'));
    provider = await new FileSystemProvider({ fileStoreDir: join(dir, 'filestore'), tempDir: join(dir, 'tmp') }).init();
    store = new ContentStore(tdb.database, provider, systemClock);
  });
  afterEach(async () => {
    await tdb.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function deploy(path: string, data: Buffer) {
    const staged = await store.stage(once(data));
    await store.commit(staged, (trx) =>
      putFile(trx, { repo: 'r', fullPath: path, binary: staged, original: {}, mimeType: 'application/octet-stream', user: 'admin', now: Date.now() }),
    );
    return staged.sha1;
  }

  it('hashes every binary of a single-copy store and names the corrupt and missing ones', async () => {
    const sizes = [0, 10, 70_000, 300_000];
    const sha1s = [];
    for (const [i, n] of sizes.entries()) sha1s.push(await deploy(`f${i}.bin`, randomBytes(n)));
    const clean = await scrubStore(tdb.database, provider, { pageSize: 2 });
    expect(clean).toMatchObject({ binaries: 4, checked: 4, bytesChecked: 370_010, corrupt: 0, missing: 0, unrecoverable: 0, problems: [] });

    writeFileSync(provider.pathOf(sha1s[2]), randomBytes(70_000)); // same size, other bytes
    unlinkSync(provider.pathOf(sha1s[3]));
    const bad = await scrubStore(tdb.database, provider, { pageSize: 3 });
    expect(bad).toMatchObject({ binaries: 4, checked: 3, corrupt: 1, missing: 1, unrecoverable: 2 });
    expect([...bad.problems].sort()).toEqual([sha1s[2], sha1s[3]].sort());
  });

  it('lets a redundant provider repair copies, then checks every referenced binary is still there', async () => {
    const a = await deploy('a.bin', randomBytes(1000));
    const b = await deploy('b.bin', randomBytes(2000));
    let scrubbed = 0;
    // A provider that verifies and repairs its own copies (as sharding does) but lost `b` entirely.
    const redundant: BinaryProvider = Object.assign(Object.create(provider) as BinaryProvider, {
      scrub: async () => {
        scrubbed++;
        return { checked: 4, bytesChecked: 6000, corrupt: 1, repaired: 1, bytesRepaired: 1000 };
      },
    });
    unlinkSync(provider.pathOf(b));
    const report = await scrubStore(tdb.database, redundant);
    expect(scrubbed).toBe(1);
    expect(report).toMatchObject({ binaries: 2, checked: 4, corrupt: 1, repaired: 1, bytesRepaired: 1000, missing: 1, unrecoverable: 1, problems: [b] });
    expect(report.problems).not.toContain(a);
  });

  it('stops when its signal is aborted', async () => {
    await deploy('a.bin', randomBytes(10));
    const ac = new AbortController();
    ac.abort();
    await expect(scrubStore(tdb.database, provider, { signal: ac.signal })).rejects.toThrow();
  });
});
