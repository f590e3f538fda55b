import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ArcaError, fromSystemError } from '../core/errors.js';
import type { BinaryInfo, BinaryProvider, ByteRange, StagedBinary, StageOptions } from './binary-provider.js';
import { BatchWriter } from './batch-writer.js';

export interface FileSystemProviderOptions {
  /** `<fileStoreDir>`: binaries live at `<fileStoreDir>/<sha1[0..2]>/<sha1>`. */
  fileStoreDir: string;
  /** Staging directory; must be on the same file system as fileStoreDir (atomic rename). */
  tempDir: string;
  /** fsync staged data before it becomes visible (default true). */
  fsync?: boolean;
}

const SHA1 = /^[0-9a-f]{40}$/;
const READ_CHUNK = 1 << 20;

function checkSha1(sha1: string): void {
  if (!SHA1.test(sha1)) throw new ArcaError('BAD_REQUEST', `Not a SHA-1 checksum: '${sha1}'`);
}

/** The seed's `file-system` provider: one file per binary under a two-hex-character shard folder. */
export class FileSystemProvider implements BinaryProvider {
  readonly type = 'file-system';
  private readonly knownDirs = new Set<string>();
  private readonly fsync: boolean;

  constructor(private readonly opts: FileSystemProviderOptions) {
    this.fsync = opts.fsync ?? true;
  }

  pathOf(sha1: string): string {
    return join(this.opts.fileStoreDir, sha1.slice(0, 2), sha1);
  }

  async init(): Promise<this> {
    await mkdir(this.opts.fileStoreDir, { recursive: true });
    await mkdir(this.opts.tempDir, { recursive: true });
    return this;
  }

  async stage(source: AsyncIterable<Uint8Array>, options: StageOptions = {}): Promise<StagedBinary> {
    const tmp = join(this.opts.tempDir, `upload-${randomUUID()}.tmp`);
    let writer: BatchWriter | undefined;
    let info: BinaryInfo;
    try {
      writer = new BatchWriter(await open(tmp, 'wx'), this.fsync);
      for await (const chunk of source) {
        if (options.signal?.aborted) throw new ArcaError('UPLOAD_ABORTED', 'Upload aborted by the client');
        if (options.maxSize !== undefined && writer.size + chunk.length > options.maxSize) {
          throw new ArcaError('BAD_REQUEST', `Upload larger than the limit of ${options.maxSize} bytes`);
        }
        await writer.add(chunk);
      }
      if (options.signal?.aborted) throw new ArcaError('UPLOAD_ABORTED', 'Upload aborted by the client');
      info = await writer.finish();
    } catch (err) {
      await writer?.abandon();
      await rm(tmp, { force: true });
      throw fromSystemError(err, 'the upload');
    }
    let done = false;
    return {
      ...info,
      commit: async () => {
        if (done) return;
        const target = this.pathOf(info.sha1);
        try {
          const existing = await stat(target).catch(() => undefined);
          if (existing && existing.size === info.size) {
            await unlink(tmp);
          } else {
            await this.ensureDir(info.sha1);
            await rename(tmp, target);
          }
          done = true;
        } catch (err) {
          throw fromSystemError(err, 'the binary');
        }
      },
      discard: async () => {
        if (done) return;
        done = true;
        await rm(tmp, { force: true });
      },
    };
  }

  private async ensureDir(sha1: string): Promise<void> {
    const prefix = sha1.slice(0, 2);
    if (this.knownDirs.has(prefix)) return;
    await mkdir(join(this.opts.fileStoreDir, prefix), { recursive: true });
    this.knownDirs.add(prefix);
  }

  async exists(sha1: string): Promise<boolean> {
    return (await this.size(sha1)) !== undefined;
  }

  async size(sha1: string): Promise<number | undefined> {
    checkSha1(sha1);
    try {
      return (await stat(this.pathOf(sha1))).size;
    } catch {
      return undefined;
    }
  }

  async openFile(sha1: string): Promise<FileHandle> {
    checkSha1(sha1);
    return open(this.pathOf(sha1), 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new ArcaError('ITEM_NOT_FOUND', `Binary ${sha1} is missing from the file store`);
      throw err;
    });
  }

  async read(sha1: string, range?: ByteRange): Promise<Readable> {
    // Open first so a missing binary is reported before any byte is sent.
    const fh = await this.openFile(sha1);
    return createReadStream('', { fd: fh, start: range?.start, end: range?.end, highWaterMark: READ_CHUNK });
  }

  async readBuffer(sha1: string): Promise<Buffer> {
    checkSha1(sha1);
    try {
      return await readFile(this.pathOf(sha1));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ArcaError('ITEM_NOT_FOUND', `Binary ${sha1} is missing from the file store`);
      throw err;
    }
  }

  async delete(sha1: string): Promise<boolean> {
    checkSha1(sha1);
    try {
      await unlink(this.pathOf(sha1));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  async *list(): AsyncIterable<{ sha1: string; mtimeMs: number }> {
    let dirs: string[];
    try {
      dirs = await readdir(this.opts.fileStoreDir);
    } catch {
      return;
    }
    for (const d of dirs.sort()) {
      if (!/^[0-9a-f]{2}$/.test(d)) continue;
      const entries = await readdir(join(this.opts.fileStoreDir, d)).catch(() => [] as string[]);
      for (const name of entries) {
        if (!SHA1.test(name) || !name.startsWith(d)) continue;
        const st = await stat(join(this.opts.fileStoreDir, d, name)).catch(() => undefined);
        if (st) yield { sha1: name, mtimeMs: st.mtimeMs };
      }
    }
  }

  async check(): Promise<void> {
    const probe = join(this.opts.tempDir, `.probe-${process.pid}`);
    await writeFile(probe, 'ok');
    await unlink(probe);
  }

  /** Removes staging files left behind by a crash (older than `olderThanMs`). */
  async cleanTemp(olderThanMs: number, now = Date.now()): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.opts.tempDir).catch(() => [] as string[])) {
      if (!name.startsWith('upload-')) continue;
      const file = join(this.opts.tempDir, name);
      const st = await stat(file).catch(() => undefined);
      if (st && now - st.mtimeMs > olderThanMs) {
        await rm(file, { force: true });
        removed++;
      }
    }
    return removed;
  }
}
