import { writeFileSync } from 'node:fs';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/helpers/ports.js';
import { S3RVER_ACCESS_KEY, S3RVER_SECRET_KEY, startS3rver, type S3rverServer } from '../../../test/helpers/s3rver.js';
import { ConfigError } from '../../core/errors.js';
import { binaryProviderConformance } from '../testing/conformance.js';
import { googleProviderType } from './google-provider.js';
import type { ObjectStoreProvider } from './object-store-provider.js';
import type { S3Store } from './s3-store.js';
import { buildLeaf, cloudTestContext } from './test-support.js';

/**
 * google-storage-v2 speaks GCS's S3-compatible XML API. There is no GCS emulator for that API
 * here, so the type runs against s3rver: the same requests (SigV4 with region `auto`, HMAC
 * key as access key) reach a real S3 protocol server in its own process.
 */
let server: S3rverServer | undefined;
let buckets = 0;
afterAll(async () => {
  await server?.close();
});

console.info('[google conformance] run against s3rver (no GCS XML-API emulator is available); the big-object case is left to s3-storage-v3, which shares every line of the upload and download path');

async function s3rver(): Promise<S3rverServer> {
  server ??= await startS3rver();
  return server;
}

const hmac = () => ({ identity: S3RVER_ACCESS_KEY, credential: S3RVER_SECRET_KEY });

binaryProviderConformance('google-storage-v2 on s3rver', async () => {
  const s3 = await s3rver();
  const t = cloudTestContext();
  const bucket = `arca-gcs-${process.pid}-${++buckets}`;
  // bucketExists=false (the default): the provider creates its bucket.
  const provider = (await buildLeaf(googleProviderType, 'google-storage-v2', { endpoint: s3.endpoint, bucketName: bucket, ...hmac(), connectionTimeout: '2000' }, t.ctx)) as ObjectStoreProvider;
  return {
    provider,
    stagingEntries: async () => t.stagingOf('google-storage-v2'),
    corrupt: async (sha1, bytes) => writeFileSync(s3.objectFile(bucket, provider.keys.keyOf(sha1)), bytes),
    outage: { stop: () => s3.stop(), start: () => s3.start() },
    cleanup: async () => {
      await provider.close();
      t.remove();
    },
  };
});

describe('google-storage-v2 specifics', () => {
  it('defaults to https://storage.googleapis.com, region auto and virtual-hosted addressing', async () => {
    const t = cloudTestContext();
    const provider = (await buildLeaf(googleProviderType, 'gcs', { bucketName: 'my-bucket', ...hmac(), bucketExists: 'true', testConnection: 'false' }, t.ctx)) as ObjectStoreProvider;
    const store = provider.store as S3Store;
    expect(store.where).toBe("Google Cloud Storage bucket 'my-bucket' at https://storage.googleapis.com");
    expect(await store.client.config.region()).toBe('auto');
    expect(store.client.config.forcePathStyle).toBe(false);
    expect(provider.keys.keyOf('f572d396fae9206628714fb2ce00f72e94f2258f')).toBe('filestore/f5/f572d396fae9206628714fb2ce00f72e94f2258f');
    await provider.close();
    t.remove();
  });

  it('creates a missing bucket unless bucketExists=true, which fails start-up naming the bucket', async () => {
    const s3 = await s3rver();
    const t = cloudTestContext();
    const bucket = `arca-gcs-new-${++buckets}`;
    const base = { endpoint: s3.endpoint, bucketName: bucket, ...hmac() };
    await expect(buildLeaf(googleProviderType, 'gcs', { ...base, bucketExists: 'true' }, t.ctx)).rejects.toThrow(
      new ConfigError(`binarystore.xml: <provider id="gcs" type="google-storage-v2">: Checking the bucket failed: Google Cloud Storage bucket '${bucket}' at ${s3.endpoint}: the bucket does not exist`),
    );
    const provider = (await buildLeaf(googleProviderType, 'gcs', base, t.ctx)) as ObjectStoreProvider;
    await expect((provider.store as S3Store).client.send(new HeadBucketCommand({ Bucket: bucket }))).resolves.toBeDefined();
    await provider.close();
    t.remove();
  });

  it('starts with a warning when the endpoint cannot be reached (nothing to create yet)', async () => {
    const t = cloudTestContext();
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const provider = (await buildLeaf(googleProviderType, 'gcs', { endpoint, bucketName: 'later', ...hmac(), connectionTimeout: '1000' }, t.ctx)) as ObjectStoreProvider;
    expect(t.warnings).toEqual([expect.stringContaining('<provider id="gcs" type="google-storage-v2">: the object store cannot be reached now')]);
    await expect(provider.exists('a'.repeat(40))).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining(`Google Cloud Storage bucket 'later' at ${endpoint}`) });
    await provider.close();
    t.remove();
  });
});
