import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { S3RVER_ACCESS_KEY, S3RVER_SECRET_KEY, startS3rver, type S3rverServer } from '../../../test/helpers/s3rver.js';
import type { ObjectStoreProvider } from '../cloud/object-store-provider.js';
import { s3ProviderType } from '../cloud/s3-provider.js';
import type { S3Store } from '../cloud/s3-store.js';
import { buildLeaf, cloudTestContext } from '../cloud/test-support.js';
import { EventualProvider } from './eventual-provider.js';
import { RetryProvider } from './retry-provider.js';
import { chunksOf, waitFor } from './testing/helpers.js';

let server: S3rverServer | undefined;
afterAll(async () => {
  await server?.close();
});

const sha1Of = (data: Buffer) => createHash('sha1').update(data).digest('hex');

describe('eventual → retry → s3-storage-v3 on a real s3rver', () => {
  it('acknowledges writes while s3rver is stopped and uploads every one after it restarts', async () => {
    server = await startS3rver();
    const t = cloudTestContext();
    const s3 = (await buildLeaf(
      s3ProviderType,
      's3-storage-v3',
      {
        endpoint: server.endpoint,
        bucketName: 'arca-eventual',
        identity: S3RVER_ACCESS_KEY,
        credential: S3RVER_SECRET_KEY,
        region: 'us-east-1',
        testConnection: 'false',
        connectionTimeout: '1000',
        socketTimeout: '10000',
      },
      t.ctx,
    )) as ObjectStoreProvider;
    await (s3.store as S3Store).createBucket();
    const retry = new RetryProvider(s3, { maxTrys: 2, interval: 50 });
    const eventual = await new EventualProvider(retry, { dir: join(t.dataDir, 'eventual'), dispatcherInterval: 100, maxBackoff: 300, workers: 2 }).init();
    const put = async (data: Buffer) => {
      const staged = await eventual.stage(chunksOf(data));
      await staged.commit();
      return staged.sha1;
    };

    const blobs = Array.from({ length: 8 }, (_, i) => randomBytes(i === 0 ? 6 << 20 : 50_000 + i));
    const before = [await put(blobs[0]), await put(blobs[1])];
    await server.stop();
    const during = [];
    for (const b of blobs.slice(2)) during.push(await put(b));
    // Queued, served from local staging while the bucket is unreachable.
    expect((await eventual.pending()).adds).toBeGreaterThanOrEqual(6);
    for (const [i, sha1] of during.entries()) expect(sha1Of(await eventual.readBuffer(sha1))).toBe(sha1Of(blobs[i + 2]));
    await waitFor(() => eventual.stats.failures > 0, 10_000, 'an upload to fail against the stopped s3rver');

    await server.start();
    await waitFor(async () => {
      const left = await eventual.pending();
      return left.adds === 0 && left.deletes === 0;
    }, 30_000, 'the queue to empty into s3rver');
    for (const [i, sha1] of [...before, ...during].entries()) {
      expect(await s3.exists(sha1)).toBe(true);
      expect(sha1Of(await s3.readBuffer(sha1))).toBe(sha1Of(blobs[i]));
    }
    expect(eventual.stats.uploaded).toBe(8);
    await eventual.close();
    t.remove();
  });
});
