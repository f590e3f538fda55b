import { mkdir, readdir, rm } from 'node:fs/promises';
import type { BinaryInfo, StageOptions } from '../binary-provider.js';
import { cleanStaleFiles, stageToFile } from '../wrappers/staging-file.js';
import { registerTempDir } from '../temp-files.js';

const PREFIX = 'upload-';

/**
 * The local staging area of an object-store provider: uploads are streamed into a temp file
 * while their checksums are computed (so the object's name, its SHA-1, is known before
 * anything is sent), and the file is uploaded on commit.
 */
export class LocalStaging {
  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    registerTempDir(this.dir);
  }

  /** Streams `source` into a new temp file; on any failure the file is removed. */
  async write(source: AsyncIterable<Uint8Array>, options: StageOptions = {}): Promise<{ info: BinaryInfo; file: string }> {
    // No fsync: the file only has to outlive this process until the upload is done.
    const { path, ...info } = await stageToFile(source, this.dir, options, { fsync: false, prefix: PREFIX });
    return { info, file: path };
  }

  async remove(file: string): Promise<void> {
    await rm(file, { force: true });
  }

  /** Names of the files in the staging area. */
  async entries(): Promise<string[]> {
    return (await readdir(this.dir).catch(() => [] as string[])).filter((n) => n.startsWith(PREFIX));
  }

  /** Removes staging files left behind by a crash (older than `olderThanMs`). */
  async clean(olderThanMs: number, now = Date.now()): Promise<number> {
    return cleanStaleFiles(this.dir, olderThanMs, now, PREFIX);
  }
}
