import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileSystemProvider } from './file-system-provider.js';
import { binaryProviderConformance } from './testing/conformance.js';

function harness() {
  const dir = mkdtempSync(join(tmpdir(), 'arca-fs-provider-'));
  const tempDir = join(dir, 'tmp');
  const provider = new FileSystemProvider({ fileStoreDir: join(dir, 'filestore'), tempDir });
  return { dir, tempDir, provider };
}

binaryProviderConformance('file-system', async () => {
  const { dir, tempDir, provider } = harness();
  await provider.init();
  return {
    provider,
    stagingEntries: async () => readdirSync(tempDir).filter((n) => !n.startsWith('.probe')),
    corrupt: async (sha1, bytes) => writeFileSync(provider.pathOf(sha1), bytes),
    bigObjectBytes: 3 * 2 ** 30,
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('file-system provider layout', () => {
  it('keeps each binary at filestore/<first 2 hex of sha1>/<sha1>', async () => {
    const { dir, provider } = harness();
    await provider.init();
    const staged = await provider.stage((async function* () {
      yield Buffer.from('hello\n');
    })());
    await staged.commit();
    expect(staged.sha1).toBe('f572d396fae9206628714fb2ce00f72e94f2258f');
    expect(readdirSync(join(dir, 'filestore', 'f5'))).toEqual(['f572d396fae9206628714fb2ce00f72e94f2258f']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('cleans staging files left by a crash once they are old enough', async () => {
    const { dir, tempDir, provider } = harness();
    await provider.init();
    const old = join(tempDir, 'upload-crashed.tmp');
    const fresh = join(tempDir, 'upload-inflight.tmp');
    writeFileSync(old, 'x');
    writeFileSync(fresh, 'y');
    const hourAgo = (Date.now() - 3_600_000) / 1000;
    utimesSync(old, hourAgo, hourAgo);
    expect(await provider.cleanTemp(60_000)).toBe(1);
    expect(readdirSync(tempDir)).toEqual(['upload-inflight.tmp']);
    rmSync(dir, { recursive: true, force: true });
  });
});
