import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ItemRow, PropertyMap } from '../../db/items.js';
import type { BackupCounts, ItemRecord, ManifestFile } from './backup-format.js';

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
  line(value: unknown): Promise<void> {
    return this.raw(JSON.stringify(value) + '\n');
  }
  /** Appends text as it is (ending it with a newline is the caller's business). */
  async raw(text: string): Promise<void> {
    if (this.failed) throw this.failed;
    const buf = Buffer.from(text);
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

/** The records of a JSON-lines file, one at a time. */
export async function* lines<T>(file: string): AsyncIterable<T> {
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) if (line.trim() !== '') yield JSON.parse(line) as T;
}

export async function jsonFile(root: string, path: string, value: unknown): Promise<ManifestFile> {
  const buf = Buffer.from(JSON.stringify(value, null, 2) + '\n');
  await writeFile(join(root, path), buf);
  return { path, size: buf.length, sha256: createHash('sha256').update(buf).digest('hex') };
}

/**
 * Writes item rows as backup records (with their properties), counting them and collecting
 * the binaries they reference. The key and the generated columns stay out: a restore makes
 * them again. Returns the path keys written.
 */
export async function writeItemRecords(
  rows: ItemRow[],
  props: Map<number, PropertyMap>,
  out: LineFile,
  counts: BackupCounts,
  referenced: Set<string>,
): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const { id, path_key, name_lc: _folded, ...r } of rows) {
    keys.add(path_key);
    const properties = props.get(Number(id)) ?? {};
    const record: ItemRecord = { ...r, type: r.type, size: Number(r.size), properties };
    await out.line(record);
    counts.items++;
    if (r.type === 'file') counts.files++;
    else counts.folders++;
    counts.properties += Object.values(properties).reduce((n, v) => n + v.length, 0);
    if (r.sha1) referenced.add(r.sha1);
  }
  return keys;
}
