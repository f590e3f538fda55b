import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ArcaError } from '../../core/errors.js';
import type { ByteRange } from '../binary-provider.js';
import type { ObjectBody, ObjectStore } from './object-store-provider.js';

export interface S3StoreOptions {
  /** 'S3' or 'Google Cloud Storage': how errors name the service. */
  service: string;
  bucket: string;
  /** Custom endpoint (S3-compatible stores, GCS); undefined = the AWS endpoint of `region`. */
  endpoint?: string;
  region: string;
  /** Access key and secret (GCS: an HMAC key); undefined = the SDK's default credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  forcePathStyle: boolean;
  /** Objects larger than this are uploaded in parts (lib-storage Upload). */
  multiPartLimit: number;
  /** Part size of multipart uploads (at least 5 MiB, S3's minimum). */
  partSize: number;
  connectionTimeoutMs: number;
  socketTimeoutMs: number;
  maxConnections: number;
  /** SDK attempts per request (1 = no retry). */
  maxAttempts: number;
  /** Keys per ListObjectsV2 page (the service's maximum, 1000, when absent). */
  listPageSize?: number;
}

const MIN_PART = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The S3 driver, also used for S3-compatible stores and GCS's XML API. */
export class S3Store implements ObjectStore {
  readonly where: string;
  readonly client: S3Client;
  /** Single-attempt client for streamed bodies: a consumed stream cannot be resent by the SDK. */
  readonly putClient: S3Client;

  constructor(private readonly opts: S3StoreOptions) {
    this.where = `${opts.service} bucket '${opts.bucket}' at ${opts.endpoint ?? `the ${opts.region} endpoint`}`;
    const agent = { keepAlive: true, maxSockets: opts.maxConnections };
    const base = {
      region: opts.region,
      endpoint: opts.endpoint,
      forcePathStyle: opts.forcePathStyle,
      credentials: opts.credentials,
      // Without these the SDK adds checksum trailers to streamed bodies (aws-chunked), which
      // S3-compatible stores such as s3rver and older MinIO/GCS XML store as part of the object.
      requestChecksumCalculation: 'WHEN_REQUIRED' as const,
      responseChecksumValidation: 'WHEN_REQUIRED' as const,
      requestHandler: {
        connectionTimeout: opts.connectionTimeoutMs,
        socketTimeout: opts.socketTimeoutMs,
        httpAgent: agent,
        httpsAgent: agent,
      },
    };
    this.client = new S3Client({ ...base, maxAttempts: opts.maxAttempts });
    this.putClient = new S3Client({ ...base, maxAttempts: 1 });
  }

  /** Maps an SDK failure to ITEM_NOT_FOUND (missing object) or UNAVAILABLE naming the bucket. */
  fail(err: unknown, action: string, key?: string): ArcaError {
    if (err instanceof ArcaError) return err;
    const e = (err ?? {}) as SdkError;
    const status = e.$metadata?.httpStatusCode;
    // Error responses to HEAD have no body: the SDK then names the error 'Unknown'.
    const name = e.name === 'Unknown' ? (status === 403 ? 'Forbidden' : status === 404 ? 'NotFound' : '') : (e.name ?? '');
    const details = { bucket: this.opts.bucket, endpoint: this.opts.endpoint, key, sdkError: name || e.code, status };
    if (name === 'NoSuchKey' || (name === 'NotFound' && key !== undefined)) {
      return new ArcaError('ITEM_NOT_FOUND', `Object '${key}' not found in ${this.where}`, details, err);
    }
    if (name === 'InvalidRange' || status === 416) {
      return new ArcaError('RANGE_NOT_SATISFIABLE', `Range not satisfiable for '${key}' in ${this.where}`, details, err);
    }
    let why: string;
    if (name === 'NoSuchBucket' || (name === 'NotFound' && key === undefined)) why = 'the bucket does not exist';
    else if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'Forbidden', 'CredentialsProviderError'].includes(name) || status === 403 || status === 401) {
      why = `access denied (${name || status}): check identity/credential or the instance credentials`;
    } else if (TRANSIENT_CODES.has(e.code ?? '') || TRANSIENT_CODES.has(name) || name === 'TimeoutError' || name === 'RequestTimeout') {
      why = `the service cannot be reached (${e.code ?? name}: ${e.message ?? ''})`;
    } else if (status !== undefined && status >= 500) why = `the service answered ${status} ${name}`;
    else why = `${name || e.code || 'error'}: ${e.message ?? String(err)}`;
    return new ArcaError('UNAVAILABLE', `${action} failed: ${this.where}: ${why}`, details, err);
  }

  async head(key: string): Promise<number | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.opts.bucket, Key: key }));
      return out.ContentLength ?? 0;
    } catch (err) {
      const e = err as SdkError;
      if (e.$metadata?.httpStatusCode === 404 || e.name === 'NotFound' || e.name === 'NoSuchKey') return undefined;
      throw this.fail(err, `Looking up '${key}'`);
    }
  }

  async get(key: string, range?: ByteRange): Promise<ObjectBody> {
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.opts.bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
      );
      return { stream: out.Body as Readable, length: out.ContentLength };
    } catch (err) {
      throw this.fail(err, `Reading '${key}'`, key);
    }
  }

  async put(key: string, file: string, size: number): Promise<void> {
    if (size > this.opts.multiPartLimit) return this.putMultipart(key, file, size);
    let attempt = 0;
    for (;;) {
      attempt++;
      const body = createReadStream(file);
      try {
        await this.putClient.send(new PutObjectCommand({ Bucket: this.opts.bucket, Key: key, Body: body, ContentLength: size }));
        return;
      } catch (err) {
        const failure = this.fail(err, `Uploading '${key}'`);
        const transient = failure.details?.status === undefined || (failure.details.status as number) >= 500;
        if (attempt >= this.opts.maxAttempts || !transient) throw failure;
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      } finally {
        body.destroy();
      }
    }
  }

  private async putMultipart(key: string, file: string, size: number): Promise<void> {
    const partSize = Math.max(MIN_PART, this.opts.partSize, Math.ceil(size / MAX_PARTS));
    const body = createReadStream(file, { highWaterMark: 1 << 20 });
    try {
      // Parts are read from the file one at a time, so at most queueSize parts are in memory.
      const upload = new Upload({ client: this.client, params: { Bucket: this.opts.bucket, Key: key, Body: body }, partSize, queueSize: 4, leavePartsOnError: false });
      await upload.done();
    } catch (err) {
      throw this.fail(err, `Uploading '${key}' in parts`);
    } finally {
      body.destroy();
    }
  }

  async remove(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.opts.bucket, Key: key }));
    } catch (err) {
      throw this.fail(err, `Deleting '${key}'`);
    }
  }

  async *list(prefix: string): AsyncIterable<{ key: string; mtimeMs: number }> {
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.opts.bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: this.opts.listPageSize }));
      } catch (err) {
        throw this.fail(err, `Listing '${prefix}'`);
      }
      for (const o of page.Contents ?? []) {
        if (o.Key) yield { key: o.Key, mtimeMs: o.LastModified?.getTime() ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async presign(key: string, expirySeconds: number): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.opts.bucket, Key: key }), { expiresIn: expirySeconds });
  }

  /** Throws UNAVAILABLE naming the bucket when it is missing or not accessible. */
  async headBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.opts.bucket }));
    } catch (err) {
      throw this.fail(err, 'Checking the bucket');
    }
  }

  async createBucket(): Promise<void> {
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.opts.bucket }));
    } catch (err) {
      const name = (err as SdkError).name;
      if (name === 'BucketAlreadyOwnedByYou' || name === 'BucketAlreadyExists') return;
      throw this.fail(err, 'Creating the bucket');
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
    this.putClient.destroy();
  }
}
