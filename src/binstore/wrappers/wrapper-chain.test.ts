import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BINARYSTORE_XML, parseBinarystoreXml } from '../../config/binarystore.js';
import { FakeClock } from '../../core/clock.js';
import { buildChain, deriveNodeSecret, type ChainDeps } from '../chain/build.js';
import { resolveChain } from '../chain/resolve.js';
import { FileSystemProvider } from '../file-system-provider.js';
import { CacheFsProvider } from './cache-fs-provider.js';
import { EventualProvider } from './eventual-provider.js';
import { RetryProvider } from './retry-provider.js';
import { chunksOf, collect, tempDir } from './testing/helpers.js';

/** The wrappers built from binarystore.xml by the real chain builder and registry. */

const silent = { info() {}, warn() {}, error() {} };
const deps = (dataDir: string): ChainDeps => ({ dataDir, nodeId: 'n1', clock: new FakeClock(), log: silent, peers: async () => [], nodeSecret: deriveNodeSecret(Buffer.alloc(16, 1)) });
const build = (xml: string, dataDir: string) => buildChain(resolveChain(parseBinarystoreXml(xml, 'binarystore.xml')).root, deps(dataDir));

describe('wrapper providers in a chain built from binarystore.xml', () => {
  it('template cache-fs: a cache at <data>/cache with the seed defaults in front of the file store', async () => {
    const data = tempDir('chain-cache');
    expect(DEFAULT_BINARYSTORE_XML).toContain('file-system');
    const root = (await build('<config version="2"><chain template="cache-fs"/></config>', data)) as CacheFsProvider;
    expect(root).toBeInstanceOf(CacheFsProvider);
    expect(root.index.maxBytes).toBe(5_000_000_000);
    expect(root.child).toBeInstanceOf(FileSystemProvider);
    const payload = randomBytes(4000);
    const staged = await root.stage(chunksOf(payload));
    await staged.commit();
    expect(readFileSync(join(data, 'cache', staged.sha1.slice(0, 2), staged.sha1)).equals(payload)).toBe(true);
    expect(readFileSync(join(data, 'filestore', staged.sha1.slice(0, 2), staged.sha1)).equals(payload)).toBe(true);
    expect(root.balance).toBeUndefined(); // nothing below keeps copies or queues
    await root.close();
    rmSync(data, { recursive: true, force: true });
  });

  it('cache-fs → eventual → retry → file-system with overrides: writes reach the file store, balance and close pass through', async () => {
    const data = tempDir('chain-eventual');
    const xml = `<config version="2">
      <chain>
        <provider id="cache-fs" type="cache-fs">
          <provider id="eventual" type="eventual">
            <provider id="retry" type="retry">
              <provider id="file-system" type="file-system"/>
            </provider>
          </provider>
        </provider>
      </chain>
      <provider id="cache-fs" type="cache-fs"><maxCacheSize>10000</maxCacheSize><cacheProviderDir>c</cacheProviderDir></provider>
      <provider id="eventual" type="eventual"><dispatcherInterval>50</dispatcherInterval><numberOfThreads>2</numberOfThreads></provider>
      <provider id="retry" type="retry"><maxTrys>2</maxTrys><interval>10</interval></provider>
    </config>`;
    const root = (await build(xml, data)) as CacheFsProvider;
    const eventual = root.child as EventualProvider;
    expect(eventual).toBeInstanceOf(EventualProvider);
    expect(eventual.child).toBeInstanceOf(RetryProvider);
    expect(root.index.maxBytes).toBe(10_000);
    expect(typeof root.balance).toBe('function');
    const payload = randomBytes(3000);
    const staged = await root.stage(chunksOf(payload));
    await staged.commit();
    expect(existsSync(join(data, 'c', staged.sha1.slice(0, 2), staged.sha1))).toBe(true);
    // The queue lives under <data>/eventual; balance through cache-fs pushes it (or finds it pushed).
    const result = await root.balance!();
    expect(result.copied).toBeLessThanOrEqual(1);
    expect(await eventual.pending()).toEqual({ adds: 0, addBytes: 0, deletes: 0 });
    expect(readFileSync(join(data, 'filestore', staged.sha1.slice(0, 2), staged.sha1)).equals(payload)).toBe(true);
    expect((await collect(await root.read(staged.sha1))).equals(payload)).toBe(true);
    await root.close();
    // Closed: a new write is acknowledged locally but no worker uploads it any more.
    const late = await eventual.stage(chunksOf(randomBytes(10)));
    await late.commit();
    await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(join(data, 'eventual', '_add', late.sha1))).toBe(true);
    rmSync(data, { recursive: true, force: true });
  });

  it('eventual-cluster → file-system keeps its queue in eventual/_queue and carries its zone', async () => {
    const data = tempDir('chain-eventual-cluster');
    const xml = `<config version="2"><chain><provider id="eventual-cluster-fs" type="eventual-cluster"><provider id="file-system" type="file-system"/></provider></chain>
      <provider id="eventual-cluster-fs" type="eventual-cluster"><zone>local</zone><maxWorkers>3</maxWorkers><dispatcherInterval>50</dispatcherInterval></provider></config>`;
    const root = (await build(xml, data)) as EventualProvider;
    expect([root.type, root.zone, root.queue.addDir]).toEqual(['eventual-cluster', 'local', join(data, 'eventual', '_queue')]);
    const payload = randomBytes(500);
    const staged = await root.stage(chunksOf(payload));
    await staged.commit();
    await root.drain(5000);
    expect(readFileSync(join(data, 'filestore', staged.sha1.slice(0, 2), staged.sha1)).equals(payload)).toBe(true);
    await root.close();
    rmSync(data, { recursive: true, force: true });
  });
});
