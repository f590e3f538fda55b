import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseBinarystoreXml, DEFAULT_BINARYSTORE_XML } from '../../config/binarystore.js';
import { FakeClock } from '../../core/clock.js';
import { isArcaError, ConfigError } from '../../core/errors.js';
import { exposition, MetricsRegistry } from '../../metrics/registry.js';
import type { BinaryProvider } from '../binary-provider.js';
import { FileSystemProvider, fileSystemProviderType, stateAwareProviderType } from '../file-system-provider.js';
import { isGuarded } from '../guard/guarded-provider.js';
import { binaryProviderConformance } from '../testing/conformance.js';
import type { CacheFsProvider } from '../wrappers/cache-fs-provider.js';
import { buildChain, deriveNodeSecret, type ChainDeps } from './build.js';
import { providerRegistry } from './provider-registry.js';
import { resolveChain } from './resolve.js';
import type { PeerNode, ProviderType } from './types.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'arca-chain-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const silent = { info() {}, warn() {}, error() {} };
function deps(dataDir: string, peers: PeerNode[] = []): ChainDeps {
  return { dataDir, nodeId: 'n1', clock: new FakeClock(), log: silent, peers: async () => peers, nodeSecret: deriveNodeSecret(Buffer.alloc(16, 1)) };
}
const resolved = (xml: string) => resolveChain(parseBinarystoreXml(xml, 'binarystore.xml')).root;
const bytes = (s: string) =>
  (async function* () {
    yield Buffer.from(s);
  })();

async function put(p: BinaryProvider, s: string): Promise<string> {
  const staged = await p.stage(bytes(s));
  await staged.commit();
  return staged.sha1;
}

describe('building the file-system chain', () => {
  it('puts the default template at <dataDir>/filestore with staging in <dataDir>/tmp, as before', async () => {
    const data = tempDir();
    const p = await buildChain(resolved(DEFAULT_BINARYSTORE_XML), deps(data));
    expect(p).toBeInstanceOf(FileSystemProvider);
    expect(p.type).toBe('file-system');
    const sha1 = await put(p, 'hello\n');
    expect(existsSync(join(data, 'filestore', sha1.slice(0, 2), sha1))).toBe(true);
    expect(existsSync(join(data, 'tmp'))).toBe(true);
  });

  it('resolves fileStoreDir and tempDir against baseDataDir unless absolute, and accepts _pre', async () => {
    const data = tempDir();
    const elsewhere = tempDir();
    const p = (await buildChain(
      resolved(`<config><chain template="file-system"/><provider id="file-system"><baseDataDir>base</baseDataDir><tempDir>_pre</tempDir><fileStoreDir>${elsewhere}/fs</fileStoreDir></provider></config>`),
      deps(data),
    )) as FileSystemProvider;
    expect(p.tempDir).toBe(join(data, 'base', '_pre'));
    expect(p.fileStoreDir).toBe(join(elsewhere, 'fs'));
    const sha1 = await put(p, 'x');
    expect(readdirSync(join(elsewhere, 'fs', sha1.slice(0, 2)))).toEqual([sha1]);
  });

  it('refuses a tempDir on another file system than fileStoreDir (a rename cannot cross them)', async (t) => {
    const data = tempDir();
    const other = existsSync('/dev/shm') && statSync('/dev/shm').dev !== statSync(data).dev ? mkdtempSync('/dev/shm/arca-chain-') : undefined;
    if (!other) return t.skip('no second file system (/dev/shm) to put tempDir on');
    dirs.push(other);
    const err = await buildChain(resolved(`<config><chain template="file-system"/><provider id="file-system"><tempDir>${other}/tmp</tempDir></provider></config>`), deps(data)).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(`tempDir ${other}/tmp and fileStoreDir ${join(data, 'filestore')} are on different file systems`);
  });

  it('builds state-aware shards with their zone and refuses writes to a read-only one', async () => {
    const data = tempDir();
    const p = (await buildChain(
      resolved('<config><chain><provider id="s" type="state-aware"><zone>local</zone><writeEnabled>false</writeEnabled><fileStoreDir>s1</fileStoreDir></provider></chain></config>'),
      deps(data),
    )) as FileSystemProvider;
    expect([p.type, p.zone, p.writeEnabled, p.fileStoreDir]).toEqual(['state-aware', 'local', false, join(data, 's1')]);
    const err = await p.stage(bytes('x')).catch((e: unknown) => e);
    expect(isArcaError(err, 'UNAVAILABLE')).toBe(true);
    expect(await p.available()).toBe(true);
  });
});

binaryProviderConformance('state-aware (built from binarystore.xml)', async () => {
  const data = tempDir();
  const provider = await buildChain(resolved('<config><chain><provider id="shard" type="state-aware"/></chain></config>'), deps(data));
  return {
    provider,
    stagingEntries: async () => readdirSync(join(data, 'tmp')).filter((n) => !n.startsWith('.probe')),
    cleanup: async () => rmSync(data, { recursive: true, force: true }),
    corrupt: async (sha1, bytes) => writeFileSync((provider as FileSystemProvider).pathOf(sha1), bytes),
  };
});

/** Records what the builder hands each type; wraps its child or first sub-provider. */
function recorder(type: string, log: string[], closed: string[]): ProviderType {
  return {
    type,
    async create({ node, ctx, child, subs, peer }) {
      log.push(`${node.id}(${child ? child.type : ''}|${subs.map((s) => s.type).join(',')}|${peer?.nodeId ?? ''})`);
      const dynamic = node.dynamic ? await Promise.all((await ctx.peers()).map((p) => ctx.build(node.dynamic!, { peer: p }))) : [];
      const inner = child ?? subs[0];
      const provider: Partial<BinaryProvider> & { dynamic: unknown[] } = {
        type,
        dynamic,
        stage: (source, options) => inner.stage(source, options),
        close: async () => {
          closed.push(node.id);
        },
      };
      return provider as BinaryProvider;
    },
  };
}

describe('the builder', () => {
  const clusterXml = '<config><chain template="cluster-file-system"/></config>';

  it('builds bottom-up and instantiates the dynamic provider once per live peer', async () => {
    const data = tempDir();
    const log: string[] = [];
    const closed: string[] = [];
    const registry = providerRegistry([
      stateAwareProviderType,
      recorder('cache-fs', log, closed),
      recorder('sharding-cluster', log, closed),
      recorder('remote', log, closed),
    ]);
    const peers = [
      { nodeId: 'n2', url: 'http://127.0.0.1:1/artifactory' },
      { nodeId: 'n3', url: 'http://127.0.0.1:2/artifactory' },
    ];
    const root = (await buildChain(resolved(clusterXml), deps(data, peers), { registry })) as BinaryProvider & { dynamic: unknown[] };
    expect(log).toEqual(['sharding-cluster(|state-aware|)', 'remote-fs(||n2)', 'remote-fs(||n3)', 'cache-fs(sharding-cluster||)']);
    // The real state-aware shard underneath stores in <dataDir>/filestore.
    const sha1 = await put(root, 'through the chain');
    expect(existsSync(join(data, 'filestore', sha1.slice(0, 2), sha1))).toBe(true);
  });

  it('fails before creating anything when a type of the chain is not in this build', async () => {
    const data = join(tempDir(), 'data');
    const registry = providerRegistry([fileSystemProviderType, stateAwareProviderType]);
    const err = await buildChain(resolved(clusterXml), deps(data), { registry, file: '/h/etc/binarystore.xml' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(
      `/h/etc/binarystore.xml: <provider id="cache-fs" type="cache-fs">: provider type 'cache-fs' is not available in this build (available: file-system, state-aware)`,
    );
    expect(existsSync(data)).toBe(false);
  });

  it('closes what it built when a later provider fails', async () => {
    const data = tempDir();
    const log: string[] = [];
    const closed: string[] = [];
    const failing: ProviderType = {
      type: 'sharding',
      async create() {
        throw new Error('no shard today');
      },
    };
    const registry = providerRegistry([recorder('cache-fs', log, closed), recorder('state-aware', log, closed), failing]);
    const err = await buildChain(resolved('<config><chain template="double-shards"/></config>'), deps(data), { registry }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('no shard today');
    expect(closed).toEqual(['shard-fs-2', 'shard-fs-1']);
  });

  it('wraps every provider it builds in the guard: metrics by element id, errors naming the provider that failed', async () => {
    const data = tempDir();
    const metrics = new MetricsRegistry();
    const root = await buildChain(resolved('<config><chain template="cache-fs"/></config>'), { ...deps(data), metrics });
    expect(isGuarded(root)).toBe(true);
    expect(isGuarded((root as CacheFsProvider).child)).toBe(true);
    const sha1 = await put(root, 'guarded');
    await expect(root.read('../../etc/passwd')).rejects.toMatchObject({ code: 'BAD_REQUEST', details: { provider: 'cache-fs' } });
    // Missing from the file store: the error names the file store, not the cache in front of it.
    await expect(root.read('f'.repeat(40))).rejects.toMatchObject({ code: 'ITEM_NOT_FOUND', details: { provider: 'file-system', providerType: 'file-system' } });
    const text = exposition(metrics.snapshot());
    expect(text).toContain('arca_binstore_operations_total{op="stage",provider="cache-fs",type="cache-fs"} 1');
    expect(text).toContain('arca_binstore_operations_total{op="stage",provider="file-system",type="file-system"} 1');
    expect(text).toContain('arca_binstore_written_bytes_total{provider="file-system",type="file-system"} 7');
    expect(text).toContain('arca_binstore_errors_total{code="ITEM_NOT_FOUND",op="read",provider="file-system",type="file-system"} 1');
    expect(text).toContain('arca_binstore_errors_total{code="BAD_REQUEST",op="read",provider="cache-fs",type="cache-fs"} 1');
    expect(sha1).toHaveLength(40);
    await root.close?.();
  });

  it('names a dynamic provider built for a peer <id>@<node>', async () => {
    const data = tempDir();
    const peers = [{ nodeId: 'n2', url: 'http://127.0.0.1:1/artifactory' }];
    const remotes: BinaryProvider[] = [];
    const registry = providerRegistry([
      stateAwareProviderType,
      { type: 'cache-fs', create: async ({ child }) => child! },
      {
        type: 'sharding-cluster',
        async create({ node, ctx, subs }) {
          for (const p of await ctx.peers()) remotes.push(await ctx.build(node.dynamic!, { peer: p }));
          return subs[0];
        },
      },
      { type: 'remote', create: async () => ({ type: 'remote', check: () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })) }) as unknown as BinaryProvider },
    ]);
    await buildChain(resolved('<config><chain template="cluster-file-system"/></config>'), deps(data, peers), { registry });
    expect(remotes).toHaveLength(1);
    await expect(remotes[0].check()).rejects.toMatchObject({ code: 'UNAVAILABLE', details: { provider: 'remote-fs@n2', providerType: 'remote' } });
  });

  it('refuses to register one type twice', () => {
    expect(() => providerRegistry([fileSystemProviderType, fileSystemProviderType])).toThrow(/registered twice/);
  });

  it('derives one node secret per master key', () => {
    const a = deriveNodeSecret(Buffer.alloc(16, 1));
    expect(a).toHaveLength(32);
    expect(deriveNodeSecret(Buffer.alloc(16, 1)).equals(a)).toBe(true);
    expect(deriveNodeSecret(Buffer.alloc(16, 2)).equals(a)).toBe(false);
  });
});

