import { writeFileSync } from 'node:fs';
import { afterAll } from 'vitest';
import { S3RVER_ACCESS_KEY, S3RVER_SECRET_KEY, startS3rver, type S3rverServer } from '../../../test/helpers/s3rver.js';
import { binaryProviderConformance } from '../testing/conformance.js';
import type { ObjectStoreProvider } from './object-store-provider.js';
import { s3ProviderType } from './s3-provider.js';
import { buildLeaf, cloudTestContext } from './test-support.js';

/**
 * s3-storage-v3 on a real s3rver (a separate process): every case gets a fresh bucket; the
 * outage case stops s3rver and starts it again on the same port and directory.
 */
let server: S3rverServer | undefined;
let buckets = 0;
afterAll(async () => {
  await server?.close();
});

// Just over 2 GiB (past the 32-bit offset boundary) rather than the file system's 3 GiB: s3rver
// writes every part to disk and copies the parts into the object again, so each extra GiB is
// another ~30 s on this shared 2-core machine without covering anything new.
const BIG = 2 ** 31 + 1_000_003;
console.info(`[s3 conformance] bigObjectBytes = ${BIG} (2 GiB + 1 MB), not 3 GiB: s3rver stores every part twice; more adds time, not coverage`);

binaryProviderConformance('s3-storage-v3 on s3rver', async () => {
  server ??= await startS3rver();
  const s3 = server;
  const t = cloudTestContext();
  const bucket = `arca-conf-${process.pid}-${++buckets}`;
  const provider = (await buildLeaf(
    s3ProviderType,
    's3-storage-v3',
    {
      endpoint: s3.endpoint,
      bucketName: bucket,
      identity: S3RVER_ACCESS_KEY,
      credential: S3RVER_SECRET_KEY,
      region: 'us-east-1',
      testConnection: 'false',
      connectionTimeout: '2000',
    },
    t.ctx,
  )) as ObjectStoreProvider;
  await (provider.store as import('./s3-store.js').S3Store).createBucket();
  return {
    provider,
    stagingEntries: async () => t.stagingOf('s3-storage-v3'),
    corrupt: async (sha1, bytes) => writeFileSync(s3.objectFile(bucket, provider.keys.keyOf(sha1)), bytes),
    outage: { stop: () => s3.stop(), start: () => s3.start() },
    bigObjectBytes: BIG,
    cleanup: async () => {
      await provider.close();
      t.remove();
    },
  };
});
