import { open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ArcaError, fromSystemError } from '../../core/errors.js';
import type { BinaryInfo, StageOptions } from '../binary-provider.js';
import { BatchWriter } from '../batch-writer.js';
import { directIoSupported } from '../direct-io.js';
import { parseTempName, tempName, tempOwner } from '../temp-files.js';
import { processAlive } from '../temp-sweep.js';

export interface StagedFile extends BinaryInfo {
  /** The temp file holding the bytes (fsynced when asked). */
  path: string;
}

/** How a staging file is written. */
export interface StagingFileOptions {
  /** fsync the file before it is returned (default true). */
  fsync?: boolean;
  /** File name prefix (default `upload-`; see temp-files.ts for the rest of the name). */
  prefix?: string;
  /**
   * Write large files with O_DIRECT where `dir`'s file system allows it (default false): for
   * files that stay where they are written; a file read back soon after is better left in
   * the page cache.
   */
  directIo?: boolean;
}

/**
 * Streams `source` into a new temp file under `dir` while computing its checksums, honouring
 * the abort signal and size limit of `options`. On any failure the temp file is removed and
 * the error (mapped from the file system where it means "full" or "not writable") is thrown.
 */
export async function stageToFile(
  source: AsyncIterable<Uint8Array>,
  dir: string,
  options: StageOptions = {},
  { fsync = true, prefix = 'upload-', directIo = false }: StagingFileOptions = {},
): Promise<StagedFile> {
  const path = join(dir, tempName(prefix));
  let writer: BatchWriter | undefined;
  try {
    const direct = directIo && (await directIoSupported(dir));
    writer = new BatchWriter(await open(path, 'wx', 0o600), fsync, options.md5 !== false, direct ? path : undefined);
    for await (const chunk of source) {
      if (options.signal?.aborted) throw new ArcaError('UPLOAD_ABORTED', 'Upload aborted by the client');
      if (options.maxSize !== undefined && writer.size + chunk.length > options.maxSize) {
        throw new ArcaError('BAD_REQUEST', `Upload larger than the limit of ${options.maxSize} bytes`);
      }
      await writer.add(chunk);
    }
    if (options.signal?.aborted) throw new ArcaError('UPLOAD_ABORTED', 'Upload aborted by the client');
    const info = await writer.finish();
    return { ...info, path };
  } catch (err) {
    await writer?.abandon();
    await rm(path, { force: true });
    throw fromSystemError(err, 'the upload');
  }
}

/**
 * Removes the `prefix`ed files under `dir` older than `olderThanMs` (left behind by a crash):
 * legacy names and files of processes gone from this host, never those of a process still
 * running here (an upload may pause) nor another host's. The node's temp sweep
 * (temp-sweep.ts) is the thorough one; this is what garbage collection adds.
 */
export async function cleanStaleFiles(dir: string, olderThanMs: number, now = Date.now(), prefix = 'upload-'): Promise<number> {
  let removed = 0;
  const self = tempOwner();
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    const owner = parseTempName(name)?.owner;
    // Another host's file may be an upload in flight on a shared mount: the node's temp sweep,
    // which knows the registry, decides on those.
    if (owner && (owner.host !== self.host || owner.pid === self.pid || processAlive(owner.pid))) continue;
    const file = join(dir, name);
    const st = await stat(file).catch(() => undefined);
    if (st && now - st.mtimeMs > olderThanMs) {
      await rm(file, { force: true });
      removed++;
    }
  }
  return removed;
}
