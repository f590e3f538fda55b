import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { storePath } from '../config/binarystore.js';
import { PRIVATE_DIR_MODE } from '../config/private-modes.js';
import { systemClock, type Clock } from '../core/clock.js';
import { ArcaError, fromSystemError, ConfigError } from '../core/errors.js';
import type { BinaryProvider, ByteRange, StagedBinary, StageOptions } from './binary-provider.js';
import type { BuildContext, ProviderNode, ProviderType } from './chain/types.js';
import { isSha1 } from './guard/sha1-key.js';
import { cleanStaleFiles, stageToFile } from './wrappers/staging-file.js';
import { registerTempDir } from './temp-files.js';

export interface FileSystemProviderOptions {
  /** `<fileStoreDir>`: binaries live at `<fileStoreDir>/<sha1[0..2]>/<sha1>`. */
  fileStoreDir: string;
  /** Staging directory; must be on the same file system as fileStoreDir (atomic rename). */
  tempDir: string;
  /** fsync staged data before it becomes visible (default true). */
  fsync?: boolean;
  /** Write uploads larger than one batch with O_DIRECT where the file system allows it (default true; see direct-io.ts). */
  directIo?: boolean;
  /** The type name reported (`file-system`, or `state-aware` for a shard). */
  type?: 'file-system' | 'state-aware';
  /** state-aware `writeEnabled`: false makes the store read-only (reads and deletes only). */
  writeEnabled?: boolean;
  /** state-aware `zone` (local or remote), read by cross-network sharding strategies. */
  zone?: string;
  /** state-aware `checkPeriod`: how long an availability result is reused, in ms (default 15000). */
  checkPeriodMs?: number;
  clock?: Clock;
}

const READ_CHUNK = 1 << 20;

/**
 * The seed's `file-system` provider: one file per binary under a two-hex-character shard
 * folder. Also the `state-aware` shard of sharding providers (read-only when writeEnabled is
 * false, with a zone and a periodic availability check).
 *
 * Nothing here remembers that a binary is absent: every lookup asks the file system, so a
 * binary written by another node on a shared mount (NFS) is visible at once. The only
 * memory is of shard folders that exist, and a folder removed behind our back is recreated.
 */
export class FileSystemProvider implements BinaryProvider {
  readonly type: 'file-system' | 'state-aware';
  readonly writeEnabled: boolean;
  readonly zone?: string;
  private readonly knownDirs = new Set<string>();
  private readonly fsync: boolean;
  private readonly clock: Clock;
  private lastCheck?: { at: number; ok: boolean };

  constructor(private readonly opts: FileSystemProviderOptions) {
    this.fsync = opts.fsync ?? true;
    this.type = opts.type ?? 'file-system';
    this.writeEnabled = opts.writeEnabled ?? true;
    this.zone = opts.zone;
    this.clock = opts.clock ?? systemClock;
  }

  get fileStoreDir(): string {
    return this.opts.fileStoreDir;
  }

  get tempDir(): string {
    return this.opts.tempDir;
  }

  pathOf(sha1: string): string {
    return join(this.opts.fileStoreDir, sha1.slice(0, 2), sha1);
  }

  /**
   * Creates both directories and checks they are on one file system: a staged binary becomes
   * visible by rename, which cannot cross file systems (EXDEV).
   */
  async init(): Promise<this> {
    await mkdir(this.opts.fileStoreDir, { recursive: true, mode: PRIVATE_DIR_MODE });
    await mkdir(this.opts.tempDir, { recursive: true, mode: PRIVATE_DIR_MODE });
    registerTempDir(this.opts.tempDir);
    const [store, temp] = await Promise.all([stat(this.opts.fileStoreDir), stat(this.opts.tempDir)]);
    if (store.dev !== temp.dev) {
      throw new ConfigError(
        `${this.type}: tempDir ${this.opts.tempDir} and fileStoreDir ${this.opts.fileStoreDir} are on different file systems; ` +
          'staged binaries are made visible by rename, so tempDir must be on the file system of fileStoreDir',
      );
    }
    return this;
  }

  async stage(source: AsyncIterable<Uint8Array>, options: StageOptions = {}): Promise<StagedBinary> {
    if (!this.writeEnabled) throw new ArcaError('UNAVAILABLE', `The ${this.type} store at ${this.opts.fileStoreDir} is read-only (writeEnabled=false)`);
    const { path: tmp, ...info } = await stageToFile(source, this.opts.tempDir, options, { fsync: this.fsync, directIo: this.opts.directIo ?? true });
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
            await rename(tmp, target).catch(async (err: NodeJS.ErrnoException) => {
              // The shard folder was removed behind our back (another node, a cleanup): recreate it once.
              if (err.code !== 'ENOENT') throw err;
              this.knownDirs.delete(info.sha1.slice(0, 2));
              await this.ensureDir(info.sha1);
              await rename(tmp, target);
            });
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
    await mkdir(join(this.opts.fileStoreDir, prefix), { recursive: true, mode: PRIVATE_DIR_MODE });
    this.knownDirs.add(prefix);
  }

  async exists(sha1: string): Promise<boolean> {
    return (await this.size(sha1)) !== undefined;
  }

  async size(sha1: string): Promise<number | undefined> {
    try {
      return (await stat(this.pathOf(sha1))).size;
    } catch {
      return undefined;
    }
  }

  async openFile(sha1: string): Promise<FileHandle> {
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
    try {
      return await readFile(this.pathOf(sha1));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ArcaError('ITEM_NOT_FOUND', `Binary ${sha1} is missing from the file store`);
      throw err;
    }
  }

  async delete(sha1: string): Promise<boolean> {
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
        if (!isSha1(name) || !name.startsWith(d)) continue;
        const st = await stat(join(this.opts.fileStoreDir, d, name)).catch(() => undefined);
        if (st) yield { sha1: name, mtimeMs: st.mtimeMs };
      }
    }
  }

  async check(): Promise<void> {
    const probe = join(this.opts.tempDir, `.probe-${process.pid}-${randomUUID()}`);
    await writeFile(probe, 'ok', { mode: 0o600 });
    await unlink(probe);
  }

  /**
   * Whether the store can be written, from a check at most `checkPeriod` old (state-aware
   * shards are skipped by sharding providers while unavailable).
   */
  async available(): Promise<boolean> {
    const now = this.clock.now();
    if (this.lastCheck && now - this.lastCheck.at < (this.opts.checkPeriodMs ?? 15_000)) return this.lastCheck.ok;
    const ok = await this.check().then(
      () => true,
      () => false,
    );
    this.lastCheck = { at: now, ok };
    return ok;
  }

  /** Removes staging files left behind by a crash (older than `olderThanMs`). */
  async cleanTemp(olderThanMs: number, now = Date.now()): Promise<number> {
    return cleanStaleFiles(this.opts.tempDir, olderThanMs, now);
  }
}

function bool(value: string | undefined, fallback: boolean): boolean {
  return value === undefined || value === '' ? fallback : value.trim().toLowerCase() === 'true';
}

/** fileStoreDir and tempDir of a file-system or state-aware node, relative to baseDataDir. */
export function fileSystemPaths(node: ProviderNode, ctx: Pick<BuildContext, 'dataDir'>): { baseDataDir: string; fileStoreDir: string; tempDir: string } {
  const baseDataDir = node.params.baseDataDir ? storePath(ctx.dataDir, node.params.baseDataDir) : ctx.dataDir;
  return {
    baseDataDir,
    fileStoreDir: storePath(baseDataDir, node.params.fileStoreDir || 'filestore'),
    tempDir: storePath(baseDataDir, node.params.tempDir || 'tmp'),
  };
}

/** `file-system` in binarystore.xml. */
export const fileSystemProviderType: ProviderType = {
  type: 'file-system',
  async create({ node, ctx }) {
    const { fileStoreDir, tempDir } = fileSystemPaths(node, ctx);
    return new FileSystemProvider({ fileStoreDir, tempDir, directIo: bool(node.params.directIo, true), clock: ctx.clock }).init();
  },
};

/** `state-aware` in binarystore.xml: the local shard of sharding and sharding-cluster providers. */
export const stateAwareProviderType: ProviderType = {
  type: 'state-aware',
  async create({ node, ctx }) {
    const { fileStoreDir, tempDir } = fileSystemPaths(node, ctx);
    const checkPeriodMs = Number(node.params.checkPeriod || 15_000);
    return new FileSystemProvider({
      type: 'state-aware',
      fileStoreDir,
      tempDir,
      writeEnabled: bool(node.params.writeEnabled, true),
      zone: node.params.zone || undefined,
      directIo: bool(node.params.directIo, true),
      checkPeriodMs: Number.isFinite(checkPeriodMs) ? checkPeriodMs : 15_000,
      clock: ctx.clock,
    }).init();
  },
};
