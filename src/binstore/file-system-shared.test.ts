import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseBinarystoreXml } from '../config/binarystore.js';
import { FakeClock } from '../core/clock.js';
import type { BinaryProvider } from './binary-provider.js';
import { buildChain, deriveNodeSecret } from './chain/build.js';
import { resolveChain } from './chain/resolve.js';
import { FileSystemProvider } from './file-system-provider.js';

/**
 * artifactory.ha.data.dir: every node builds its own provider on one shared directory (an NFS
 * mount in production). Whatever one instance writes or deletes must be seen by the others
 * at once: nothing may remember that a binary is absent.
 */
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const source = (b: Buffer) =>
  (async function* () {
    yield b;
  })();

async function put(p: BinaryProvider, b: Buffer): Promise<string> {
  const staged = await p.stage(source(b));
  await staged.commit();
  return staged.sha1;
}

/** Two nodes' chains from the default binarystore.xml on one shared data dir. */
async function twoNodes(): Promise<[FileSystemProvider, FileSystemProvider, string]> {
  const shared = mkdtempSync(join(tmpdir(), 'arca-shared-store-'));
  dirs.push(shared);
  const root = resolveChain(parseBinarystoreXml('<config version="1"><chain template="file-system"/></config>', 'binarystore.xml')).root;
  const build = (nodeId: string) =>
    buildChain(root, {
      dataDir: shared,
      nodeId,
      clock: new FakeClock(),
      log: { info() {}, warn() {}, error() {} },
      peers: async () => [],
      nodeSecret: deriveNodeSecret(Buffer.alloc(16)),
    });
  const a = (await build('a')) as FileSystemProvider;
  const b = (await build('b')) as FileSystemProvider;
  expect(a).not.toBe(b);
  return [a, b, shared];
}

describe('one file store shared by two provider instances', () => {
  it('sees at once a binary the other instance wrote after a miss, and its deletion', async () => {
    const [a, b] = await twoNodes();
    const data = randomBytes(10_000);
    const sha1 = (await a.stage(source(data))).sha1; // staged, not committed: invisible everywhere
    expect(await b.exists(sha1)).toBe(false);
    expect(await b.size(sha1)).toBeUndefined();
    await expect(b.readBuffer(sha1)).rejects.toMatchObject({ code: 'ITEM_NOT_FOUND' });

    expect(await put(a, data)).toBe(sha1);
    expect(await b.exists(sha1)).toBe(true);
    expect(await b.size(sha1)).toBe(data.length);
    expect((await b.readBuffer(sha1)).equals(data)).toBe(true);
    const listed: string[] = [];
    for await (const e of b.list()) listed.push(e.sha1);
    expect(listed).toEqual([sha1]);

    expect(await b.delete(sha1)).toBe(true);
    expect(await a.exists(sha1)).toBe(false);
    expect(await a.delete(sha1)).toBe(false);
    await expect(a.read(sha1)).rejects.toMatchObject({ code: 'ITEM_NOT_FOUND' });
  });

  it('stores one file when both instances commit the same binary at the same time', async () => {
    const [a, b, shared] = await twoNodes();
    const data = randomBytes(200_000);
    const [sa, sb] = await Promise.all([a.stage(source(data)), b.stage(source(data))]);
    await Promise.all([sa.commit(), sb.commit()]);
    expect(readdirSync(join(shared, 'filestore', sa.sha1.slice(0, 2)))).toEqual([sa.sha1]);
    expect(readdirSync(join(shared, 'tmp')).filter((n) => n.startsWith('upload-'))).toEqual([]);
    expect((await a.readBuffer(sa.sha1)).equals(data)).toBe(true);
  });

  it('passes concurrent health checks of instances sharing one tempDir (the shards of one node)', async () => {
    const [a, b, shared] = await twoNodes();
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).check()));
    expect(readdirSync(join(shared, 'tmp'))).toEqual([]);
  });

  it('recreates a shard folder another node removed after this one had used it', async () => {
    const [a, b, shared] = await twoNodes();
    // Two binaries in one shard folder: find a second one with the same two-character prefix.
    const first = randomBytes(100);
    const sha1 = await put(b, first);
    let second: Buffer;
    do second = randomBytes(100);
    while (createHash('sha1').update(second).digest('hex').slice(0, 2) !== sha1.slice(0, 2));
    const sha2 = createHash('sha1').update(second).digest('hex');
    // b knows the folder; another node (here: a cleanup) removes it with its content.
    await a.delete(sha1);
    rmSync(join(shared, 'filestore', sha1.slice(0, 2)), { recursive: true });
    expect(await put(b, second)).toBe(sha2);
    expect((await a.readBuffer(sha2)).equals(second)).toBe(true);
  });
});
