/**
 * Decompression of untrusted data with bounds. zlib runs on the thread pool (never the
 * synchronous `gunzipSync`/`inflateSync` on a request path), output is handed on as it is
 * produced and never collected here, and the work stops with a BAD_REQUEST as soon as the
 * output passes an absolute cap or a ratio to the compressed bytes read so far: a
 * decompression bomb costs at most about `maxRatio` × its input, never its nominal size.
 */
import { createGunzip, createInflateRaw, type Gunzip, type InflateRaw } from 'node:zlib';
import { ArcaError } from './errors.js';

export interface InflateLimits {
  /** Most bytes the data may unpack to. */
  maxBytes: number;
  /** Most unpacked bytes per compressed byte read so far (past the allowance). */
  maxRatio: number;
  /** Unpacked bytes allowed whatever the ratio: small files may compress very well. */
  allowance: number;
}

export interface BoundedInflaterOptions {
  format: 'gzip' | 'deflate-raw';
  limits: InflateLimits;
  /** What is being unpacked, for messages: "The package tarball". */
  what: string;
  /** Receives each piece of output; a throw stops the inflater with that error. */
  onData: (chunk: Buffer) => void;
}

const CHUNK = 64 * 1024;

export class BoundedInflater {
  private readonly zlib: Gunzip | InflateRaw;
  private failure: Error | undefined;
  private ended = false;
  private waiters: Array<{ event: 'drain' | 'end'; resolve: () => void; reject: (err: Error) => void }> = [];
  bytesIn = 0;
  bytesOut = 0;

  constructor(private readonly options: BoundedInflaterOptions) {
    this.zlib = options.format === 'gzip' ? createGunzip({ chunkSize: CHUNK }) : createInflateRaw({ chunkSize: CHUNK });
    this.zlib.on('data', (out: Buffer) => this.output(out));
    this.zlib.on('error', (err) => this.fail(new ArcaError('BAD_REQUEST', `${options.what} cannot be decompressed: ${err.message}`)));
    this.zlib.on('drain', () => this.settle('drain'));
    this.zlib.on('end', () => {
      this.ended = true;
      this.settle('end');
    });
  }

  private output(out: Buffer): void {
    if (this.failure) return;
    this.bytesOut += out.length;
    const { maxBytes, maxRatio, allowance } = this.options.limits;
    if (this.bytesOut > maxBytes) {
      return this.fail(new ArcaError('BAD_REQUEST', `${this.options.what} unpacks to more than ${maxBytes} bytes, the limit`));
    }
    if (this.bytesOut > allowance && this.bytesOut > maxRatio * this.bytesIn) {
      return this.fail(new ArcaError('BAD_REQUEST', `${this.options.what} unpacks to more than ${maxRatio} times its compressed size, the limit`));
    }
    try {
      this.options.onData(out);
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.zlib.destroy();
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w.reject(err);
  }

  private settle(event: 'drain' | 'end'): void {
    const keep = [];
    for (const w of this.waiters) {
      if (w.event === event) w.resolve();
      else keep.push(w);
    }
    this.waiters = keep;
  }

  private wait(event: 'drain' | 'end'): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (event === 'end' && this.ended) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ event, resolve, reject }));
  }

  /** Feeds compressed bytes; resolves when zlib can take more (rejects once the inflater failed). */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    this.bytesIn += chunk.length;
    if (!this.zlib.write(chunk)) await this.wait('drain');
    if (this.failure) throw this.failure;
  }

  /** After the last compressed byte: resolves once every output byte was handed on. */
  async end(): Promise<void> {
    if (this.failure) throw this.failure;
    this.zlib.end();
    await this.wait('end');
    if (this.failure) throw this.failure;
  }

  /** Stops the work (the caller gave up); nothing more is handed on. */
  destroy(): void {
    if (!this.failure) this.failure = new ArcaError('BAD_REQUEST', `${this.options.what}: decompression stopped`);
    this.waiters = [];
    this.zlib.destroy();
  }
}

/** Unpacks a small buffer completely, within the limits (for a zip entry kept in memory). */
export async function inflateBounded(data: Uint8Array, options: Omit<BoundedInflaterOptions, 'onData'>): Promise<Buffer> {
  const parts: Buffer[] = [];
  const inflater = new BoundedInflater({ ...options, onData: (c) => parts.push(c) });
  try {
    for (let off = 0; off < data.length; off += CHUNK) await inflater.write(data.subarray(off, off + CHUNK));
    await inflater.end();
  } catch (err) {
    inflater.destroy();
    throw err;
  }
  return Buffer.concat(parts);
}
