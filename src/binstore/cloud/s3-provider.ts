import { join } from 'node:path';
import { isArcaError, ConfigError } from '../../core/errors.js';
import type { CreateArgs, ProviderType } from '../chain/types.js';
import { CloudParams, safeDirName } from './cloud-params.js';
import { LocalStaging } from './local-staging.js';
import { ObjectKeys } from './object-keys.js';
import { ObjectStoreProvider, type PresignOptions } from './object-store-provider.js';
import type { S3Store, S3StoreOptions } from './s3-store.js';

export interface S3ProviderOptions extends S3StoreOptions {
  type: string;
  /** Folder inside the bucket (`filestore`). */
  path: string;
  rootFoldersNameLength: number;
  /** Local staging directory for uploads. */
  tempDir: string;
  presign?: PresignOptions;
  /** Create the bucket when it does not exist (GCS `bucketExists=false`). */
  createBucket?: boolean;
}

/** An S3 (or S3-compatible) provider from explicit options; the chain uses the provider types below. */
export async function createS3Provider(opts: S3ProviderOptions): Promise<ObjectStoreProvider> {
  const staging = new LocalStaging(opts.tempDir);
  await staging.init();
  // The AWS SDK is loaded only by a node whose binary store has an S3 or GCS provider.
  const { S3Store } = await import('./s3-store.js');
  const store = new S3Store(opts);
  if (opts.createBucket) {
    // Only a bucket known to be missing is created; other failures (unreachable, refused
    // credentials) are left to testConnection, which warns or fails start-up.
    const missing = await store.headBucket().then(
      () => false,
      (err: unknown) => isArcaError(err) && err.details?.status === 404,
    );
    if (missing) await store.createBucket();
  }
  return new ObjectStoreProvider({ type: opts.type, store, keys: new ObjectKeys(opts.path, opts.rootFoldersNameLength), staging, presign: opts.presign });
}

/** `endpoint` as a URL: a bare host gets `https://` (`http://` with useHttp=true) and the `port` parameter. */
export function endpointUrl(p: CloudParams, fallback?: string): string | undefined {
  const raw = p.str('endpoint', fallback);
  if (raw === undefined) return undefined;
  if (/^https?:\/\//i.test(raw)) return raw.replace(/\/+$/, '');
  const scheme = p.bool('useHttp', false) ? 'http' : 'https';
  const port = p.str('port');
  return `${scheme}://${raw.replace(/\/+$/, '')}${port && !/:\d+$/.test(raw) ? `:${port}` : ''}`;
}

export interface S3Flavour {
  service: string;
  defaultEndpoint?: string;
  defaultRegion: string;
  /** Path-style addressing when enablePathStyleAccess is not set at all. */
  defaultPathStyle: boolean;
  bucketExistsParam?: boolean;
}

/** Reads the s3-storage-v3 / google-storage-v2 parameters of a provider element into options. */
export function s3OptionsFromParams(args: CreateArgs, flavour: S3Flavour): S3ProviderOptions {
  const { node, ctx } = args;
  const p = new CloudParams(node);
  const endpoint = endpointUrl(p, flavour.defaultEndpoint);
  const instance = p.bool('useInstanceCredentials', false);
  const identity = p.str('identity');
  const credential = p.str('credential');
  if (!instance && (identity === undefined) !== (credential === undefined)) p.fail('identity and credential must be set together');
  const usePresigning = p.bool('enableSignedUrlRedirect', false) || p.bool('usePresigning', false);
  return {
    type: node.type,
    service: flavour.service,
    bucket: p.required('bucketName'),
    endpoint,
    region: p.str('region', flavour.defaultRegion)!,
    credentials: !instance && identity !== undefined ? { accessKeyId: identity, secretAccessKey: credential! } : undefined,
    forcePathStyle: p.bool('enablePathStyleAccess', flavour.defaultPathStyle),
    path: p.text('path', 'filestore'),
    rootFoldersNameLength: p.int('rootFoldersNameLength', 2, 0, 5),
    multiPartLimit: p.int('multiPartLimit', 100_000_000, 0),
    partSize: p.int('multipartElementSize', 16 * 1024 * 1024, 5 * 1024 * 1024),
    connectionTimeoutMs: p.int('connectionTimeout', 10_000, 1),
    socketTimeoutMs: p.int('socketTimeout', 50_000, 1),
    maxConnections: p.int('maxConnections', 50, 1),
    maxAttempts: p.int('maxRetryErrors', 3, 1, 20),
    tempDir: join(ctx.dataDir, 'tmp', safeDirName(node.id)),
    presign: usePresigning
      ? { expirySeconds: p.int(['signedUrlExpirySeconds', 'signatureExpirySeconds'], 30, 1, 604_800), minSize: p.int('presignedUrlMinSize', 0, 0) }
      : undefined,
    createBucket: flavour.bucketExistsParam ? !p.bool('bucketExists', false) : false,
  };
}

/**
 * `testConnection` (default true): at start-up a missing bucket or refused credentials fail
 * the build naming the bucket; an unreachable service only logs a warning (it may come back,
 * and an eventual provider in front keeps accepting uploads meanwhile).
 */
export async function testConnection(provider: ObjectStoreProvider, args: CreateArgs): Promise<void> {
  if (!new CloudParams(args.node).bool('testConnection', true)) return;
  try {
    await (provider.store as S3Store).headBucket();
  } catch (err) {
    const status = isArcaError(err) ? (err.details?.status as number | undefined) : undefined;
    const definitive = status !== undefined && status >= 400 && status < 500;
    const where = `binarystore.xml: <provider id="${args.node.id}" type="${args.node.type}">`;
    if (definitive) throw new ConfigError(`${where}: ${(err as Error).message}`);
    args.ctx.log.warn({ err: (err as Error).message, provider: args.node.id }, `${where}: the object store cannot be reached now`);
  }
}

const S3_FLAVOUR: S3Flavour = {
  service: 'S3',
  defaultRegion: 'us-east-1',
  defaultPathStyle: false,
};

/** Builds an S3-protocol provider from a chain element and tests its connection. */
export async function createS3FromNode(args: CreateArgs, flavour: S3Flavour): Promise<ObjectStoreProvider> {
  const provider = await createS3Provider(s3OptionsFromParams(args, flavour));
  await testConnection(provider, args);
  return provider;
}

/** `s3-storage-v3` (alias `s3`, resolved by the catalogue): Amazon S3 and S3-compatible stores through the AWS SDK v3. */
export const s3ProviderType: ProviderType = {
  type: 's3-storage-v3',
  create: (args) => createS3FromNode(args, S3_FLAVOUR),
};
