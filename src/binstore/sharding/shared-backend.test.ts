import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { BinaryProvider } from '../binary-provider.js';
import type { Shard } from './behaviors.js';
import { ShardingProvider } from './sharding-provider.js';
import { fsStore, put, SILENT_LOG, tempDir } from './testing/peers.js';

/**
 * The cluster-* cloud templates: every node's local shard stages in front of one shared
 * bucket, so each shard reports every binary already in the bucket. Balancing must not take
 * that for surplus copies: deleting one would delete the bucket's object for every node.
 */
describe('sharding in front of one shared store', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function setup(sharedBackend: boolean) {
    const dir = tempDir();
    dirs.push(dir);
    const bucket = await fsStore(dir, 'bucket');
    // Three node-local views of the one store (as eventual-cluster → retry → bucket are).
    const shards: Shard[] = ['art1', 'art2', 'art3'].map((node, i) => ({
      id: `eventual-cluster@${node}`,
      provider: Object.create(bucket) as BinaryProvider,
      zone: i === 0 ? 'local' : 'remote',
      writeEnabled: true,
      local: i === 0,
    }));
    const provider = new ShardingProvider({
      type: 'sharding-cluster',
      id: 'sharding-cluster-eventual-s3',
      shards: async () => shards,
      redundancy: 2,
      lenientLimit: 1,
      readBehavior: 'roundRobin',
      writeBehavior: 'roundRobin',
      log: SILENT_LOG,
      sharedBackend,
    });
    return { provider, bucket };
  }

  it('balancing keeps the shared object although every shard reports it', async () => {
    const { provider, bucket } = await setup(true);
    const sha1 = await put(provider, randomBytes(5000));
    await provider.settled();
    const result = await provider.balance!();
    expect(result.removed ?? 0).toBe(0);
    expect(existsSync(bucket.pathOf(sha1))).toBe(true);
    expect(await provider.exists(sha1)).toBe(true);
  });

  it('without the shared-store flag the same layout would lose the object (what the flag prevents)', async () => {
    const { provider, bucket } = await setup(false);
    const sha1 = await put(provider, randomBytes(5000));
    await provider.settled();
    const result = await provider.balance!();
    expect(result.removed).toBeGreaterThan(0);
    expect(existsSync(bucket.pathOf(sha1))).toBe(false);
  });

  it('scrub reports a corrupt shared object without deleting it', async () => {
    const { provider, bucket } = await setup(true);
    const sha1 = await put(provider, randomBytes(5000));
    await provider.settled();
    writeFileSync(bucket.pathOf(sha1), randomBytes(5000));
    const result = await provider.scrub!();
    expect(result.corrupt).toBeGreaterThan(0);
    expect(existsSync(bucket.pathOf(sha1))).toBe(true);
  });
});
