import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { BlobSASPermissions, BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { ArcaError } from '../../core/errors.js';
import type { ByteRange } from '../binary-provider.js';
import type { ObjectBody, ObjectStore } from './object-store-provider.js';

export interface AzureStoreOptions {
  accountName: string;
  accountKey: string;
  /** Blob service URL; default `https://<accountName>.blob.core.windows.net`. Azurite: `http://127.0.0.1:10000/devstoreaccount1`. */
  endpoint?: string;
  containerName: string;
  /** Time allowed for one try until the response headers arrive (uploads include the block). */
  tryTimeoutMs: number;
  maxTries: number;
  /** Blobs up to this size are uploaded in one request; larger ones in blocks. */
  singlePutLimit: number;
  /** Block size and parallel blocks of uploads (memory in use: their product). */
  blockSize: number;
  concurrency: number;
}

interface AzureError {
  name?: string;
  code?: string;
  statusCode?: number;
  message?: string;
  /** Error responses to HEAD have no body: their x-ms-error-code is only here. */
  details?: { errorCode?: string };
}

/** The service's error code of a failure (ContainerNotFound, BlobNotFound, AuthorizationFailure…). */
function errorCode(e: AzureError): string | undefined {
  return e.code ?? e.details?.errorCode;
}

/** The Azure Blob Storage driver (block blobs in one container). */
export class AzureStore implements ObjectStore {
  readonly where: string;
  readonly container: ContainerClient;

  constructor(private readonly opts: AzureStoreOptions) {
    const url = (opts.endpoint ?? `https://${opts.accountName}.blob.core.windows.net`).replace(/\/+$/, '');
    this.where = `Azure container '${opts.containerName}' of account '${opts.accountName}' at ${url}`;
    const service = new BlobServiceClient(url, new StorageSharedKeyCredential(opts.accountName, opts.accountKey), {
      retryOptions: { maxTries: opts.maxTries, tryTimeoutInMs: opts.tryTimeoutMs, retryDelayInMs: 200, maxRetryDelayInMs: 2000 },
      keepAliveOptions: { enable: true },
    });
    this.container = service.getContainerClient(opts.containerName);
  }

  /** Maps an SDK failure to ITEM_NOT_FOUND (missing blob) or UNAVAILABLE naming the container. */
  fail(err: unknown, action: string, key?: string): ArcaError {
    if (err instanceof ArcaError) return err;
    const e = { ...((err ?? {}) as AzureError) };
    e.code = errorCode(e);
    const status = e.statusCode;
    const details = { container: this.opts.containerName, account: this.opts.accountName, endpoint: this.opts.endpoint, key, sdkError: e.code ?? e.name, status };
    if (e.code === 'BlobNotFound' || (status === 404 && key !== undefined && e.code !== 'ContainerNotFound')) {
      return new ArcaError('ITEM_NOT_FOUND', `Blob '${key}' not found in ${this.where}`, details, err);
    }
    if (status === 416 || e.code === 'InvalidRange') {
      return new ArcaError('RANGE_NOT_SATISFIABLE', `Range not satisfiable for '${key}' in ${this.where}`, details, err);
    }
    let why: string;
    if (e.code === 'ContainerNotFound') why = 'the container does not exist';
    else if (status === 403 || status === 401) why = `access denied (${e.code ?? status}): check accountName and accountKey`;
    else if (status !== undefined && status >= 500) why = `the service answered ${status} ${e.code ?? ''}`;
    else if (status === undefined) why = `the service cannot be reached (${e.code ?? e.name}: ${e.message ?? ''})`;
    else why = `${e.code ?? status}: ${e.message ?? ''}`;
    return new ArcaError('UNAVAILABLE', `${action} failed: ${this.where}: ${why}`, details, err);
  }

  /** Creates the container when it does not exist. */
  async ensureContainer(): Promise<void> {
    try {
      await this.container.createIfNotExists();
    } catch (err) {
      throw this.fail(err, 'Creating the container');
    }
  }

  async head(key: string): Promise<number | undefined> {
    try {
      return (await this.container.getBlockBlobClient(key).getProperties()).contentLength ?? 0;
    } catch (err) {
      const e = err as AzureError;
      if (e.statusCode === 404 && errorCode(e) !== 'ContainerNotFound') return undefined;
      throw this.fail(err, `Looking up '${key}'`);
    }
  }

  async get(key: string, range?: ByteRange): Promise<ObjectBody> {
    try {
      const res = range
        ? await this.container.getBlockBlobClient(key).download(range.start, range.end - range.start + 1, { maxRetryRequests: 3 })
        : await this.container.getBlockBlobClient(key).download(0, undefined, { maxRetryRequests: 3 });
      return { stream: res.readableStreamBody as Readable, length: res.contentLength };
    } catch (err) {
      throw this.fail(err, `Reading '${key}'`, key);
    }
  }

  /**
   * Up to `singlePutLimit` bytes: one Put Blob whose body is reopened from the file on each
   * retry. Larger: staged blocks and a block list. Committing a block list drops the
   * uncommitted blocks of the same blob, so a concurrent upload of the same content can fail
   * with InvalidBlockList (the provider's commit then finds the blob complete).
   */
  async put(key: string, file: string, size: number): Promise<void> {
    const blob = this.container.getBlockBlobClient(key);
    try {
      if (size <= this.opts.singlePutLimit) {
        await blob.upload(() => createReadStream(file), size);
      } else {
        const body = createReadStream(file, { highWaterMark: 1 << 20 });
        try {
          await blob.uploadStream(body, this.opts.blockSize, this.opts.concurrency);
        } finally {
          body.destroy();
        }
      }
    } catch (err) {
      throw this.fail(err, `Uploading '${key}'`);
    }
  }

  async remove(key: string): Promise<void> {
    try {
      await this.container.getBlockBlobClient(key).deleteIfExists();
    } catch (err) {
      throw this.fail(err, `Deleting '${key}'`);
    }
  }

  async *list(prefix: string): AsyncIterable<{ key: string; mtimeMs: number }> {
    const pages = this.container.listBlobsFlat({ prefix: prefix || undefined }).byPage({ maxPageSize: 1000 });
    for (;;) {
      let page;
      try {
        page = await pages.next();
      } catch (err) {
        throw this.fail(err, `Listing '${prefix}'`);
      }
      if (page.done) return;
      for (const b of page.value.segment.blobItems) yield { key: b.name, mtimeMs: b.properties.lastModified?.getTime() ?? 0 };
    }
  }

  async presign(key: string, expirySeconds: number): Promise<string> {
    return this.container.getBlockBlobClient(key).generateSasUrl({
      permissions: BlobSASPermissions.parse('r'),
      expiresOn: new Date(Date.now() + expirySeconds * 1000),
    });
  }
}
