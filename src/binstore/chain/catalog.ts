import type { ParamSpec, ProviderSpec } from './types.js';

/**
 * Every provider type binarystore.xml can name: its shape and its parameters with the
 * defaults the seed documents (REST-API.md §8). The resolver fills these defaults in, `arca
 * binarystore show` prints them and docs/configuration.md lists them. A type listed here but
 * not registered in `provider-registry.ts` resolves, then fails at build with a clear error.
 */

const p = (name: string, description: string, extra: Partial<ParamSpec> = {}): ParamSpec => ({ name, description, ...extra });

const baseDataDir = p('baseDataDir', "Root of the provider's relative directories (default: the node's data dir, or artifactory.ha.data.dir when set).", {
  defaultFrom: 'dataDir',
});
const zone = p('zone', 'Zone of this provider for cross-network strategies (local or remote).');
const checkPeriod = p('checkPeriod', 'Milliseconds between availability checks.', { default: '15000' });

const network = [
  p('maxConnections', 'Largest number of open connections.'),
  p('connectionTimeout', 'Milliseconds to wait for a connection.'),
  p('socketTimeout', 'Milliseconds of silence before a request fails.'),
  p('proxyHost', 'HTTP proxy host.'),
  p('proxyPort', 'HTTP proxy port.'),
  p('proxyIdentity', 'HTTP proxy user.'),
  p('proxyCredential', 'HTTP proxy password.'),
];

/** Arca's own object-store parameters (src/binstore/cloud). */
const cloudExtras = [
  p('presignedUrlMinSize', 'Smallest binary (bytes) whose download is redirected to a presigned URL.', { default: '0' }),
  p('multipartElementSize', 'Part (block) size in bytes of multipart uploads.'),
  p('maxRetryErrors', 'Attempts per request inside the SDK before a failure is reported.', { default: '3' }),
];

const shardingCommon = [
  p('lenientLimit', 'Fewest successful copies for a write to succeed (0: the full redundancy).', { default: '1' }),
  p('minSpareUploaderExecutor', 'Spare uploader threads kept for copies to other shards.'),
  p('maxBalancingRunTime', 'Milliseconds a balancing run may take.'),
  p('freeSpaceSampleInterval', 'Milliseconds between free-space samples of the shards.'),
];

const fileStoreParams = [
  baseDataDir,
  p('fileStoreDir', 'Directory of the binaries, relative to baseDataDir unless absolute.', { default: 'filestore' }),
  p('tempDir', 'Staging directory, relative to baseDataDir unless absolute; must be on the same file system as fileStoreDir (the seed uses _pre; tmp keeps existing homes as they are).', {
    default: 'tmp',
  }),
  p(
    'directIo',
    "Arca's own: true writes uploads larger than 1 MiB with O_DIRECT (past the page cache) on ext4, XFS, btrfs and f2fs; other file systems (NFS, tmpfs) always get buffered writes. false: always buffered.",
    { default: 'true' },
  ),
];

export const CATALOG: readonly ProviderSpec[] = [
  {
    type: 'file-system',
    shape: 'leaf',
    description: 'Binaries as files under fileStoreDir/<first 2 hex of sha1>/<sha1>.',
    params: fileStoreParams,
  },
  {
    type: 'state-aware',
    shape: 'leaf',
    description: 'A file-system store that reports its availability and can be made read-only; the local shard of sharding providers.',
    params: [
      ...fileStoreParams,
      checkPeriod,
      p('writeEnabled', 'false makes the shard read-only: binaries are read and deleted, never written.', { default: 'true' }),
      zone,
    ],
  },
  {
    type: 'cache-fs',
    shape: 'wrapper',
    description: 'A local LRU cache of recently used binaries in front of its child.',
    params: [
      baseDataDir,
      p('maxCacheSize', 'Cache size in bytes.', { default: '5000000000' }),
      p('cacheProviderDir', 'Cache directory, relative to baseDataDir unless absolute.', { default: 'cache' }),
      p('maxFileSizeLimit', 'Binaries larger than this many bytes are not cached.'),
      p('skipDuringUpload', 'true: uploads go to the child only; the cache fills on reads.', { default: 'false' }),
    ],
  },
  {
    type: 'eventual',
    shape: 'wrapper',
    description: 'Acknowledges writes once stored locally and uploads them to its child in the background.',
    params: [
      baseDataDir,
      p('numberOfThreads', 'Upload threads (one more does maintenance).', { default: '5' }),
      p('timeout', 'Lock timeout in milliseconds.', { default: '120000' }),
      p('dispatcherInterval', 'Milliseconds between scans of the queue.', { default: '5000' }),
    ],
  },
  {
    type: 'eventual-cluster',
    shape: 'wrapper',
    description: 'The eventual provider of cluster templates: a local queue per node drained to the shared child.',
    params: [
      baseDataDir,
      p('maxWorkers', 'Upload workers.', { default: '5' }),
      p('dispatcherInterval', 'Milliseconds between scans of the queue.', { default: '1000' }),
      checkPeriod,
      p('addStalePeriod', 'Milliseconds after which a queued add is considered stale.', { default: '300000' }),
      zone,
    ],
  },
  {
    type: 'retry',
    shape: 'wrapper',
    description: 'Retries failed operations of its child.',
    params: [
      p('maxTrys', 'Attempts per operation.', { default: '5' }),
      p('interval', 'Milliseconds between attempts.', { default: '5000' }),
    ],
  },
  {
    type: 'sharding',
    shape: 'sharding',
    description: 'Spreads binaries over its sub-providers with the given redundancy.',
    params: [
      p('readBehavior', 'roundRobin.', { default: 'roundRobin' }),
      p('writeBehavior', 'roundRobin, freeSpace or percentageFreeSpace.', { default: 'roundRobin' }),
      p('redundancy', 'Copies of each binary.', { default: '1' }),
      ...shardingCommon,
    ],
  },
  {
    type: 'sharding-cluster',
    shape: 'sharding',
    description: "Shards across the cluster's nodes: local sub-providers plus one remote dynamic provider per live peer.",
    params: [
      p('readBehavior', 'crossNetworkStrategy.', { default: 'crossNetworkStrategy' }),
      p('writeBehavior', 'crossNetworkStrategy.', { default: 'crossNetworkStrategy' }),
      p('redundancy', 'Copies of each binary across nodes.', { default: '2' }),
      p('zones', 'Zones the cross-network strategy spreads copies over.', { default: 'local,remote' }),
      ...shardingCommon,
    ],
  },
  {
    type: 'remote',
    shape: 'leaf',
    description: "Another node's store, over HTTP (the dynamic provider of sharding-cluster).",
    params: [
      p('connectionTimeout', 'Milliseconds to wait for a connection.', { default: '5000' }),
      p('socketTimeout', 'Milliseconds of silence before a request fails.', { default: '15000' }),
      p('maxConnections', 'Largest number of open connections per peer.', { default: '200' }),
      p('connectionRetry', 'Retries of a failed connection.', { default: '2' }),
      checkPeriod,
      zone,
    ],
  },
  {
    type: 's3-storage-v3',
    shape: 'leaf',
    description: 'Amazon S3 or an S3-compatible object store.',
    params: [
      p('bucketName', 'Bucket.', { required: true }),
      p('path', 'Key prefix of the binaries in the bucket.', { default: 'filestore' }),
      p('rootFoldersNameLength', 'Checksum characters of the folder before each object (0 to 5).', { default: '2' }),
      p('endpoint', 'Endpoint of an S3-compatible store (default: AWS for the region).'),
      p('port', 'Endpoint port.'),
      p('useHttp', 'true: plain HTTP to the endpoint.', { default: 'false' }),
      p('enablePathStyleAccess', 'true: bucket in the path rather than the host name.', { default: 'false' }),
      p('region', 'Region.'),
      p('identity', 'Access key id.'),
      p('credential', 'Secret access key.'),
      p('useInstanceCredentials', 'true: credentials from the environment or instance role.', { default: 'false' }),
      p('testConnection', 'Check the bucket at start-up.', { default: 'true' }),
      p('multiPartLimit', 'Uploads larger than this many bytes go in parts.', { default: '100000000' }),
      p('usePresigning', 'Presign upload requests.', { default: 'false' }),
      p('enableSignedUrlRedirect', 'Redirect downloads to a presigned URL.', { default: 'false' }),
      p('signedUrlExpirySeconds', 'Lifetime of a presigned download URL.', { default: '30' }),
      ...cloudExtras,
      p('kmsServerSideEncryptionKeyId', 'KMS key for server-side encryption.'),
      p('kmsKeyRegion', 'Region of the KMS key.'),
      p('kmsCryptoMode', 'KMS crypto mode.'),
      ...network,
    ],
  },
  {
    type: 'google-storage-v2',
    shape: 'leaf',
    description: 'Google Cloud Storage (through its S3-compatible XML API with HMAC keys).',
    params: [
      p('bucketName', 'Bucket.', { required: true }),
      p('path', 'Key prefix of the binaries in the bucket.', { default: 'filestore' }),
      p('rootFoldersNameLength', 'Checksum characters of the folder before each object.', { default: '2' }),
      p('endpoint', 'Endpoint.', { default: 'storage.googleapis.com' }),
      p('providerId', 'Provider id.', { default: 'google-cloud-storage' }),
      p('identity', 'HMAC access id.'),
      p('credential', 'HMAC secret.'),
      p('useInstanceCredentials', 'true: credentials from the environment.', { default: 'false' }),
      p('bucketExists', 'true: do not check or create the bucket.', { default: 'false' }),
      p('testConnection', 'Check the bucket at start-up.', { default: 'true' }),
      p('multiPartLimit', 'Uploads larger than this many bytes go in parts.', { default: '100000000' }),
      p('region', 'SigV4 signing region of the XML API.', { default: 'auto' }),
      p('port', 'Endpoint port.'),
      p('useHttp', 'true: plain HTTP to the endpoint.', { default: 'false' }),
      p('enablePathStyleAccess', 'true: bucket in the path rather than the host name.', { default: 'false' }),
      p('enableSignedUrlRedirect', 'Redirect downloads to a presigned URL.', { default: 'false' }),
      p('signedUrlExpirySeconds', 'Lifetime of a presigned download URL.', { default: '30' }),
      ...cloudExtras,
      ...network,
    ],
  },
  {
    type: 'azure-blob-storage',
    shape: 'leaf',
    description: 'Azure Blob Storage.',
    params: [
      p('accountName', 'Storage account.', { required: true }),
      p('accountKey', 'Storage account key.', { required: true }),
      p('containerName', 'Container.', { required: true }),
      p('endpoint', 'Blob endpoint (default: https://<accountName>.blob.core.windows.net).'),
      p('testConnection', 'Check the container at start-up.', { default: 'true' }),
      p('multiPartLimit', 'Uploads larger than this many bytes go in blocks.', { default: '100000000' }),
      p('path', 'Folder of the binaries in the container (empty: the container root).'),
      p('rootFoldersNameLength', 'Checksum characters of the folder before each blob (0 to 5).', { default: '2' }),
      p('enableSignedUrlRedirect', 'Redirect downloads to a SAS URL.', { default: 'false' }),
      p('signedUrlExpirySeconds', 'Lifetime of a SAS download URL.', { default: '30' }),
      ...cloudExtras,
      ...network,
    ],
  },
];

/** Other names of catalogued types (the seed's older or newer spellings). */
export const TYPE_ALIASES: Readonly<Record<string, string>> = {
  s3: 's3-storage-v3',
  'google-storage': 'google-storage-v2',
  'azure-blob-storage-v2': 'azure-blob-storage',
};

const byType = new Map(CATALOG.map((s) => [s.type, s]));

/** The catalogued name of a type (aliases resolved), or undefined when unknown. */
export function canonicalType(type: string): string | undefined {
  const t = (Object.hasOwn(TYPE_ALIASES, type) ? TYPE_ALIASES[type] : undefined) ?? type;
  return byType.has(t) ? t : undefined;
}

export function specOf(type: string): ProviderSpec | undefined {
  const t = canonicalType(type);
  return t === undefined ? undefined : byType.get(t);
}
