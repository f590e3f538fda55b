import { describe, expect, it } from 'vitest';
import { parseBinarystoreXml } from '../../config/binarystore.js';
import { ConfigError } from '../../core/errors.js';
import { resolveChain, type ResolvedChain } from './resolve.js';
import { TEMPLATES } from './templates.js';
import type { ProviderNode } from './types.js';

const FILE = '/home/x/etc/binarystore.xml';
const resolve = (xml: string, dataDir?: string): ResolvedChain => resolveChain(parseBinarystoreXml(xml, FILE), { dataDir });
const config = (body: string) => `<config version="2">${body}</config>`;

/** `id:type(child)[sub,sub]{dynamic}` */
function shape(n: ProviderNode): string {
  let s = n.id === n.type ? n.id : `${n.id}:${n.type}`;
  if (n.child) s += `(${shape(n.child)})`;
  if (n.subProviders.length) s += `[${n.subProviders.map(shape).join(',')}]`;
  if (n.dynamic) s += `{${shape(n.dynamic)}}`;
  return s;
}

function find(n: ProviderNode, id: string): ProviderNode {
  const all = [n, ...(n.child ? [n.child] : []), ...n.subProviders, ...(n.dynamic ? [n.dynamic] : [])];
  for (const c of all) {
    if (c.id === id) return c;
    if (c !== n) {
      try {
        return find(c, id);
      } catch {
        /* keep looking */
      }
    }
  }
  throw new Error(`no provider ${id}`);
}

const s3Params = '<provider id="s3-storage-v3" type="s3-storage-v3"><bucketName>b</bucketName></provider>';
const REQUIRED: Record<string, string> = {
  's3-storage-v3': s3Params,
  's3-storage-v3-direct': s3Params,
  's3': '<provider id="s3" type="s3"><bucketName>b</bucketName></provider>',
  'cluster-s3-storage-v3': s3Params,
  'google-storage-v2': '<provider id="google-storage-v2"><bucketName>b</bucketName></provider>',
  'google-storage-v2-direct': '<provider id="google-storage-v2"><bucketName>b</bucketName></provider>',
  'google-storage': '<provider id="google-storage"><bucketName>b</bucketName></provider>',
  'cluster-google-storage-v2': '<provider id="google-storage-v2"><bucketName>b</bucketName></provider>',
};
for (const t of ['azure-blob-storage', 'azure-blob-storage-direct', 'cluster-azure-blob-storage']) {
  REQUIRED[t] = '<provider id="azure-blob-storage" type="azure-blob-storage"><accountName>a</accountName><accountKey>k</accountKey><containerName>c</containerName></provider>';
}

const EXPECTED: Record<string, string> = {
  'file-system': 'file-system',
  'cache-fs': 'cache-fs(file-system)',
  'double-shards': 'cache-fs(sharding[shard-fs-1:state-aware,shard-fs-2:state-aware])',
  'redundant-shards': 'cache-fs(sharding[shard-state-aware-1:state-aware,shard-state-aware-2:state-aware])',
  'cluster-file-system': 'cache-fs(sharding-cluster[state-aware]{remote-fs:remote})',
  's3-storage-v3': 'cache-fs(eventual(retry(s3-storage-v3)))',
  s3: 'cache-fs(eventual(retry(s3:s3-storage-v3)))',
  's3-storage-v3-direct': 'cache-fs(s3-storage-v3)',
  'cluster-s3-storage-v3':
    'cache-fs-eventual-s3:cache-fs(sharding-cluster-eventual-s3:sharding-cluster[eventual-cluster-s3:eventual-cluster(retry-s3:retry(s3-storage-v3))]{remote-s3:remote})',
  'google-storage-v2': 'cache-fs(eventual(retry(google-storage-v2)))',
  'google-storage': 'cache-fs(eventual(retry(google-storage:google-storage-v2)))',
  'google-storage-v2-direct': 'cache-fs(google-storage-v2)',
  'cluster-google-storage-v2':
    'cache-fs-eventual-google-storage:cache-fs(sharding-cluster-eventual-google-storage:sharding-cluster[eventual-cluster-google-storage:eventual-cluster(retry-google-storage:retry(google-storage-v2))]{remote-google-storage:remote})',
  'azure-blob-storage': 'cache-fs(eventual(retry(azure-blob-storage)))',
  'azure-blob-storage-direct': 'cache-fs(azure-blob-storage)',
  'cluster-azure-blob-storage':
    'cache-fs-eventual-azure-blob-storage:cache-fs(sharding-cluster-eventual-azure-blob-storage:sharding-cluster[eventual-cluster-azure-blob-storage:eventual-cluster(retry-azure-blob-storage:retry(azure-blob-storage))]{remote-azure-blob-storage:remote})',
};

describe('built-in templates', () => {
  it('covers every template the seed documents', () => {
    expect(Object.keys(TEMPLATES).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.keys(EXPECTED))('%s resolves to the documented tree', (name) => {
    const r = resolve(config(`<chain template="${name}"/>${REQUIRED[name] ?? ''}`));
    expect(r.template).toBe(name);
    expect(shape(r.root)).toBe(EXPECTED[name]);
    expect(r.warnings).toEqual([]);
  });

  it('fills in the seed defaults of every provider of the tree', () => {
    const r = resolve(config('<chain template="cluster-s3-storage-v3"/>' + s3Params));
    expect(find(r.root, 'cache-fs-eventual-s3').params).toMatchObject({ maxCacheSize: '5000000000', cacheProviderDir: 'cache' });
    expect(find(r.root, 'sharding-cluster-eventual-s3').params).toEqual({
      readBehavior: 'crossNetworkStrategy',
      writeBehavior: 'crossNetworkStrategy',
      redundancy: '2',
      lenientLimit: '1',
      zones: 'local,remote',
    });
    expect(find(r.root, 'eventual-cluster-s3').params).toMatchObject({ maxWorkers: '5', dispatcherInterval: '1000', checkPeriod: '15000', addStalePeriod: '300000', zone: 'local' });
    expect(find(r.root, 'eventual-cluster-s3').templateSet).toEqual(['zone']);
    expect(find(r.root, 'retry-s3').params).toEqual({ maxTrys: '5', interval: '5000' });
    expect(find(r.root, 's3-storage-v3').params).toMatchObject({
      bucketName: 'b',
      path: 'filestore',
      rootFoldersNameLength: '2',
      useInstanceCredentials: 'false',
      multiPartLimit: '100000000',
      usePresigning: 'false',
      signedUrlExpirySeconds: '30',
    });
    expect(find(r.root, 's3-storage-v3').params.endpoint).toBeUndefined();
    expect(find(r.root, 'remote-s3').params).toEqual({
      connectionTimeout: '5000',
      socketTimeout: '15000',
      maxConnections: '200',
      connectionRetry: '2',
      checkPeriod: '15000',
      zone: 'remote',
    });
  });

  it('gives the eventual, sharding and state-aware providers their defaults', () => {
    const az = resolve(config('<chain template="azure-blob-storage"/>' + REQUIRED['azure-blob-storage']));
    expect(find(az.root, 'eventual').params).toMatchObject({ numberOfThreads: '5', dispatcherInterval: '5000', timeout: '120000' });
    const ds = resolve(config('<chain template="double-shards"/>'), '/data');
    expect(find(ds.root, 'sharding').params).toMatchObject({ readBehavior: 'roundRobin', writeBehavior: 'roundRobin', redundancy: '1', lenientLimit: '1' });
    expect(find(ds.root, 'shard-fs-2').params).toEqual({ baseDataDir: '/data', fileStoreDir: 'shard-fs-2', tempDir: 'tmp', checkPeriod: '15000', writeEnabled: 'true', directIo: 'true' });
    const rs = resolve(config('<chain template="redundant-shards"/>'));
    expect(find(rs.root, 'sharding').params.redundancy).toBe('2');
    const gs = resolve(config('<chain template="google-storage-v2-direct"/>' + REQUIRED['google-storage-v2-direct']));
    expect(find(gs.root, 'google-storage-v2').params).toMatchObject({ endpoint: 'storage.googleapis.com', path: 'filestore' });
  });
});

describe('overrides by id', () => {
  it('set parameters through child elements and <property>, marked explicit', () => {
    const r = resolve(
      config(`<chain template="cluster-file-system"/>
        <provider id="cache-fs" type="cache-fs"><maxCacheSize>5000</maxCacheSize></provider>
        <provider id="sharding-cluster" type="sharding-cluster"><property name="redundancy" value="3"/><lenientLimit>0</lenientLimit></provider>
        <provider id="remote-fs" type="remote"><zone>far</zone></provider>`),
    );
    expect(r.root.params.maxCacheSize).toBe('5000');
    expect(r.root.explicit).toEqual(['maxCacheSize']);
    const sc = find(r.root, 'sharding-cluster');
    expect(sc.params).toMatchObject({ redundancy: '3', lenientLimit: '0', writeBehavior: 'crossNetworkStrategy' });
    expect(sc.explicit.sort()).toEqual(['lenientLimit', 'redundancy']);
    expect(find(r.root, 'remote-fs').params.zone).toBe('far');
    expect(find(r.root, 'remote-fs').templateSet).toEqual([]);
  });

  it('may leave out the type, and accept an alias of the same type', () => {
    const r = resolve(config('<chain template="s3"/><provider id="s3" type="s3-storage-v3"><bucketName>x</bucketName></provider>'));
    expect(find(r.root, 's3').params.bucketName).toBe('x');
  });

  it('warn about unknown parameters and ids outside the chain, keeping the values', () => {
    const r = resolve(config('<chain template="file-system"/><provider id="file-system" type="file-system"><fancy>1</fancy></provider><provider id="ghost" type="file-system"/>'));
    expect(r.root.params.fancy).toBe('1');
    expect(r.warnings).toEqual([
      `${FILE}: <provider id="ghost" type="file-system">: the chain has no provider with id 'ghost'; its parameters are ignored`,
      `${FILE}: <provider id="file-system" type="file-system">: unknown parameter 'fancy' for type file-system; ignored`,
    ]);
  });

  it('fill baseDataDir from the node data dir unless set', () => {
    expect(resolve(config('<chain template="file-system"/>'), '/n/data').root.params.baseDataDir).toBe('/n/data');
    expect(resolve(config('<chain template="file-system"/>')).root.params.baseDataDir).toBeUndefined();
    const set = resolve(config('<chain template="file-system"/><provider id="file-system"><baseDataDir>/mnt/s</baseDataDir></provider>'), '/n/data');
    expect(set.root.params.baseDataDir).toBe('/mnt/s');
  });
});

describe('explicit chains', () => {
  it('nest wrappers, sub-providers with their own children and a dynamic provider, with inline parameters', () => {
    const r = resolve(
      config(`<chain>
        <provider id="c" type="cache-fs"><maxCacheSize>10</maxCacheSize>
          <provider id="sc" type="sharding-cluster">
            <sub-provider id="ev" type="eventual-cluster"><provider id="r" type="retry"><provider id="az" type="azure-blob-storage-v2"/></provider></sub-provider>
            <sub-provider id="local2" type="state-aware"><zone>local</zone></sub-provider>
            <dynamic-provider id="peer" type="remote"/>
          </provider>
        </provider>
      </chain>
      <provider id="az" type="azure-blob-storage"><accountName>a</accountName><accountKey>k</accountKey><containerName>c</containerName></provider>`),
    );
    expect(r.template).toBeUndefined();
    expect(shape(r.root)).toBe('c:cache-fs(sc:sharding-cluster[ev:eventual-cluster(r:retry(az:azure-blob-storage)),local2:state-aware]{peer:remote})');
    expect(r.root.params.maxCacheSize).toBe('10');
    expect(find(r.root, 'local2').explicit).toEqual(['zone']);
  });

  it('accept a single provider with no id (the id is its type)', () => {
    const r = resolve(config('<chain><provider type="file-system"><fileStoreDir>/srv/b</fileStoreDir></provider></chain>'));
    expect(r.root).toMatchObject({ id: 'file-system', type: 'file-system', params: { fileStoreDir: '/srv/b', tempDir: 'tmp' } });
  });
});

describe('errors name the file and the element', () => {
  const cases: [string, string, RegExp | string][] = [
    ['invalid XML', '<config><chain template="file-system"></config>', /binarystore\.xml: invalid XML at line 1/],
    ['no chain', config(''), '<config> has no <chain> element'],
    ['unknown template', config('<chain template="nope"/>'), '<chain template="nope">: unknown template (known: file-system, cache-fs,'],
    ['database template', config('<chain template="full-db"/>'), '<chain template="full-db">: this template is not supported: it keeps binaries in the database'],
    ['template and providers', config('<chain template="file-system"><provider id="a" type="file-system"/></chain>'), '<chain template="file-system">: a chain names a template or holds providers, not both'],
    ['unknown type', config('<chain><provider id="x" type="floppy"/></chain>'), `<provider id="x" type="floppy">: unknown provider type 'floppy' (known: file-system,`],
    ['wrapper without child', config('<chain><provider id="c" type="cache-fs"/></chain>'), '<provider id="c" type="cache-fs">: a cache-fs provider wraps exactly one provider: nest a <provider> inside it'],
    ['leaf with child', config('<chain><provider id="f" type="file-system"><provider id="g" type="file-system"/></provider></chain>'), '<provider id="f" type="file-system">: a file-system provider does not wrap a provider'],
    ['sharding without sub-providers', config('<chain><provider id="s" type="sharding"/></chain>'), '<provider id="s" type="sharding">: a sharding provider needs at least one <sub-provider>'],
    [
      'sharding-cluster without dynamic provider',
      config('<chain><provider id="s" type="sharding-cluster"><sub-provider id="l" type="state-aware"/></provider></chain>'),
      '<provider id="s" type="sharding-cluster">: a sharding-cluster provider needs a <dynamic-provider type="remote">',
    ],
    [
      'dynamic provider of another type',
      config('<chain><provider id="s" type="sharding-cluster"><sub-provider id="l" type="state-aware"/><dynamic-provider id="d" type="file-system"/></provider></chain>'),
      `<dynamic-provider id="d" type="file-system">: a dynamic provider must be of type 'remote'`,
    ],
    ['missing required parameter', config('<chain template="s3-storage-v3"/>'), '<provider id="s3-storage-v3" type="s3-storage-v3">: bucketName is required'],
    ['empty required parameter', config('<chain template="azure-blob-storage-direct"/><provider id="azure-blob-storage"><accountName/></provider>'), '<provider id="azure-blob-storage" type="azure-blob-storage">: accountName is required'],
    ['required parameter of a sub-provider', config('<chain template="cluster-google-storage-v2"/>'), '<provider id="google-storage-v2" type="google-storage-v2">: bucketName is required'],
    ['override of another type', config('<chain template="cache-fs"/><provider id="cache-fs" type="file-system"/>'), `<provider id="cache-fs" type="file-system">: the chain's provider 'cache-fs' has type 'cache-fs'`],
    ['override without id', config('<chain template="cache-fs"/><provider type="cache-fs"/>'), '<provider type="cache-fs">: the id attribute is required'],
    ['duplicate id', config('<chain><provider id="a" type="cache-fs"><provider id="a" type="file-system"/></provider></chain>'), `<provider id="a" type="file-system">: the id 'a' is used twice`],
    ['provider without type', config('<chain><provider id="a"/></chain>'), '<provider id="a">: the type attribute is required'],
  ];
  it.each(cases)('%s', (_name, xml, message) => {
    let err: unknown;
    try {
      resolve(xml);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    if (typeof message === 'string') expect(msg).toContain(`${FILE}: ${message}`);
    else expect(msg).toMatch(message);
  });
});
