import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, systemClock, type Clock } from '../../core/clock.js';
import type { FileSystemProvider } from '../file-system-provider.js';
import { binaryProviderConformance } from '../testing/conformance.js';
import type { RemoteProvider } from './remote-provider.js';
import type { NodeBinstore } from './node-auth.js';
import { ShardingClusterProvider, shardingClusterProviderType } from './sharding-cluster-provider.js';
import { buildContext, collect, fsStore, providerNode, put, remoteNode, stagingOf, startPeer, tempDir, type TestPeer } from './testing/peers.js';

interface Cluster {
  dir: string;
  local: FileSystemProvider;
  provider: ShardingClusterProvider;
}

async function clusterProvider(
  peers: () => TestPeer[],
  opts: { params?: Record<string, string>; clock?: Clock; secret?: Buffer; dir?: string; local?: FileSystemProvider } = {},
): Promise<Cluster> {
  const dir = opts.dir ?? tempDir('arca-cluster-local-');
  const local = opts.local ?? (await fsStore(dir, 'local', opts.clock));
  const node = providerNode(
    'sharding-cluster',
    'sharding-cluster',
    { readBehavior: 'crossNetworkStrategy', writeBehavior: 'crossNetworkStrategy', redundancy: '2', lenientLimit: '1', zones: 'local,remote', ...opts.params },
    { subProviders: [providerNode('state-aware', 'state-aware', { zone: 'local' })], dynamic: remoteNode() },
  );
  const ctx = buildContext(dir, () => peers().map((p) => ({ nodeId: p.nodeId, url: p.url })), { clock: opts.clock, secret: opts.secret });
  let nodeApi: NodeBinstore | undefined;
  ctx.onNodeApi = (api) => (nodeApi = api);
  const provider = (await shardingClusterProviderType.create({ node, ctx, subs: [local] })) as ShardingClusterProvider;
  expect(nodeApi).toMatchObject({ local, nodeId: 'node-1' });
  return { dir, local, provider };
}

const holds = (store: FileSystemProvider, sha1: string) => existsSync(store.pathOf(sha1));

binaryProviderConformance('sharding-cluster: a local shard and two peers over signed HTTP', async () => {
  const peers = [await startPeer('node-2'), await startPeer('node-3')];
  const { dir, provider } = await clusterProvider(() => peers);
  return {
    provider,
    stagingEntries: async () => {
      await provider.settled();
      const spool = existsSync(join(dir, 'tmp', 'remote')) ? readdirSync(join(dir, 'tmp', 'remote')) : [];
      return [...stagingOf(dir, 'local'), ...peers.flatMap((p) => stagingOf(p.dir, 'local')), ...spool];
    },
    cleanup: async () => {
      await provider.close();
      for (const p of peers) await p.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('sharding-cluster provider', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const peer = async (id: string, clock: Clock = systemClock) => {
    const p = await startPeer(id, { clock });
    cleanups.push(() => p.close());
    return p;
  };
  const cluster = async (peers: () => TestPeer[], opts: Parameters<typeof clusterProvider>[1] = {}) => {
    const c = await clusterProvider(peers, opts);
    cleanups.push(async () => {
      await c.provider.close();
      rmSync(c.dir, { recursive: true, force: true });
    });
    return c;
  };

  it('keeps each binary on two of three nodes: here, and the peers in turn', async () => {
    const peers = [await peer('node-2'), await peer('node-3')];
    const { provider, local } = await cluster(() => peers);
    const sha1s: string[] = [];
    for (let i = 0; i < 6; i++) sha1s.push(await put(provider, randomBytes(1000 + i)));
    await provider.settled();
    for (const h of sha1s) {
      expect(holds(local, h)).toBe(true);
      expect(peers.filter((p) => holds(p.store, h))).toHaveLength(1);
    }
    expect(peers.map((p) => sha1s.filter((h) => holds(p.store, h)).length)).toEqual([3, 3]);
  });

  it('two nodes, the peer down: lenientLimit 0 refuses the write, lenientLimit 1 takes it and balancing completes it after checkPeriod', async () => {
    const clock = new FakeClock();
    const p2 = await peer('node-2', clock);
    await p2.stop();
    const strict = await cluster(() => [p2], { clock, params: { lenientLimit: '0' } });
    const data = randomBytes(3000);
    const err = await put(strict.provider, data).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', details: { written: 1, required: 2 } });
    expect((err as Error).message).toMatch(/was written to 1 of the 2 copies required .*redundancy 2, lenientLimit 0.*remote-fs@node-2/);

    const lenient = await cluster(() => [p2], { clock });
    const sha1 = await put(lenient.provider, data);
    await lenient.provider.settled();
    expect(holds(lenient.local, sha1)).toBe(true);
    expect([...lenient.provider.pending.keys()]).toEqual([sha1]);

    await p2.start();
    // Within checkPeriod the peer still counts as down: balancing leaves the binary alone.
    expect(await lenient.provider.balance()).toMatchObject({ checked: 1, copied: 0 });
    expect(holds(p2.store, sha1)).toBe(false);
    clock.advance(15_000);
    expect(await lenient.provider.balance()).toMatchObject({ checked: 1, missing: 1, copied: 1, bytesCopied: 3000 });
    expect(readFileSync(p2.store.pathOf(sha1)).equals(data)).toBe(true);
    expect(lenient.provider.pending.size).toBe(0);
  });

  it('reads from a peer when the local copy is missing (whole and ranges)', async () => {
    const peers = [await peer('node-2'), await peer('node-3')];
    const { provider, local } = await cluster(() => peers);
    const data = randomBytes(200_000);
    const sha1 = await put(provider, data);
    await provider.settled();
    rmSync(local.pathOf(sha1));
    expect(await provider.size(sha1)).toBe(200_000);
    expect((await collect(await provider.read(sha1))).equals(data)).toBe(true);
    expect((await collect(await provider.read(sha1, { start: 1000, end: 1999 }))).equals(data.subarray(1000, 2000))).toBe(true);
    expect((await provider.readBuffer(sha1)).equals(data)).toBe(true);
  });

  it("balancing restores redundancy after a peer's copies are deleted and removes a surplus copy", async () => {
    const peers = [await peer('node-2'), await peer('node-3')];
    const { provider, local } = await cluster(() => peers);
    const sha1s: string[] = [];
    for (let i = 0; i < 6; i++) sha1s.push(await put(provider, randomBytes(500)));
    await provider.settled();
    const lost = sha1s.filter((h) => holds(peers[0].store, h));
    for (const h of lost) rmSync(peers[0].store.pathOf(h));
    const result = await provider.balance();
    expect(result).toMatchObject({ checked: 6, missing: lost.length, copied: lost.length, bytesCopied: 500 * lost.length, removed: 0 });
    const copies = (h: string) => [local, ...peers.map((p) => p.store)].filter((s) => holds(s, h)).length;
    expect(sha1s.map(copies)).toEqual(sha1s.map(() => 2));

    // A third copy (say, a node came back) is surplus: one copy goes, this node keeps its own.
    const extra = sha1s.find((h) => !holds(peers[1].store, h))!;
    mkdirSync(dirname(peers[1].store.pathOf(extra)), { recursive: true });
    writeFileSync(peers[1].store.pathOf(extra), readFileSync(local.pathOf(extra)));
    expect(await provider.balance()).toMatchObject({ checked: 6, removed: 1, copied: 0 });
    expect(copies(extra)).toBe(2);
    expect(holds(local, extra)).toBe(true);
  });

  it("scrub repairs a corrupt copy on a peer from this node's good copy", async () => {
    const peers = [await peer('node-2')];
    const { provider } = await cluster(() => peers, { params: { lenientLimit: '0' } });
    const data = randomBytes(8000);
    const sha1 = await put(provider, data);
    const bad = Buffer.from(data);
    bad[7999] ^= 1;
    writeFileSync(peers[0].store.pathOf(sha1), bad);
    expect(await provider.scrub()).toMatchObject({ checked: 1, bytesChecked: 16_000, corrupt: 1, repaired: 1, bytesRepaired: 8000, unrecoverable: 0 });
    expect(readFileSync(peers[0].store.pathOf(sha1)).equals(data)).toBe(true);
  });

  it('skips a peer that went down for checkPeriod (writes go to the other peer), then uses it again', async () => {
    const clock = new FakeClock();
    const peers = [await peer('node-2', clock), await peer('node-3', clock)];
    const { provider } = await cluster(() => peers, { clock, params: { lenientLimit: '0' } });
    await peers[1].stop();
    const first: string[] = [];
    for (let i = 0; i < 4; i++) first.push(await put(provider, randomBytes(100)));
    expect(first.every((h) => holds(peers[0].store, h))).toBe(true);
    const remote3 = (await provider.opts.shards()).find((s) => s.id === 'remote-fs@node-3')!.provider as unknown as RemoteProvider;
    expect(remote3.available()).toBe(false);
    await peers[1].start();
    const second: string[] = [];
    for (let i = 0; i < 4; i++) second.push(await put(provider, randomBytes(100)));
    expect(second.filter((h) => holds(peers[1].store, h))).toEqual([]);
    clock.advance(15_000);
    const third: string[] = [];
    for (let i = 0; i < 4; i++) third.push(await put(provider, randomBytes(100)));
    expect(third.filter((h) => holds(peers[1].store, h))).toHaveLength(2);
  });

  it('follows the live peer list: a joining peer gets copies after checkPeriod, a leaving one is dropped', async () => {
    const clock = new FakeClock();
    const p2 = await peer('node-2', clock);
    const p3 = await peer('node-3', clock);
    const live = [p2];
    const { provider } = await cluster(() => live, { clock, params: { lenientLimit: '0' } });
    const before = await put(provider, randomBytes(100));
    expect(holds(p2.store, before)).toBe(true);
    live.push(p3);
    clock.advance(15_000);
    const after: string[] = [];
    for (let i = 0; i < 4; i++) after.push(await put(provider, randomBytes(100)));
    expect(after.filter((h) => holds(p3.store, h))).toHaveLength(2);
    live.splice(0, 1);
    clock.advance(15_000);
    const onlyP3: string[] = [];
    for (let i = 0; i < 3; i++) onlyP3.push(await put(provider, randomBytes(100)));
    expect(onlyP3.every((h) => holds(p3.store, h) && !holds(p2.store, h))).toBe(true);
    expect((await provider.opts.shards()).map((s) => s.id)).toEqual(['state-aware', 'remote-fs@node-3']);
  });

  it('a write short of copies looks for peers that joined since the last refresh (without waiting for checkPeriod)', async () => {
    const clock = new FakeClock();
    const p2 = await peer('node-2', clock);
    const live: TestPeer[] = [];
    const { provider } = await cluster(() => live, { clock, params: { lenientLimit: '0' } });
    await provider.check(); // the peer list is read here: no peer yet
    expect((await provider.opts.shards()).map((s) => s.id)).toEqual(['state-aware']);
    live.push(p2);
    clock.advance(1000);
    const sha1 = await put(provider, randomBytes(100));
    expect(holds(p2.store, sha1)).toBe(true);
  });

  it('names the master key when a peer refuses the signature (another cluster secret)', async () => {
    const p2 = await peer('node-2');
    const { provider } = await cluster(() => [p2], { secret: Buffer.alloc(32, 1), params: { lenientLimit: '0' } });
    const err = await put(provider, randomBytes(100)).catch((e: unknown) => e);
    expect((err as Error).message).toContain("refused this node's signed request (401");
    expect((err as Error).message).toContain('share the master key');
  });
});
