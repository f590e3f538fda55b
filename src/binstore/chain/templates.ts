/**
 * The built-in chain templates of `<chain template="…"/>` (REST-API.md §8), as trees of
 * provider ids and types. A top-level `<provider id>` in binarystore.xml overrides the
 * parameters of the template's provider with that id. `params` here are the template's own
 * settings (e.g. a shard's directory or zone), applied over the catalogue's defaults.
 */
export interface TemplateNode {
  id: string;
  type: string;
  params?: Record<string, string>;
  child?: TemplateNode;
  subs?: TemplateNode[];
  dynamic?: TemplateNode;
}

const node = (id: string, type: string, rest: Omit<TemplateNode, 'id' | 'type'> = {}): TemplateNode => ({ id, type, ...rest });
const wrap = (id: string, type: string, child: TemplateNode): TemplateNode => node(id, type, { child });

/** cache-fs → eventual → retry → the cloud provider: the eventual-upload templates. */
const eventualCloud = (id: string, type: string): TemplateNode =>
  wrap('cache-fs', 'cache-fs', wrap('eventual', 'eventual', wrap('retry', 'retry', node(id, type))));

/** cache-fs → the cloud provider, no local staging. */
const directCloud = (id: string, type: string): TemplateNode => wrap('cache-fs', 'cache-fs', node(id, type));

/**
 * cache-fs → sharding-cluster { eventual-cluster (zone local) → retry → cloud; remote (zone
 * remote) per peer }; `short` names the ids (`cache-fs-eventual-s3`, `remote-s3`…).
 */
const clusterCloud = (short: string, id: string, type: string): TemplateNode =>
  wrap(
    `cache-fs-eventual-${short}`,
    'cache-fs',
    node(`sharding-cluster-eventual-${short}`, 'sharding-cluster', {
      subs: [node(`eventual-cluster-${short}`, 'eventual-cluster', { params: { zone: 'local' }, child: wrap(`retry-${short}`, 'retry', node(id, type)) })],
      dynamic: node(`remote-${short}`, 'remote', { params: { zone: 'remote' } }),
    }),
  );

/** cache-fs → sharding over two state-aware shards, each in the directory named by its id. */
const shards = (id: string, redundancy: string, ids: [string, string]): TemplateNode =>
  wrap(
    'cache-fs',
    'cache-fs',
    node(id, 'sharding', {
      params: { redundancy },
      subs: ids.map((s) => node(s, 'state-aware', { params: { fileStoreDir: s } })),
    }),
  );

export const TEMPLATES: Readonly<Record<string, TemplateNode>> = {
  'file-system': node('file-system', 'file-system'),
  'cache-fs': wrap('cache-fs', 'cache-fs', node('file-system', 'file-system')),
  'double-shards': shards('sharding', '1', ['shard-fs-1', 'shard-fs-2']),
  'redundant-shards': shards('sharding', '2', ['shard-state-aware-1', 'shard-state-aware-2']),
  'cluster-file-system': wrap(
    'cache-fs',
    'cache-fs',
    node('sharding-cluster', 'sharding-cluster', {
      subs: [node('state-aware', 'state-aware', { params: { zone: 'local' } })],
      dynamic: node('remote-fs', 'remote', { params: { zone: 'remote' } }),
    }),
  ),
  's3-storage-v3': eventualCloud('s3-storage-v3', 's3-storage-v3'),
  s3: eventualCloud('s3', 's3'),
  's3-storage-v3-direct': directCloud('s3-storage-v3', 's3-storage-v3'),
  'cluster-s3-storage-v3': clusterCloud('s3', 's3-storage-v3', 's3-storage-v3'),
  'google-storage-v2': eventualCloud('google-storage-v2', 'google-storage-v2'),
  'google-storage': eventualCloud('google-storage', 'google-storage'),
  'google-storage-v2-direct': directCloud('google-storage-v2', 'google-storage-v2'),
  'cluster-google-storage-v2': clusterCloud('google-storage', 'google-storage-v2', 'google-storage-v2'),
  'azure-blob-storage': eventualCloud('azure-blob-storage', 'azure-blob-storage'),
  'azure-blob-storage-direct': directCloud('azure-blob-storage', 'azure-blob-storage'),
  'cluster-azure-blob-storage': clusterCloud('azure-blob-storage', 'azure-blob-storage', 'azure-blob-storage'),
};

/** Templates of the seed this build knows of but does not offer, with the reason. */
export const UNSUPPORTED_TEMPLATES: Readonly<Record<string, string>> = {
  'full-db': 'it keeps binaries in the database, which Arca does not do; use file-system or cache-fs',
  'full-db-direct': 'it keeps binaries in the database, which Arca does not do; use file-system',
};
