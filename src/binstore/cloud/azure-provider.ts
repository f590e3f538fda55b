import { join } from 'node:path';
import { isArcaError, ConfigError } from '../../core/errors.js';
import type { CreateArgs, ProviderType } from '../chain/types.js';
import type { AzureStore, AzureStoreOptions } from './azure-store.js';
import { CloudParams, safeDirName } from './cloud-params.js';
import { LocalStaging } from './local-staging.js';
import { ObjectKeys } from './object-keys.js';
import { ObjectStoreProvider, type PresignOptions } from './object-store-provider.js';

export interface AzureProviderOptions extends AzureStoreOptions {
  type: string;
  path: string;
  rootFoldersNameLength: number;
  tempDir: string;
  presign?: PresignOptions;
}

/** An Azure Blob provider from explicit options (no container check; see `ensureContainer`). */
export async function createAzureProvider(opts: AzureProviderOptions): Promise<ObjectStoreProvider> {
  const staging = new LocalStaging(opts.tempDir);
  await staging.init();
  // The Azure SDK is loaded only by a node whose binary store has an Azure provider.
  const { AzureStore } = await import('./azure-store.js');
  return new ObjectStoreProvider({
    type: opts.type,
    store: new AzureStore(opts),
    keys: new ObjectKeys(opts.path, opts.rootFoldersNameLength),
    staging,
    presign: opts.presign,
  });
}

/** Reads an azure-blob-storage element's parameters into options. */
export function azureOptionsFromParams(args: CreateArgs): AzureProviderOptions {
  const { node, ctx } = args;
  const p = new CloudParams(node);
  const presigning = p.bool('enableSignedUrlRedirect', false) || p.bool('usePresigning', false);
  return {
    type: node.type,
    accountName: p.required('accountName'),
    accountKey: p.required('accountKey'),
    endpoint: p.str('endpoint'),
    containerName: p.required('containerName'),
    // The seed's Azure layout keeps binaries at the container root under two-character folders.
    path: p.text('path', ''),
    rootFoldersNameLength: p.int('rootFoldersNameLength', 2, 0, 5),
    tryTimeoutMs: p.int(['socketTimeout', 'tryTimeout'], 60_000, 1),
    maxTries: p.int('maxRetryErrors', 3, 1, 20),
    singlePutLimit: p.int('multiPartLimit', 100_000_000, 0, 5000 * 1024 * 1024),
    blockSize: p.int('multipartElementSize', 8 * 1024 * 1024, 1024 * 1024, 4000 * 1024 * 1024),
    concurrency: p.int('maxConnections', 4, 1, 64),
    tempDir: join(ctx.dataDir, 'tmp', safeDirName(node.id)),
    presign: presigning
      ? { expirySeconds: p.int(['signedUrlExpirySeconds', 'signatureExpirySeconds'], 30, 1, 604_800), minSize: p.int('presignedUrlMinSize', 0, 0) }
      : undefined,
  };
}

/**
 * Creates the container when it is missing. A refused key fails start-up naming the
 * container; an unreachable service only logs a warning (an eventual provider in front keeps
 * accepting uploads, and the retry provider waits for it).
 */
async function createFromNode(args: CreateArgs): Promise<ObjectStoreProvider> {
  const provider = await createAzureProvider(azureOptionsFromParams(args));
  if (!new CloudParams(args.node).bool('testConnection', true)) return provider;
  try {
    await (provider.store as AzureStore).ensureContainer();
  } catch (err) {
    const status = isArcaError(err) ? (err.details?.status as number | undefined) : undefined;
    const where = `binarystore.xml: <provider id="${args.node.id}" type="${args.node.type}">`;
    if (status !== undefined && status >= 400 && status < 500) throw new ConfigError(`${where}: ${(err as Error).message}`);
    args.ctx.log.warn({ err: (err as Error).message, provider: args.node.id }, `${where}: Azure Blob Storage cannot be reached now`);
  }
  return provider;
}

/** `azure-blob-storage` (alias `azure-blob-storage-v2`, resolved by the catalogue): block blobs through @azure/storage-blob. */
export const azureProviderType: ProviderType = { type: 'azure-blob-storage', create: createFromNode };
