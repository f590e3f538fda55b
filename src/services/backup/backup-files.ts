import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ManifestFile } from './backup-format.js';

/** Appends lines to a file while hashing them, minding back-pressure and write errors. */
export class LineFile {
  private readonly out: WriteStream;
  private readonly hash = createHash('sha256');
  private failed: Error | undefined;
  size = 0;
  constructor(root: string, readonly path: string) {
    this.out = createWriteStream(join(root, path));
    this.out.on('error', (err) => (this.failed ??= err));
  }
  async line(value: unknown): Promise<void> {
    if (this.failed) throw this.failed;
    const buf = Buffer.from(JSON.stringify(value) + '\n');
    this.hash.update(buf);
    this.size += buf.length;
    if (this.out.write(buf)) return;
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        this.out.off('drain', done);
        this.out.off('error', done);
        if (err) reject(err);
        else resolve();
      };
      this.out.once('drain', done);
      this.out.once('error', done);
    });
  }
  async close(): Promise<ManifestFile> {
    await new Promise<void>((res, rej) => this.out.end((err?: Error | null) => (err ? rej(err) : res())));
    if (this.failed) throw this.failed;
    return { path: this.path, size: this.size, sha256: this.hash.digest('hex') };
  }
}

export async function jsonFile(root: string, path: string, value: unknown): Promise<ManifestFile> {
  const buf = Buffer.from(JSON.stringify(value, null, 2) + '\n');
  await writeFile(join(root, path), buf);
  return { path, size: buf.length, sha256: createHash('sha256').update(buf).digest('hex') };
}
