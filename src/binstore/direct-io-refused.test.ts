import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { BatchWriter } from './batch-writer.js';
import { directIoSupported } from './direct-io.js';

// A file system that refuses O_DIRECT at open (EINVAL), as older kernels' tmpfs and some FUSE
// file systems do: the seam is openDirect, everything else is real.
vi.mock('./direct-io.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('./direct-io.js')>()),
  openDirect: async () => undefined,
}));

const dir = mkdtempSync(join(tmpdir(), 'arca-direct-refused-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a file system that refuses O_DIRECT at open', () => {
  it('gets buffered writes, the exact bytes, and is not asked again', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 3);
    const path = join(dir, 'refused');
    const writer = new BatchWriter(await open(path, 'wx'), true, true, path);
    for (let off = 0; off < data.length; off += 100_000) await writer.add(data.subarray(off, off + 100_000));
    const info = await writer.finish();
    expect(writer.directBytes).toBe(0);
    expect(info.sha1).toBe(createHash('sha1').update(data).digest('hex'));
    expect(readFileSync(path).equals(data)).toBe(true);
    expect(await directIoSupported(dir)).toBe(false);
  });
});
