import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BinaryProvider, ByteRange, StagedBinary, StageOptions } from '../binary-provider.js';
import type { LocalStaging } from './local-staging.js';
import type { ObjectKeys } from './object-keys.js';

/** A fetched object: its body and the number of bytes the store says it will send. */
export interface ObjectBody {
  stream: Readable;
  length?: number;
}

/**
 * The thin driver one object store (S3 and its compatibles, Azure Blob) implements; the
 * provider around it adds staging, checksums, key layout and the provider contract.
 * Drivers map their SDK's failures to ArcaErrors: ITEM_NOT_FOUND for a missing object,
 * UNAVAILABLE (naming the bucket or container and the endpoint) for everything else.
 */
export interface ObjectStore {
  /** e.g. `S3 bucket 'arca' at https://s3.eu-west-1.amazonaws.com`, for logs and errors. */
  readonly where: string;
  /** The object's size, or undefined when it does not exist. */
  head(key: string): Promise<number | undefined>;
  get(key: string, range?: ByteRange): Promise<ObjectBody>;
  /** Uploads a local file of `size` bytes as the object `key`, streaming it. */
  put(key: string, file: string, size: number): Promise<void>;
  remove(key: string): Promise<void>;
  list(prefix: string): AsyncIterable<{ key: string; mtimeMs: number }>;
  /** A time-limited GET URL for the object; absent when the store cannot presign. */
  presign?(key: string, expirySeconds: number): Promise<string>;
  close?(): Promise<void>;
}

export interface PresignOptions {
  expirySeconds: number;
  /** Binaries smaller than this are served through the node. */
  minSize: number;
}

export interface ObjectStoreProviderOptions {
  type: string;
  store: ObjectStore;
  keys: ObjectKeys;
  staging: LocalStaging;
  /** Set when downloads should be redirected to presigned URLs. */
  presign?: PresignOptions;
}

/** Yields exactly `n` bytes of `source` (guards against stores that answer a range with more). */
function take(source: Readable, n: number): Readable {
  return Readable.from(
    (async function* () {
      let left = n;
      try {
        for await (const chunk of source) {
          const c = chunk as Buffer;
          if (c.length >= left) {
            if (left > 0) yield c.subarray(0, left);
            return;
          }
          left -= c.length;
          yield c;
        }
      } finally {
        source.destroy();
      }
    })(),
    { objectMode: false },
  );
}

/**
 * A BinaryProvider on an object store. Uploads are staged in a local temp file while their
 * checksums are computed and uploaded on commit (skipped when an object of the same SHA-1
 * and size is already there); a failed commit keeps the staged file so it can be retried.
 */
export class ObjectStoreProvider implements BinaryProvider {
  readonly type: string;
  readonly store: ObjectStore;
  readonly keys: ObjectKeys;
  readonly staging: LocalStaging;
  private readonly presign?: PresignOptions;

  constructor(opts: ObjectStoreProviderOptions) {
    this.type = opts.type;
    this.store = opts.store;
    this.keys = opts.keys;
    this.staging = opts.staging;
    this.presign = opts.presign;
  }

  async stage(source: AsyncIterable<Uint8Array>, options?: StageOptions): Promise<StagedBinary> {
    const { info, file } = await this.staging.write(source, options);
    let done = false;
    return {
      ...info,
      commit: async () => {
        if (done) return;
        const key = this.keys.keyOf(info.sha1);
        if ((await this.store.head(key)) !== info.size) {
          try {
            await this.store.put(key, file, info.size);
          } catch (err) {
            // The object may be complete all the same: a concurrent upload of the same content
            // won (Azure drops our uncommitted blocks), or a slow completion was retried.
            if ((await this.store.head(key).catch(() => undefined)) !== info.size) throw err;
          }
        }
        await this.staging.remove(file);
        done = true;
      },
      discard: async () => {
        if (done) return;
        done = true;
        await this.staging.remove(file);
      },
    };
  }

  async exists(sha1: string): Promise<boolean> {
    return (await this.size(sha1)) !== undefined;
  }

  size(sha1: string): Promise<number | undefined> {
    return this.store.head(this.keys.keyOf(sha1));
  }

  async read(sha1: string, range?: ByteRange): Promise<Readable> {
    const body = await this.store.get(this.keys.keyOf(sha1), range);
    if (range && body.length !== undefined && body.length > range.end - range.start + 1) {
      return take(body.stream, range.end - range.start + 1);
    }
    return body.stream;
  }

  async readBuffer(sha1: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of await this.read(sha1)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  async delete(sha1: string): Promise<boolean> {
    const key = this.keys.keyOf(sha1);
    if ((await this.store.head(key)) === undefined) return false;
    await this.store.remove(key);
    return true;
  }

  async *list(): AsyncIterable<{ sha1: string; mtimeMs: number }> {
    for await (const o of this.store.list(this.keys.prefix)) {
      const sha1 = this.keys.sha1Of(o.key);
      if (sha1) yield { sha1, mtimeMs: o.mtimeMs };
    }
  }

  /** Writes, reads back and removes a small probe object (proves the credentials can write). */
  async check(): Promise<void> {
    const key = `${this.keys.prefix}.arca-check-${randomUUID()}`;
    const file = await this.staging.write((async function* () {
      yield Buffer.from('arca storage check\n');
    })());
    try {
      await this.store.put(key, file.file, file.info.size);
      await this.store.remove(key);
    } finally {
      await this.staging.remove(file.file);
    }
  }

  async downloadUrl(sha1: string, size?: number): Promise<string | undefined> {
    if (!this.presign || !this.store.presign) return undefined;
    if (size !== undefined && size < this.presign.minSize) return undefined;
    return this.store.presign(this.keys.keyOf(sha1), this.presign.expirySeconds);
  }

  /** Removes staging files left by a crash (called by garbage collection). */
  cleanTemp(olderThanMs: number): Promise<number> {
    return this.staging.clean(olderThanMs);
  }

  async close(): Promise<void> {
    await this.store.close?.();
  }
}
