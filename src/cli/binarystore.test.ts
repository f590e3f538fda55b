import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseBinarystoreXml } from '../config/binarystore.js';
import { ensureHome, homeLayout } from '../config/home.js';
import { fileSystemProviderType, stateAwareProviderType } from '../binstore/file-system-provider.js';
import { providerRegistry } from '../binstore/chain/provider-registry.js';
import { resolveChain } from '../binstore/chain/resolve.js';
import { formatChain, showChain, type ShownChain } from '../binstore/chain/show.js';
import { binarystoreShow } from './binarystore.js';
import { main } from './main.js';

const homes: string[] = [];
function home(xml?: string): string {
  const h = mkdtempSync(join(tmpdir(), 'arca-bs-show-'));
  homes.push(h);
  ensureHome(homeLayout(h));
  if (xml !== undefined) writeFileSync(join(h, 'etc', 'binarystore.xml'), xml);
  return h;
}
afterEach(() => {
  vi.restoreAllMocks();
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

async function show(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await binarystoreShow(args, {}, (s) => (stdout += s), (s) => (stderr += s));
  return { code, stdout, stderr };
}

describe('arca binarystore show', () => {
  it('prints the default chain of a new home with its effective paths', async () => {
    const h = home();
    const r = await show(['--home', h]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        `${join(h, 'etc', 'binarystore.xml')}: template file-system`,
        '',
        'file-system (file-system)',
        `    baseDataDir = ${join(h, 'data')} (default: the node's data dir)`,
        '    fileStoreDir = filestore (default)',
        '    tempDir = tmp (default)',
        '    directIo = true (default)',
        '',
      ].join('\n'),
    );
  });

  it('indents by nesting and marks values from the file, the template and the defaults', () => {
    const doc = parseBinarystoreXml(
      `<config version="2"><chain template="cluster-file-system"/>
        <provider id="cache-fs" type="cache-fs"><maxCacheSize>5000</maxCacheSize></provider>
        <provider id="sharding-cluster" type="sharding-cluster"><property name="redundancy" value="3"/><colour>blue</colour></provider>
      </config>`,
      '/h/etc/binarystore.xml',
    );
    const text = formatChain(showChain(resolveChain(doc, { dataDir: '/h/data' }), providerRegistry([fileSystemProviderType, stateAwareProviderType])));
    expect(text).toBe(
      [
        '/h/etc/binarystore.xml: template cluster-file-system',
        '',
        'cache-fs (cache-fs) [NOT AVAILABLE in this build]',
        "    baseDataDir = /h/data (default: the node's data dir)",
        '    maxCacheSize = 5000 (set in file)',
        '    cacheProviderDir = cache (default)',
        '    skipDuringUpload = false (default)',
        '  sharding-cluster (sharding-cluster) [NOT AVAILABLE in this build]',
        '      readBehavior = crossNetworkStrategy (default)',
        '      writeBehavior = crossNetworkStrategy (default)',
        '      redundancy = 3 (set in file)',
        '      zones = local,remote (default)',
        '      lenientLimit = 1 (default)',
        '      colour = blue (set in file; unknown parameter, ignored)',
        '    sub-provider state-aware (state-aware)',
        "        baseDataDir = /h/data (default: the node's data dir)",
        '        fileStoreDir = filestore (default)',
        '        tempDir = tmp (default)',
        '        directIo = true (default)',
        '        checkPeriod = 15000 (default)',
        '        writeEnabled = true (default)',
        '        zone = local (set by template)',
        '    dynamic-provider remote-fs (remote) [one per live peer; NOT AVAILABLE in this build]',
        '        connectionTimeout = 5000 (default)',
        '        socketTimeout = 15000 (default)',
        '        maxConnections = 200 (default)',
        '        connectionRetry = 2 (default)',
        '        checkPeriod = 15000 (default)',
        '        zone = remote (set by template)',
        '',
        "warning: /h/etc/binarystore.xml: <provider id=\"sharding-cluster\" type=\"sharding-cluster\">: unknown parameter 'colour' for type sharding-cluster; ignored",
        '',
      ].join('\n'),
    );
  });

  it('takes the data dir from artifactory.ha.data.dir and reads another file with --file', async () => {
    const h = home();
    writeFileSync(join(h, 'etc', 'ha-node.properties'), 'node.id=n1\ncontext.url=http://127.0.0.1:8081/artifactory\nartifactory.ha.data.dir=/mnt/shared/ha-data\n');
    const other = join(h, 'candidate.xml');
    writeFileSync(other, '<config><chain template="double-shards"/><provider id="shard-fs-2"><fileStoreDir>/disk2/fs</fileStoreDir></provider></config>');
    const r = await show(['--home', h, '--file', other]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${other}: template double-shards`);
    expect(r.stdout).toContain("        baseDataDir = /mnt/shared/ha-data (default: the node's data dir)");
    expect(r.stdout).toContain('    sub-provider shard-fs-1 (state-aware)\n        baseDataDir = /mnt/shared/ha-data');
    expect(r.stdout).toContain('        fileStoreDir = shard-fs-1 (set by template)');
    expect(r.stdout).toContain('        fileStoreDir = /disk2/fs (set in file)');
  });

  it('prints JSON with each value and its source, secrets masked', async () => {
    const h = home(
      '<config><chain template="s3-storage-v3-direct"/><provider id="s3-storage-v3"><bucketName>b</bucketName><identity>AK</identity><credential>very-secret</credential></provider></config>',
    );
    const r = await show(['--home', h, '--json']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('very-secret');
    const shown = JSON.parse(r.stdout) as ShownChain;
    expect(shown.template).toBe('s3-storage-v3-direct');
    expect(shown.root).toMatchObject({ id: 'cache-fs', type: 'cache-fs', role: 'provider' });
    const s3 = shown.root.child!;
    expect(s3).toMatchObject({ id: 's3-storage-v3', type: 's3-storage-v3', role: 'provider', subProviders: [] });
    expect(s3.params).toEqual(
      expect.arrayContaining([
        { name: 'bucketName', value: 'b', source: 'file' },
        { name: 'identity', value: 'AK', source: 'file' },
        { name: 'credential', value: '********', source: 'file' },
        { name: 'path', value: 'filestore', source: 'default' },
      ]),
    );
  });

  it('exits 1 naming the file and the element when the chain is invalid', async () => {
    const h = home('<config><chain template="azure-blob-storage"/><provider id="azure-blob-storage"><accountName>a</accountName></provider></config>');
    const r = await show(['--home', h]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `arca binarystore show: ${join(h, 'etc', 'binarystore.xml')}: <provider id="azure-blob-storage" type="azure-blob-storage">: accountKey is required\n`,
    );
  });

  it('is reached through the arca command', async () => {
    const h = home('<config><chain template="cache-fs"/></config>');
    let printed = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed += String(chunk);
      return true;
    });
    expect(await main(['binarystore', 'show', '--home', h])).toBe(0);
    expect(printed).toContain('cache-fs (cache-fs)');
    expect(printed).toContain('  file-system (file-system)');
    expect(printed).toContain('    maxCacheSize = 5000000000 (default)');
    printed = '';
    expect(await main(['binarystore', '--help'])).toBe(0);
    expect(printed).toContain('Usage: arca binarystore show|verify');
  });
});
