import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { afterAll } from 'vitest';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type AzuriteServer } from '../../../test/helpers/azurite.js';
import { binaryProviderConformance } from '../testing/conformance.js';
import { azureProviderType } from './azure-provider.js';
import type { AzureStore } from './azure-store.js';
import type { ObjectStoreProvider } from './object-store-provider.js';
import { buildLeaf, cloudTestContext } from './test-support.js';

/**
 * azure-blob-storage on a real Azurite blob service (a separate process): a fresh container
 * per case (created by the provider); the outage case stops Azurite and starts it again on
 * the same port and workspace.
 */
let server: AzuriteServer | undefined;
let containers = 0;
afterAll(async () => {
  await server?.close();
});

// Just over 2 GiB (past the 32-bit offset boundary) rather than the file system's 3 GiB: every
// GiB through Azurite takes ~20 s on this shared 2-core machine, and a third one covers nothing new.
const BIG = 2 ** 31 + 1_000_003;
console.info(`[azure conformance] bigObjectBytes = ${BIG} (2 GiB + 1 MB), not 3 GiB: ~20 s per GiB through Azurite here; more adds time, not coverage`);

binaryProviderConformance('azure-blob-storage on Azurite', async () => {
  server ??= await startAzurite();
  const az = server;
  const t = cloudTestContext();
  const containerName = `arca-conf-${process.pid}-${++containers}`;
  const provider = (await buildLeaf(
    azureProviderType,
    'azure-blob-storage',
    { endpoint: az.endpoint, accountName: AZURITE_ACCOUNT, accountKey: AZURITE_KEY, containerName, socketTimeout: '20000' },
    t.ctx,
  )) as ObjectStoreProvider;
  return {
    provider,
    stagingEntries: async () => t.stagingOf('azure-blob-storage'),
    // Behind the provider's back: the blob's content replaced through the service itself
    // (Azurite keeps blobs in shared extent files, so the bytes cannot be edited in place).
    corrupt: async (sha1, bytes) => {
      const direct = new BlobServiceClient(az.endpoint, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
      await direct.getContainerClient(containerName).getBlockBlobClient(provider.keys.keyOf(sha1)).uploadData(bytes);
    },
    outage: { stop: () => az.stop(), start: () => az.start() },
    bigObjectBytes: BIG,
    cleanup: async () => {
      await (provider.store as AzureStore).container.deleteIfExists().catch(() => undefined);
      await provider.close();
      t.remove();
    },
  };
});
