import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import type { BuildContext, ProviderNode } from '../chain/types.js';
import { binaryProviderConformance } from '../testing/conformance.js';
import { CacheFsProvider, cacheFsProviderType, type CacheFsOptions } from './cache-fs-provider.js';
import { FlakyProvider } from './testing/flaky-provider.js';
import { chunksOf, collect, entries, fsChild, tempDir, waitFor } from './testing/helpers.js';

binaryProviderConformance('cache-fs over file-system', async () => {
  const dir = tempDir('cache-fs');
  const child = await fsChild(dir);
  const provider = await new CacheFsProvider(child.provider, { cacheDir: join(dir, 'cache'), maxCacheSize: 200 << 20 }).init();
  return {
    provider,
    stagingEntries: async () => [...entries(child.tempDir), ...entries(join(dir, 'cache', '_pre'))],
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    corrupt: async (sha1, bytes) => {
      writeFileSync(child.provider.pathOf(sha1), bytes);
      if (existsSync(provider.pathOf(sha1))) writeFileSync(provider.pathOf(sha1), bytes);
    },
  };
});

/** cache-fs over a counting (and switchable) wrapper of a real file-system provider. */
async function setup(opts: Partial<CacheFsOptions> = {}) {
  const dir = tempDir('cache-fs-own');
  const child = await fsChild(dir);
  const flaky = new FlakyProvider(child.provider);
  const cacheDir = join(dir, 'cache');
  const cache = await new CacheFsProvider(flaky, { cacheDir, maxCacheSize: 1 << 30, ...opts }).init();
  const put = async (data: Buffer) => {
    const staged = await cache.stage(chunksOf(data));
    await staged.commit();
    return staged.sha1;
  };
  return { dir, child, flaky, cacheDir, cache, put, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('cache-fs provider', () => {
  it('fills on a read miss while streaming and then serves hits without the child', async () => {
    const t = await setup({ skipDuringUpload: true });
    const data = randomBytes(3 << 20);
    const sha1 = await t.put(data);
    expect(existsSync(t.cache.pathOf(sha1))).toBe(false);
    expect((await collect(await t.cache.read(sha1))).equals(data)).toBe(true);
    expect(t.flaky.callsTo('read')).toBe(1);
    expect(readFileSync(t.cache.pathOf(sha1)).equals(data)).toBe(true);
    // The child is now unreachable: every read form is served from the cache.
    t.flaky.down = true;
    expect((await collect(await t.cache.read(sha1))).equals(data)).toBe(true);
    expect((await collect(await t.cache.read(sha1, { start: 10, end: 19 }))).equals(data.subarray(10, 20))).toBe(true);
    expect((await t.cache.readBuffer(sha1)).equals(data)).toBe(true);
    const fh = await t.cache.openFile(sha1);
    expect((await fh.readFile()).equals(data)).toBe(true);
    await fh.close();
    expect(t.flaky.callsTo('read')).toBe(1);
    expect(t.flaky.callsTo('readBuffer')).toBe(0);
    expect(t.cache.stats).toMatchObject({ misses: 1, hits: 4 });
    t.cleanup();
  });

  it('caches uploads unless skipDuringUpload, and a delete removes from both', async () => {
    const t = await setup();
    const data = randomBytes(10_000);
    const sha1 = await t.put(data);
    expect(readFileSync(t.cache.pathOf(sha1)).equals(data)).toBe(true);
    expect(readFileSync(t.child.provider.pathOf(sha1)).equals(data)).toBe(true);
    t.flaky.down = true;
    expect((await t.cache.readBuffer(sha1)).equals(data)).toBe(true);
    t.flaky.down = false;
    expect(await t.cache.delete(sha1)).toBe(true);
    expect(existsSync(t.cache.pathOf(sha1))).toBe(false);
    expect(existsSync(t.child.provider.pathOf(sha1))).toBe(false);
    expect(t.cache.index.has(sha1)).toBe(false);
    await expect(t.cache.read(sha1)).rejects.toMatchObject({ code: 'ITEM_NOT_FOUND' });
    t.cleanup();
  });

  it('stays within maxCacheSize and evicts the least recently used binary', async () => {
    const t = await setup({ maxCacheSize: 3000 });
    const blobs = Array.from({ length: 4 }, () => randomBytes(1000));
    const [a, b, c] = [await t.put(blobs[0]), await t.put(blobs[1]), await t.put(blobs[2])];
    expect(t.cache.index.keys()).toEqual([a, b, c]);
    await collect(await t.cache.read(a)); // a becomes the most recently used
    expect(t.cache.index.keys()).toEqual([b, c, a]);
    const d = await t.put(blobs[3]);
    expect(t.cache.index.keys()).toEqual([c, a, d]);
    expect(existsSync(t.cache.pathOf(b))).toBe(false);
    expect(t.cache.index.cachedBytes).toBe(3000);
    // b is still in the child and comes back into the cache on the next read, evicting c.
    expect((await t.cache.readBuffer(b)).equals(blobs[1])).toBe(true);
    expect(t.cache.index.keys()).toEqual([a, d, b]);
    expect(existsSync(t.cache.pathOf(c))).toBe(false);
    expect(t.cache.stats.evictions).toBe(2);
    t.cleanup();
  });

  it('never caches a binary over maxFileSizeLimit or over the whole cache', async () => {
    const t = await setup({ maxCacheSize: 5000, maxFileSizeLimit: 2000 });
    const small = await t.put(randomBytes(2000));
    const big = await t.put(randomBytes(2001));
    expect(t.cache.index.keys()).toEqual([small]);
    await collect(await t.cache.read(big));
    const fh = await t.cache.openFile(big);
    expect((await fh.stat()).size).toBe(2001);
    await fh.close();
    expect(t.cache.index.keys()).toEqual([small]);
    expect(entries(join(t.cacheDir, '_pre'))).toEqual([]);
    t.cleanup();
  });

  it('rebuilds its index from disk in last-used order and enforces a smaller bound at start', async () => {
    const t = await setup();
    const shas = [];
    for (let i = 0; i < 4; i++) shas.push(await t.put(randomBytes(1000)));
    // Last used: shas[2] long ago, then shas[0], shas[3], shas[1].
    const order = [shas[2], shas[0], shas[3], shas[1]];
    order.forEach((s, i) => {
      const when = new Date(Date.now() - (10 - i) * 60_000);
      utimesSync(t.cache.pathOf(s), when, when);
    });
    writeFileSync(join(t.cacheDir, '_pre', 'fill-crashed.tmp'), 'partial');
    const again = await new CacheFsProvider(t.flaky, { cacheDir: t.cacheDir, maxCacheSize: 1 << 20 }).init();
    expect(again.index.keys()).toEqual(order);
    expect(entries(join(t.cacheDir, '_pre'))).toEqual([]);
    const smaller = await new CacheFsProvider(t.flaky, { cacheDir: t.cacheDir, maxCacheSize: 2500 }).init();
    expect(smaller.index.keys()).toEqual([shas[3], shas[1]]);
    expect(existsSync(t.cache.pathOf(shas[2]))).toBe(false);
    expect(existsSync(t.cache.pathOf(shas[0]))).toBe(false);
    t.cleanup();
  });

  it('leaves no cache entry after a partial read', async () => {
    const t = await setup({ skipDuringUpload: true });
    const sha1 = await t.put(randomBytes(8 << 20));
    const stream = await t.cache.read(sha1);
    for await (const chunk of stream) {
      expect((chunk as Buffer).length).toBeGreaterThan(0);
      break; // the client went away after the first chunk
    }
    await waitFor(() => entries(join(t.cacheDir, '_pre')).length === 0, 5000, 'the fill to be removed');
    expect(existsSync(t.cache.pathOf(sha1))).toBe(false);
    expect(t.cache.index.has(sha1)).toBe(false);
    t.cleanup();
  });

  it('does not cache data that fails its SHA-1 check', async () => {
    const t = await setup({ skipDuringUpload: true });
    const sha1 = await t.put(randomBytes(50_000));
    const bad = randomBytes(50_000);
    writeFileSync(t.child.provider.pathOf(sha1), bad);
    expect((await collect(await t.cache.read(sha1))).equals(bad)).toBe(true);
    expect(t.cache.index.has(sha1)).toBe(false);
    expect(entries(join(t.cacheDir, '_pre'))).toEqual([]);
    await expect(t.cache.openFile(sha1)).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    expect(t.cache.index.has(sha1)).toBe(false);
    t.cleanup();
  });

  it('opens a cached copy after a miss even when the child has no local files', async () => {
    const t = await setup({ skipDuringUpload: true });
    const data = randomBytes(2 << 20);
    const sha1 = await t.put(data);
    expect('openFile' in t.flaky).toBe(false);
    const fh = await t.cache.openFile(sha1);
    expect((await fh.readFile()).equals(data)).toBe(true);
    await fh.close();
    expect(readFileSync(t.cache.pathOf(sha1)).equals(data)).toBe(true);
    await expect(t.cache.openFile('e'.repeat(40))).rejects.toMatchObject({ code: 'ITEM_NOT_FOUND' });
    t.cleanup();
  });

  it('is built from binarystore.xml parameters (cacheProviderDir relative to baseDataDir)', async () => {
    const t = await setup();
    const node: ProviderNode = {
      id: 'cache-fs',
      type: 'cache-fs',
      params: { baseDataDir: t.dir, maxCacheSize: '5KB', cacheProviderDir: 'my-cache', skipDuringUpload: 'true' },
      explicit: [],
      subProviders: [],
    };
    const ctx = { dataDir: '/nonexistent', nodeId: 'n1', clock: new FakeClock(), log: { info() {}, warn() {}, error() {} } } as unknown as BuildContext;
    const built = (await cacheFsProviderType.create({ node, ctx, child: t.flaky, subs: [] })) as CacheFsProvider;
    expect(built.index.maxBytes).toBe(5000);
    const staged = await built.stage(chunksOf(randomBytes(100)));
    await staged.commit();
    expect(built.index.count).toBe(0);
    await built.readBuffer(staged.sha1);
    expect(existsSync(join(t.dir, 'my-cache', staged.sha1.slice(0, 2), staged.sha1))).toBe(true);
    await expect(
      cacheFsProviderType.create({ node: { ...node, params: { ...node.params, skipDuringUpload: 'maybe' } }, ctx, child: t.flaky, subs: [] }),
    ).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    t.cleanup();
  });
});
