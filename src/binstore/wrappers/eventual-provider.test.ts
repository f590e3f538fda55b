import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { binaryProviderConformance } from '../testing/conformance.js';
import type { FileSystemProvider } from '../file-system-provider.js';
import { CacheFsProvider } from './cache-fs-provider.js';
import { EventualProvider, type EventualOptions } from './eventual-provider.js';
import { RetryProvider } from './retry-provider.js';
import { FlakyProvider } from './testing/flaky-provider.js';
import { chunksOf, collect, entries, fsChild, tempDir, waitFor } from './testing/helpers.js';

/** The conformance harness of an eventual provider over the file-system provider `child`. */
function eventualHarness(dir: string, child: Awaited<ReturnType<typeof fsChild>>, provider: EventualProvider) {
  return {
    provider,
    // Drained first: then neither the local staging nor the child's may hold anything.
    stagingEntries: async () => {
      await provider.drain(10_000);
      return [...entries(provider.queue.preDir), ...entries(child.tempDir)];
    },
    corrupt: async (sha1: string, bytes: Buffer) => {
      await provider.drain(10_000);
      writeFileSync(child.provider.pathOf(sha1), bytes);
    },
    cleanup: async () => {
      await provider.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

binaryProviderConformance('eventual over file-system', async () => {
  const dir = tempDir('eventual');
  const child = await fsChild(dir);
  const provider = await new EventualProvider(child.provider, { dir: join(dir, 'eventual'), dispatcherInterval: 50 }).init();
  return eventualHarness(dir, child, provider);
});

binaryProviderConformance('eventual-cluster over retry over file-system', async () => {
  const dir = tempDir('eventual-cluster');
  const child = await fsChild(dir);
  const retry = new RetryProvider(child.provider, { maxTrys: 3, interval: 20 });
  const provider = await new EventualProvider(retry, { type: 'eventual-cluster', queueName: '_queue', dir: join(dir, 'eventual'), dispatcherInterval: 50 }).init();
  return eventualHarness(dir, child, provider);
});
// No `outage` in these harnesses: an eventual provider acknowledges writes during an outage
// of its child by design, which the tests below prove instead.

/** eventual over a switchable wrapper of a real file-system provider, with short intervals. */
async function setup(opts: Partial<EventualOptions> = {}) {
  const dir = tempDir('eventual-own');
  const child = await fsChild(dir);
  const flaky = new FlakyProvider(child.provider);
  const eventualDir = join(dir, 'eventual');
  const make = (c = flaky as FlakyProvider | typeof child.provider, more: Partial<EventualOptions> = {}) =>
    new EventualProvider(c, { dir: eventualDir, dispatcherInterval: 30, maxBackoff: 100, workers: 2, ...opts, ...more }).init();
  const provider = await make();
  const put = async (p: EventualProvider, data: Buffer) => {
    const staged = await p.stage(chunksOf(data));
    await staged.commit();
    return staged.sha1;
  };
  const inChild = (sha1: string) => existsSync(child.provider.pathOf(sha1));
  return { dir, child, flaky, eventualDir, provider, make, put, inChild, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('eventual provider', () => {
  it('acknowledges writes while the child is down, serves them from staging, and uploads them once it recovers', async () => {
    const t = await setup();
    t.flaky.down = true;
    const blobs = [randomBytes(100_000), randomBytes(3 << 20), randomBytes(0)];
    const shas = [];
    for (const b of blobs) shas.push(await t.put(t.provider, b));
    expect(await t.provider.pending()).toEqual({ adds: 3, addBytes: 100_000 + (3 << 20), deletes: 0 });
    for (const [i, sha1] of shas.entries()) {
      expect(await t.provider.exists(sha1)).toBe(true);
      expect(await t.provider.size(sha1)).toBe(blobs[i].length);
      expect((await collect(await t.provider.read(sha1))).equals(blobs[i])).toBe(true);
      expect((await t.provider.readBuffer(sha1)).equals(blobs[i])).toBe(true);
      const fh = await t.provider.openFile(sha1);
      expect((await fh.readFile()).equals(blobs[i])).toBe(true);
      await fh.close();
      expect(t.inChild(sha1)).toBe(false);
    }
    expect((await collect(await t.provider.read(shas[1], { start: 5, end: 9 }))).equals(blobs[1].subarray(5, 10))).toBe(true);
    // The child is down, so listing its part fails; the staged part is served first.
    const staged = [];
    try {
      for await (const f of t.provider.list()) staged.push(f.sha1);
    } catch (err) {
      expect(err).toMatchObject({ code: 'UNAVAILABLE' });
    }
    expect(staged.sort()).toEqual([...shas].sort());
    await new Promise((r) => setTimeout(r, 300));
    expect(t.flaky.callsTo('stage')).toBeGreaterThan(0);
    t.flaky.down = false;
    // No drain: the background workers get there by themselves.
    await waitFor(async () => (await t.provider.pending()).adds === 0 && t.provider.stats.uploaded === 3, 10_000, 'the uploads');
    for (const [i, sha1] of shas.entries()) expect(readFileSync(t.child.provider.pathOf(sha1)).equals(blobs[i])).toBe(true);
    expect(entries(t.provider.queue.addDir)).toEqual([]);
    expect(t.provider.stats.uploaded).toBe(3);
    const all = [];
    for await (const f of t.provider.list()) all.push(f.sha1);
    expect(all.sort()).toEqual([...shas].sort());
    await t.provider.close();
    t.cleanup();
  });

  it('a delete cancels a queued upload and removes the binary from the child', async () => {
    const t = await setup();
    const uploaded = await t.put(t.provider, randomBytes(1000));
    await t.provider.drain(5000);
    expect(t.inChild(uploaded)).toBe(true);
    t.flaky.down = true;
    const queued = await t.put(t.provider, randomBytes(2000));
    const reAdded = await t.put(t.provider, readFileSync(t.child.provider.pathOf(uploaded)));
    expect(reAdded).toBe(uploaded);
    expect(await t.provider.delete(queued)).toBe(true);
    expect(await t.provider.delete(uploaded)).toBe(true);
    expect(await t.provider.delete(uploaded)).toBe(false);
    for (const sha1 of [queued, uploaded]) {
      expect(await t.provider.exists(sha1)).toBe(false);
      await expect(t.provider.read(sha1)).rejects.toMatchObject({ code: 'ITEM_NOT_FOUND' });
    }
    expect(await t.provider.pending()).toEqual({ adds: 0, addBytes: 0, deletes: 2 });
    expect(t.inChild(uploaded)).toBe(true); // the child is down: not yet
    t.flaky.down = false;
    expect(await t.provider.drain(5000)).toEqual({ adds: 0, addBytes: 0, deletes: 0 });
    expect(t.inChild(uploaded)).toBe(false);
    expect(t.inChild(queued)).toBe(false);
    // A write of deleted content after the delete wins over it.
    t.flaky.down = true;
    const data = randomBytes(500);
    const x = await t.put(t.provider, data);
    expect(await t.provider.delete(x)).toBe(true);
    expect(await t.put(t.provider, data)).toBe(x);
    expect(await t.provider.exists(x)).toBe(true);
    expect(await t.provider.pending()).toEqual({ adds: 1, addBytes: 500, deletes: 0 });
    t.flaky.down = false;
    await t.provider.drain(5000);
    expect(readFileSync(t.child.provider.pathOf(x)).equals(data)).toBe(true);
    await t.provider.close();
    t.cleanup();
  });

  it('offers the child\'s direct-download URL only once the child has the binary (and cache-fs only for uncached ones)', async () => {
    const dir = tempDir('eventual-url');
    const child = await fsChild(dir);
    const presigning = new Proxy(child.provider, {
      get(target, prop, receiver) {
        if (prop === 'downloadUrl') return async (sha1: string) => `https://bucket.example/${sha1}?signed`;
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as FileSystemProvider & { downloadUrl(sha1: string): Promise<string | undefined> };
    const flaky = new FlakyProvider(presigning);
    Object.assign(flaky, { downloadUrl: (sha1: string) => presigning.downloadUrl(sha1) });
    flaky.down = true;
    const p = await new EventualProvider(flaky, { dir: join(dir, 'eventual'), dispatcherInterval: 30, maxBackoff: 60 }).init();
    const sha1 = await (async () => {
      const staged = await p.stage(chunksOf(randomBytes(100)));
      await staged.commit();
      return staged.sha1;
    })();
    expect(await p.downloadUrl!(sha1)).toBeUndefined();
    flaky.down = false;
    await p.drain(5000);
    expect(await p.downloadUrl!(sha1)).toBe(`https://bucket.example/${sha1}?signed`);
    const cache = await new CacheFsProvider(p, { cacheDir: join(dir, 'cache') }).init();
    expect(await cache.downloadUrl!(sha1)).toBe(`https://bucket.example/${sha1}?signed`);
    await cache.readBuffer(sha1);
    expect(await cache.downloadUrl!(sha1)).toBeUndefined();
    await p.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
