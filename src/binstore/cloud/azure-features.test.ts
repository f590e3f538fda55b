import { randomBytes } from 'node:crypto';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type AzuriteServer } from '../../../test/helpers/azurite.js';
import { ConfigError } from '../../core/errors.js';
import { azureProviderType } from './azure-provider.js';
import type { AzureStore } from './azure-store.js';
import type { ObjectStoreProvider } from './object-store-provider.js';
import { buildLeaf, cloudTestContext, type CloudTestContext } from './test-support.js';

/** azure-blob-storage specifics on a real Azurite process: layout, container creation, blocks, SAS, errors. */
let az: AzuriteServer;
let direct: BlobServiceClient;
let t: CloudTestContext;
let n = 0;
const open: ObjectStoreProvider[] = [];

beforeAll(async () => {
  az = await startAzurite();
  direct = new BlobServiceClient(az.endpoint, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
});
afterAll(async () => {
  await az.close();
});
afterEach(async () => {
  for (const p of open.splice(0)) await p.close();
  t?.remove();
});

async function build(params: Record<string, string> = {}): Promise<{ provider: ObjectStoreProvider; container: string }> {
  t = cloudTestContext();
  const container = params.containerName ?? `arca-az-${++n}`;
  const provider = (await buildLeaf(
    azureProviderType,
    'azure-blob-storage',
    { endpoint: az.endpoint, accountName: AZURITE_ACCOUNT, accountKey: AZURITE_KEY, ...params, containerName: container },
    t.ctx,
  )) as ObjectStoreProvider;
  open.push(provider);
  return { provider, container };
}

async function put(provider: ObjectStoreProvider, data: Buffer): Promise<string> {
  const staged = await provider.stage((async function* () {
    yield data;
  })());
  await staged.commit();
  return staged.sha1;
}

async function blobNames(container: string): Promise<string[]> {
  const names: string[] = [];
  for await (const b of direct.getContainerClient(container).listBlobsFlat()) names.push(b.name);
  return names.sort();
}

describe('azure-blob-storage layout and container', () => {
  it('creates its container when missing and keeps blobs at <sha1[0..2]>/<sha1> by default', async () => {
    const container = `arca-az-new-${++n}`;
    expect(await direct.getContainerClient(container).exists()).toBe(false);
    const { provider } = await build({ containerName: container });
    expect(await direct.getContainerClient(container).exists()).toBe(true);
    const sha1 = await put(provider, randomBytes(500));
    expect(await blobNames(container)).toEqual([`${sha1.slice(0, 2)}/${sha1}`]);
  });

  it('honours path and rootFoldersNameLength, and lists only blobs of its layout', async () => {
    const { provider, container } = await build({ path: 'filestore', rootFoldersNameLength: '0' });
    const sha1 = await put(provider, randomBytes(500));
    await direct.getContainerClient(container).getBlockBlobClient('filestore/notes.txt').uploadData(Buffer.from('x'));
    expect(await blobNames(container)).toEqual([`filestore/${sha1}`, 'filestore/notes.txt']);
    const listed: string[] = [];
    for await (const f of provider.list()) listed.push(f.sha1);
    expect(listed).toEqual([sha1]);
  });
});

describe('azure-blob-storage uploads', () => {
  it('uploads above multiPartLimit in blocks, and concurrent block uploads of one binary all commit', async () => {
    const { provider, container } = await build({ multiPartLimit: String(1 << 20), multipartElementSize: String(1 << 20) });
    const data = randomBytes(6 << 20);
    // Committing a block list drops other writers' uncommitted blocks of that blob: the losers
    // see InvalidBlockList and must find the blob complete.
    const staged = await Promise.all(Array.from({ length: 4 }, () => provider.stage((async function* () {
      yield data;
    })())));
    await Promise.all(staged.map((s) => s.commit()));
    const blocks = await direct.getContainerClient(container).getBlockBlobClient(provider.keys.keyOf(staged[0].sha1)).getBlockList('committed');
    expect(blocks.committedBlocks?.length).toBe(6);
    expect((await provider.readBuffer(staged[0].sha1)).equals(data)).toBe(true);
    expect(t.stagingOf('azure-blob-storage')).toEqual([]);
  });

  it('uploads at or below multiPartLimit in one Put Blob (no block list)', async () => {
    const { provider, container } = await build({ multiPartLimit: String(2 << 20) });
    const sha1 = await put(provider, randomBytes(2 << 20));
    const blocks = await direct.getContainerClient(container).getBlockBlobClient(provider.keys.keyOf(sha1)).getBlockList('committed');
    expect(blocks.committedBlocks ?? []).toEqual([]);
  });
});

describe('azure-blob-storage SAS downloads', () => {
  it('offers a read-only SAS URL that works without the key when enableSignedUrlRedirect is on', async () => {
    const { provider } = await build({ enableSignedUrlRedirect: 'true', signedUrlExpirySeconds: '60' });
    const data = randomBytes(3000);
    const sha1 = await put(provider, data);
    const url = (await provider.downloadUrl(sha1, data.length))!;
    expect(url).toMatch(/sig=/);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(data)).toBe(true);
    expect((await fetch(url, { method: 'PUT', body: 'x', headers: { 'x-ms-blob-type': 'BlockBlob' } })).status).toBe(403);
  });
});

describe('azure-blob-storage errors name the container and account', () => {
  it('fails start-up on a refused key; later calls fail with UNAVAILABLE', async () => {
    t = cloudTestContext();
    const wrongKey = Buffer.alloc(64, 1).toString('base64');
    const params = { endpoint: az.endpoint, accountName: AZURITE_ACCOUNT, accountKey: wrongKey, containerName: 'arca-denied' };
    const failure = buildLeaf(azureProviderType, 'az', params, t.ctx);
    await expect(failure).rejects.toBeInstanceOf(ConfigError);
    await expect(failure).rejects.toThrow(/<provider id="az" type="azure-blob-storage">: Creating the container failed: Azure container 'arca-denied' of account 'devstoreaccount1' at .*: access denied \(AuthorizationFailure|AuthenticationFailed/);
    const provider = (await buildLeaf(azureProviderType, 'az', { ...params, testConnection: 'false' }, t.ctx)) as ObjectStoreProvider;
    open.push(provider);
    await expect(provider.exists('a'.repeat(40))).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining("container 'arca-denied'") });
  });

  it('reports a missing container as UNAVAILABLE, not as a missing blob', async () => {
    const { provider, container } = await build({ testConnection: 'false' });
    expect(await direct.getContainerClient(container).exists()).toBe(false);
    await expect(provider.exists('a'.repeat(40))).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('the container does not exist') });
    await expect(provider.read('a'.repeat(40))).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('the container does not exist') });
    expect((provider.store as AzureStore).where).toBe(`Azure container '${container}' of account 'devstoreaccount1' at ${az.endpoint}`);
  });
});
