import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../core/clock.js';
import type { StageOptions } from '../binary-provider.js';
import { isSha1 } from '../guard/sha1-key.js';
import { registerTempDir, tempName } from '../temp-files.js';
import { stageToFile, type StagedFile } from './staging-file.js';
import { isEnoent } from './wrapper-support.js';

export interface PendingCounts {
  /** Binaries staged locally and not yet in the child. */
  adds: number;
  addBytes: number;
  /** Deletes not yet applied to the child. */
  deletes: number;
}

/**
 * The on-disk queue of the eventual providers, under one directory (`<baseDataDir>/eventual`):
 *
 * - `_pre/`: uploads being written (and delete markers being written);
 * - `_add/` (eventual) or `_queue/` (eventual-cluster): complete binaries waiting for upload,
 *   each named by its SHA-1, fsynced and renamed in, the directory fsynced after;
 * - `_delete/`: empty markers named by SHA-1 for deletes the child has not applied yet.
 *
 * Nothing lives in memory only, so a crash loses no acknowledged write. State changes of one
 * SHA-1 are serialised in-process by a keyed lock. When an add and a delete marker exist for
 * one SHA-1, the delete is the later intent (an add removes the marker before it renames its
 * file in; a delete writes its marker before it removes the file), so the delete wins.
 */
export class EventualQueue {
  readonly preDir: string;
  readonly addDir: string;
  readonly deleteDir: string;
  readonly corruptDir: string;
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    readonly root: string,
    queueName: '_add' | '_queue',
    private readonly fsync = true,
    /** Names quarantined files and tells the age of staging files. */
    private readonly clock: Clock = systemClock,
  ) {
    this.preDir = join(root, '_pre');
    this.addDir = join(root, queueName);
    this.deleteDir = join(root, '_delete');
    this.corruptDir = join(root, '_corrupt');
  }

  async init(): Promise<this> {
    for (const d of [this.preDir, this.addDir, this.deleteDir]) await mkdir(d, { recursive: true, mode: 0o700 });
    registerTempDir(this.preDir);
    return this;
  }

  addPath(sha1: string): string {
    return join(this.addDir, sha1);
  }

  deletePath(sha1: string): string {
    return join(this.deleteDir, sha1);
  }

  /** Runs `fn` while no other state change of `sha1` runs in this process. */
  async withLock<T>(sha1: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(sha1) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(sha1, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(sha1) === tail) this.locks.delete(sha1);
    }
  }

  /** Writes an upload into `_pre` with its checksums (nothing is queued yet). */
  stage(source: AsyncIterable<Uint8Array>, options?: StageOptions): Promise<StagedFile> {
    return stageToFile(source, this.preDir, options, { fsync: this.fsync });
  }

  /** Queues a staged file for upload: cancels a pending delete, then renames the file in. */
  async enqueueAdd(tmpPath: string, sha1: string): Promise<void> {
    await this.withLock(sha1, async () => {
      await rm(this.deletePath(sha1), { force: true });
      await rename(tmpPath, this.addPath(sha1));
      await this.syncDir(this.addDir);
    });
  }

  /** Records a delete for the child (marker first), then drops a queued upload of the same binary. Returns whether an upload was queued. */
  async enqueueDelete(sha1: string): Promise<boolean> {
    return this.withLock(sha1, async () => {
      const tmp = join(this.preDir, tempName('delete-'));
      const fh = await open(tmp, 'wx', 0o600);
      try {
        if (this.fsync) await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.deletePath(sha1));
      await this.syncDir(this.deleteDir);
      return this.unlinkIfThere(this.addPath(sha1));
    });
  }

  /** A worker takes a delete: false when it was cancelled by a later add; else drops a queued upload still there. */
  async claimDelete(sha1: string): Promise<boolean> {
    return this.withLock(sha1, async () => {
      if (!(await this.hasDelete(sha1))) return false;
      await this.unlinkIfThere(this.addPath(sha1));
      return true;
    });
  }

  /** The child has the binary: the staged copy goes. */
  async finishUpload(sha1: string): Promise<void> {
    await this.withLock(sha1, () => this.unlinkIfThere(this.addPath(sha1)));
  }

  /** The child applied the delete: the marker goes. */
  async finishDelete(sha1: string): Promise<void> {
    await this.withLock(sha1, () => this.unlinkIfThere(this.deletePath(sha1)));
  }

  /** Moves a staged file whose bytes no longer match its name aside, for an operator to look at. */
  async quarantine(sha1: string): Promise<string> {
    await mkdir(this.corruptDir, { recursive: true });
    const target = join(this.corruptDir, `${sha1}-${this.clock.now()}`);
    await this.withLock(sha1, () => rename(this.addPath(sha1), target).catch(() => undefined));
    return target;
  }

  /** Size of a queued binary, or undefined. */
  async addedSize(sha1: string): Promise<number | undefined> {
    try {
      return (await stat(this.addPath(sha1))).size;
    } catch (err) {
      if (isEnoent(err)) return undefined;
      throw err;
    }
  }

  async hasDelete(sha1: string): Promise<boolean> {
    try {
      await stat(this.deletePath(sha1));
      return true;
    } catch (err) {
      if (isEnoent(err)) return false;
      throw err;
    }
  }

  listAdds(): Promise<string[]> {
    return this.names(this.addDir);
  }

  listDeletes(): Promise<string[]> {
    return this.names(this.deleteDir);
  }

  async pending(): Promise<PendingCounts> {
    const deletes = await this.listDeletes();
    const deleted = new Set(deletes);
    let adds = 0;
    let addBytes = 0;
    for (const sha1 of await this.listAdds()) {
      if (deleted.has(sha1)) continue;
      const size = await this.addedSize(sha1);
      if (size === undefined) continue;
      adds++;
      addBytes += size;
    }
    return { adds, addBytes, deletes: deletes.length };
  }

  /** Removes files in `_pre` untouched for `olderThanMs` (writes a crash interrupted); returns how many. */
  async cleanStale(olderThanMs: number, now = this.clock.now()): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.preDir).catch(() => [] as string[])) {
      const file = join(this.preDir, name);
      const st = await stat(file).catch(() => undefined);
      if (st && now - st.mtimeMs > olderThanMs) {
        await rm(file, { force: true, recursive: true });
        removed++;
      }
    }
    return removed;
  }

  private async names(dir: string): Promise<string[]> {
    try {
      return (await readdir(dir)).filter(isSha1);
    } catch (err) {
      if (isEnoent(err)) return [];
      throw err;
    }
  }

  private async unlinkIfThere(path: string): Promise<boolean> {
    try {
      await unlink(path);
      return true;
    } catch (err) {
      if (isEnoent(err)) return false;
      throw err;
    }
  }

  private async syncDir(dir: string): Promise<void> {
    if (!this.fsync) return;
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}
