import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import type { FileSystemProvider } from '../file-system-provider.js';
import { binaryProviderConformance } from '../testing/conformance.js';
import { ShardingProvider, shardingProviderType } from './sharding-provider.js';
import { buildContext, collect, fsStore, providerNode, put, stagingOf, tempDir } from './testing/peers.js';

const sha1Of = (data: Buffer) => createHash('sha1').update(data).digest('hex');

async function sharding(dir: string, params: Record<string, string>, shardParams: Record<string, string>[] = [{}, {}]) {
  const stores: FileSystemProvider[] = [];
  for (let i = 0; i < shardParams.length; i++) stores.push(await fsStore(dir, `shard-${i + 1}`));
  const node = providerNode('sharding', 'sharding', params, {
    subProviders: shardParams.map((p, i) => providerNode(`shard-fs-${i + 1}`, 'state-aware', p)),
  });
  const provider = (await shardingProviderType.create({ node, ctx: buildContext(dir, () => []), subs: stores })) as ShardingProvider;
  return { provider, stores };
}

const hasFile = (store: FileSystemProvider, sha1: string) => existsSync(store.pathOf(sha1));

binaryProviderConformance('sharding over two file-system shards (redundancy 2)', async () => {
  const dir = tempDir();
  const { provider } = await sharding(dir, { redundancy: '2' });
  return {
    provider,
    stagingEntries: async () => {
      await provider.settled();
      return [...stagingOf(dir, 'shard-1'), ...stagingOf(dir, 'shard-2')];
    },
    cleanup: async () => {
      await provider.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('sharding provider', () => {
  const dirs: string[] = [];
  const fresh = () => {
    const d = tempDir();
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('spreads binaries round robin with redundancy 1, one copy each, all readable', async () => {
    const { provider, stores } = await sharding(fresh(), {});
    const data = Array.from({ length: 10 }, () => randomBytes(2000));
    const sha1s: string[] = [];
    for (const d of data) sha1s.push(await put(provider, d));
    await provider.settled();
    const counts = stores.map((s) => sha1s.filter((h) => hasFile(s, h)).length);
    expect(counts).toEqual([5, 5]);
    for (const h of sha1s) expect(stores.filter((s) => hasFile(s, h))).toHaveLength(1);
    for (let i = 0; i < data.length; i++) expect((await collect(await provider.read(sha1s[i]))).equals(data[i])).toBe(true);
    const listed: string[] = [];
    for await (const e of provider.list()) listed.push(e.sha1);
    expect(listed.sort()).toEqual([...sha1s].sort());
  });

  it('writes every copy before the commit returns with lenientLimit 0', async () => {
    const { provider, stores } = await sharding(fresh(), { redundancy: '2', lenientLimit: '0' });
    const sha1 = await put(provider, randomBytes(50_000));
    expect(stores.map((s) => hasFile(s, sha1))).toEqual([true, true]);
    expect(provider.pending.size).toBe(0);
    expect(await provider.delete(sha1)).toBe(true);
    expect(stores.map((s) => hasFile(s, sha1))).toEqual([false, false]);
  });

  it('skips a shard with writeEnabled=false for writes but still reads from it', async () => {
    const { provider, stores } = await sharding(fresh(), {}, [{}, { writeEnabled: 'false' }]);
    const sha1s: string[] = [];
    for (let i = 0; i < 4; i++) sha1s.push(await put(provider, randomBytes(100)));
    expect(sha1s.every((h) => hasFile(stores[0], h) && !hasFile(stores[1], h))).toBe(true);
    // A binary that only the read-only shard holds is served from it.
    const old = randomBytes(300);
    const path = stores[1].pathOf(sha1Of(old));
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, old);
    expect((await provider.readBuffer(sha1Of(old))).equals(old)).toBe(true);
  });

  it('fails a write that cannot reach the required copies with lenientLimit 0, naming the counts', async () => {
    const { provider, stores } = await sharding(fresh(), { redundancy: '2', lenientLimit: '0', writeBehavior: 'roundRobin' });
    breakStore(stores[1]);
    const data = randomBytes(1000);
    // The first write goes to shard 1 (round robin), which works; its copy on shard 2 cannot be made.
    const err = await put(provider, data).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', details: { written: 1, required: 2 } });
    expect((err as Error).message).toContain(`Binary ${sha1Of(data)} was written to 1 of the 2 copies required`);
    expect((err as Error).message).toContain('lenientLimit 0');
  });

  it('accepts the write with lenientLimit 1, remembers the missing copy, and balancing completes it once the shard is back', async () => {
    const { provider, stores } = await sharding(fresh(), { redundancy: '2', lenientLimit: '1' });
    const restore = breakStore(stores[1]);
    const data = randomBytes(1000);
    const sha1 = await put(provider, data);
    await provider.settled();
    expect(hasFile(stores[0], sha1)).toBe(true);
    expect(hasFile(stores[1], sha1)).toBe(false);
    expect([...provider.pending.keys()]).toEqual([sha1]);
    restore();
    const result = await provider.balance();
    expect(result).toMatchObject({ checked: 1, missing: 1, copied: 1, bytesCopied: 1000, removed: 0 });
    expect(readFileSync(stores[1].pathOf(sha1)).equals(data)).toBe(true);
    expect(provider.pending.size).toBe(0);
  });

  it('balancing restores copies deleted behind its back and removes surplus copies', async () => {
    const dir = fresh();
    const { provider, stores } = await sharding(dir, { redundancy: '2', lenientLimit: '0' });
    const sha1s: string[] = [];
    for (let i = 0; i < 5; i++) sha1s.push(await put(provider, randomBytes(1000 + i)));
    for (const h of sha1s) rmSync(stores[1].pathOf(h));
    const restored = await provider.balance();
    expect(restored).toMatchObject({ checked: 5, missing: 5, copied: 5, bytesCopied: 5010, removed: 0 });
    for (const h of sha1s) expect(hasFile(stores[1], h)).toBe(true);
    expect(await provider.balance()).toMatchObject({ checked: 5, missing: 0, copied: 0 });

    // The same stores under redundancy 1: one copy of each binary is surplus.
    const single = new ShardingProvider({ ...provider.opts, redundancy: 1, lenientLimit: 1 });
    expect(await single.balance()).toMatchObject({ checked: 5, removed: 5, copied: 0 });
    for (const h of sha1s) expect(stores.filter((s) => hasFile(s, h))).toHaveLength(1);
  });

  it('scrub replaces a corrupt copy from a good one and reports a binary whose copies are all corrupt', async () => {
    const { provider, stores } = await sharding(fresh(), { redundancy: '2', lenientLimit: '0' });
    const good = randomBytes(4000);
    const lost = randomBytes(3000);
    const a = await put(provider, good);
    const b = await put(provider, lost);
    const bad = Buffer.from(good);
    bad[100] ^= 0xff;
    writeFileSync(stores[1].pathOf(a), bad);
    for (const s of stores) writeFileSync(s.pathOf(b), randomBytes(3000));
    const result = await provider.scrub();
    expect(result).toMatchObject({ checked: 2, bytesChecked: 14_000, corrupt: 3, repaired: 1, bytesRepaired: 4000, unrecoverable: 1 });
    expect(readFileSync(stores[1].pathOf(a)).equals(good)).toBe(true);
    expect((await provider.scrub()).corrupt).toBe(2);
  });

  it('refuses bad parameters naming the provider element', async () => {
    const dir = fresh();
    await expect(sharding(dir, { redundancy: '0' })).rejects.toThrow(
      new ConfigError(`binarystore.xml: <provider id="sharding" type="sharding">: redundancy must be a whole number of at least 1, got '0'`, 'INVALID_CONFIG'),
    );
    await expect(sharding(dir, { readBehavior: 'nearest' })).rejects.toThrow(/<provider id="sharding" type="sharding">: readBehavior 'nearest' is not one of roundRobin/);
  });
});

/** Makes a real store fail to commit: its filestore directory becomes a regular file. */
function breakStore(store: FileSystemProvider): () => void {
  const root = join(store.pathOf('0'.repeat(40)), '..', '..');
  rmSync(root, { recursive: true, force: true });
  writeFileSync(root, 'not a directory');
  return () => {
    rmSync(root, { force: true });
    mkdirSync(root, { recursive: true });
  };
}
