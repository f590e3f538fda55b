import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/helpers/ports.js';
import { S3RVER_ACCESS_KEY, S3RVER_SECRET_KEY, startS3rver, type S3rverServer } from '../../../test/helpers/s3rver.js';
import { parseBinarystoreXml } from '../../config/binarystore.js';
import { ConfigError } from '../../core/errors.js';
import { buildChain } from '../chain/build.js';
import { resolveChain } from '../chain/resolve.js';
import type { ObjectStoreProvider } from './object-store-provider.js';
import { createS3Provider, s3ProviderType } from './s3-provider.js';
import type { S3Store } from './s3-store.js';
import { buildLeaf, cloudTestContext, type CloudTestContext } from './test-support.js';

/** s3-storage-v3 specifics on a real s3rver process: key layout, parts, paging, presigning, errors. */
let s3: S3rverServer;
let raw: S3Client;
let t: CloudTestContext;
let n = 0;
const open: ObjectStoreProvider[] = [];

beforeAll(async () => {
  s3 = await startS3rver();
  raw = s3.client();
});
afterAll(async () => {
  raw.destroy();
  await s3.close();
});
afterEach(async () => {
  for (const p of open.splice(0)) await p.close();
  t?.remove();
});

async function build(params: Record<string, string> = {}): Promise<{ provider: ObjectStoreProvider; bucket: string }> {
  t = cloudTestContext();
  const bucket = params.bucketName ?? `arca-s3-${++n}`;
  const provider = (await buildLeaf(
    s3ProviderType,
    's3-storage-v3',
    { endpoint: s3.endpoint, identity: S3RVER_ACCESS_KEY, credential: S3RVER_SECRET_KEY, testConnection: 'false', connectionTimeout: '2000', ...params, bucketName: bucket },
    t.ctx,
  )) as ObjectStoreProvider;
  open.push(provider);
  if (!params.bucketName) await (provider.store as S3Store).createBucket();
  return { provider, bucket };
}

async function put(provider: ObjectStoreProvider, data: Buffer): Promise<string> {
  const staged = await provider.stage((async function* () {
    yield data;
  })());
  await staged.commit();
  return staged.sha1;
}

async function keysOf(bucket: string): Promise<string[]> {
  const out = await raw.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

async function listed(provider: ObjectStoreProvider): Promise<string[]> {
  const out: string[] = [];
  for await (const f of provider.list()) out.push(f.sha1);
  return out.sort();
}

/** Names of the S3 commands a client sends (recorded in its middleware stack). */
function record(...clients: S3Client[]): string[] {
  const names: string[] = [];
  for (const c of clients) {
    c.middlewareStack.add((next, context) => async (args) => {
      names.push(String(context.commandName));
      return next(args);
    }, { step: 'initialize', name: `arcaRecorder${names.length}${Math.random()}` });
  }
  return names;
}

describe('s3-storage-v3 key layout', () => {
  it.each([
    [{}, (s: string) => `filestore/${s.slice(0, 2)}/${s}`],
    [{ rootFoldersNameLength: '0' }, (s: string) => `filestore/${s}`],
    [{ rootFoldersNameLength: '5', path: 'arca/binaries' }, (s: string) => `arca/binaries/${s.slice(0, 5)}/${s}`],
    [{ path: '' }, (s: string) => `${s.slice(0, 2)}/${s}`],
  ])('stores a binary under %o as the documented key', async (params, keyOf) => {
    const { provider, bucket } = await build(params);
    const sha1 = await put(provider, randomBytes(1000));
    expect(await keysOf(bucket)).toEqual([keyOf(sha1)]);
    expect(existsSync(s3.objectFile(bucket, keyOf(sha1)))).toBe(true);
    expect(await listed(provider)).toEqual([sha1]);
  });

  it('lists only keys of its layout, with their LastModified, across ListObjectsV2 pages', async () => {
    t = cloudTestContext();
    const bucket = `arca-s3-${++n}`;
    const provider = await createS3Provider({
      type: 's3-storage-v3', service: 'S3', bucket, endpoint: s3.endpoint, region: 'us-east-1',
      credentials: { accessKeyId: S3RVER_ACCESS_KEY, secretAccessKey: S3RVER_SECRET_KEY },
      forcePathStyle: true, multiPartLimit: 100_000_000, partSize: 5 << 20, connectionTimeoutMs: 2000, socketTimeoutMs: 20_000,
      maxConnections: 10, maxAttempts: 3, path: 'filestore', rootFoldersNameLength: 2, tempDir: `${t.dataDir}/tmp/s3`, createBucket: true, listPageSize: 2,
    });
    open.push(provider);
    const before = Date.now() - 2000;
    const sha1s = [await put(provider, randomBytes(10)), await put(provider, randomBytes(11)), await put(provider, randomBytes(12))];
    for (const foreign of ['filestore/readme.txt', 'filestore/ab/not-a-sha1', `filestore/zz/${sha1s[0]}`, `other/${sha1s[1].slice(0, 2)}/${sha1s[1]}`]) {
      await raw.send(new PutObjectCommand({ Bucket: bucket, Key: foreign, Body: 'x' }));
    }
    const calls = record((provider.store as S3Store).client);
    const seen: { sha1: string; mtimeMs: number }[] = [];
    for await (const f of provider.list()) seen.push(f);
    expect(seen.map((f) => f.sha1).sort()).toEqual([...sha1s].sort());
    for (const f of seen) expect(f.mtimeMs).toBeGreaterThan(before);
    // 3 binaries + 3 foreign keys under filestore/, two per page: three pages.
    expect(calls.filter((c) => c === 'ListObjectsV2Command')).toHaveLength(3);
  });
});

describe('s3-storage-v3 uploads', () => {
  it('uploads above multiPartLimit in parts (streamed from the staged file) and below it in one PUT', async () => {
    const { provider } = await build({ multiPartLimit: String(6 << 20), multipartElementSize: String(5 << 20) });
    const store = provider.store as S3Store;
    const calls = record(store.client, store.putClient);
    const big = randomBytes(13 << 20);
    const bigSha1 = await put(provider, big);
    expect(calls.filter((c) => c === 'CreateMultipartUploadCommand')).toHaveLength(1);
    expect(calls.filter((c) => c === 'UploadPartCommand')).toHaveLength(3);
    expect(calls.filter((c) => c === 'CompleteMultipartUploadCommand')).toHaveLength(1);
    expect(calls).not.toContain('PutObjectCommand');
    expect((await provider.readBuffer(bigSha1)).equals(big)).toBe(true);

    calls.length = 0;
    const small = randomBytes(6 << 20);
    const smallSha1 = await put(provider, small);
    expect(calls.filter((c) => c === 'PutObjectCommand')).toHaveLength(1);
    expect(calls).not.toContain('CreateMultipartUploadCommand');
    expect((await provider.readBuffer(smallSha1)).equals(small)).toBe(true);
    expect(t.stagingOf('s3-storage-v3')).toEqual([]);
  });

  it('skips the upload when an object of the same SHA-1 and size is already stored', async () => {
    const { provider } = await build();
    const data = randomBytes(4000);
    await put(provider, data);
    const calls = record((provider.store as S3Store).client, (provider.store as S3Store).putClient);
    await put(provider, data);
    expect(calls).toEqual(['HeadObjectCommand']);
  });
});

describe('s3-storage-v3 reads', () => {
  it('returns exactly the requested range, also where s3rver answers bytes=0-0 with the whole object', async () => {
    const { provider } = await build();
    const data = randomBytes(70_000);
    const sha1 = await put(provider, data);
    const read = async (start: number, end: number) => {
      const chunks: Buffer[] = [];
      for await (const c of await provider.read(sha1, { start, end })) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    };
    expect((await read(0, 0)).equals(data.subarray(0, 1))).toBe(true);
    expect((await read(65_536, 69_999)).equals(data.subarray(65_536))).toBe(true);
    expect((await read(5, 65_540)).equals(data.subarray(5, 65_541))).toBe(true);
  });
});

describe('s3-storage-v3 presigned downloads', () => {
  it('offers a presigned URL that works without credentials and expires', async () => {
    const { provider } = await build({ enableSignedUrlRedirect: 'true', signedUrlExpirySeconds: '2', presignedUrlMinSize: '1000' });
    const data = randomBytes(5000);
    const sha1 = await put(provider, data);
    expect(await provider.downloadUrl(sha1, 999)).toBeUndefined();
    const url = (await provider.downloadUrl(sha1, data.length))!;
    expect(url).toMatch(new RegExp(`^${s3.endpoint}/.*X-Amz-Signature=`));
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(data)).toBe(true);
    await new Promise((r) => setTimeout(r, 3100));
    expect((await fetch(url)).status).toBe(403);
  });

  it('offers none when the redirect is off (the default)', async () => {
    const { provider } = await build();
    expect(await provider.downloadUrl(await put(provider, randomBytes(10)), 10)).toBeUndefined();
  });
});

describe('s3-storage-v3 errors name the bucket and endpoint', () => {
  it('fails start-up when the bucket does not exist; later calls fail with UNAVAILABLE', async () => {
    t = cloudTestContext();
    const params = { endpoint: s3.endpoint, bucketName: 'no-such-bucket', identity: S3RVER_ACCESS_KEY, credential: S3RVER_SECRET_KEY };
    const failure = buildLeaf(s3ProviderType, 'my-s3', params, t.ctx);
    await expect(failure).rejects.toBeInstanceOf(ConfigError);
    await expect(failure).rejects.toThrow(/<provider id="my-s3" type="s3-storage-v3">: .*bucket 'no-such-bucket' at http:\/\/127\.0\.0\.1:\d+: the bucket does not exist/);

    const { provider } = await build({ bucketName: 'no-such-bucket' });
    const staged = await provider.stage((async function* () {
      yield Buffer.from('x');
    })());
    await expect(staged.commit()).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/no-such-bucket.*does not exist/) });
    await staged.discard();
    await expect(provider.read('a'.repeat(40))).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining(`'no-such-bucket' at ${s3.endpoint}`) });
  });

  it('fails start-up when the credentials are refused; later calls fail with UNAVAILABLE', async () => {
    const good = await build();
    const sha1 = await put(good.provider, randomBytes(100));
    const wrong = { endpoint: s3.endpoint, bucketName: good.bucket, identity: 'NOT-A-KEY', credential: 'nope' };
    await expect(buildLeaf(s3ProviderType, 's3-storage-v3', wrong, t.ctx)).rejects.toThrow(
      new RegExp(`<provider id="s3-storage-v3" type="s3-storage-v3">: .*bucket '${good.bucket}'.*access denied \\(Forbidden\\)`),
    );
    const bad = (await buildLeaf(s3ProviderType, 'bad-key', { ...wrong, testConnection: 'false' }, t.ctx)) as ObjectStoreProvider;
    open.push(bad);
    // s3rver checks the access key id (not the signature), and looks an object up before it
    // checks anything: use an object that exists.
    await expect(bad.exists(sha1)).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('access denied (Forbidden)') });
    await expect(bad.read(sha1)).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(new RegExp(`bucket '${good.bucket}'.*access denied \\(InvalidAccessKeyId\\)`)) });
  });

  it('only warns at start-up when the endpoint cannot be reached, then fails fast', async () => {
    t = cloudTestContext();
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const provider = (await buildLeaf(
      s3ProviderType,
      's3-storage-v3',
      { endpoint, bucketName: 'arca', identity: S3RVER_ACCESS_KEY, credential: S3RVER_SECRET_KEY },
      t.ctx,
    )) as ObjectStoreProvider;
    open.push(provider);
    expect(t.warnings.join('\n')).toMatch(/cannot be reached/);
    const t0 = Date.now();
    await expect(provider.exists('a'.repeat(40))).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining(`S3 bucket 'arca' at ${endpoint}: the service cannot be reached (ECONNREFUSED`) });
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});

describe('s3-storage-v3 from binarystore.xml', () => {
  it('resolves (alias s3, catalogued parameters only) and builds through the chain builder', async () => {
    t = cloudTestContext();
    const bucket = `arca-s3-${++n}`;
    const xml = `<config version="2"><chain><provider id="s3" type="s3"/></chain>
      <provider id="s3" type="s3"><endpoint>127.0.0.1:${s3.port}</endpoint><useHttp>true</useHttp><bucketName>${bucket}</bucketName>
      <identity>${S3RVER_ACCESS_KEY}</identity><credential>${S3RVER_SECRET_KEY}</credential><enablePathStyleAccess>true</enablePathStyleAccess>
      <testConnection>false</testConnection><rootFoldersNameLength>3</rootFoldersNameLength><path>fs</path><presignedUrlMinSize>1</presignedUrlMinSize></provider></config>`;
    const chain = resolveChain(parseBinarystoreXml(xml, 'binarystore.xml'), { dataDir: t.dataDir });
    expect(chain.warnings).toEqual([]);
    const { build: _b, ...deps } = t.ctx;
    const provider = (await buildChain(chain.root, deps)) as ObjectStoreProvider;
    open.push(provider);
    await (provider.store as S3Store).createBucket();
    expect(provider.type).toBe('s3-storage-v3');
    const sha1 = await put(provider, randomBytes(100));
    expect(await keysOf(bucket)).toEqual([`fs/${sha1.slice(0, 3)}/${sha1}`]);
  });
});
