import { createReadStream } from 'node:fs';
import { registerTempDir } from '../temp-files.js';
import { sweepLocalTemp } from '../temp-sweep.js';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { sha1Hex } from '../../core/digests.js';
import { ArcaError } from '../../core/errors.js';
import type { BinaryProvider, ByteRange, MaintenanceResult, StagedBinary, StageOptions } from '../binary-provider.js';
import type { ProviderType } from '../chain/types.js';
import { CacheFill } from './cache-fill.js';
import { CacheIndex } from './cache-index.js';
import { boolParam, optionalSizeParam, sizeParam } from '../chain/params.js';
import { isSha1 } from '../guard/sha1-key.js';
import { dirParam, isEnoent, notFound, requireChild, silentLog, type Logger } from './wrapper-support.js';

export interface CacheFsOptions {
  /** `cacheProviderDir`: entries live at `<cacheDir>/<sha1[0..2]>/<sha1>`, fills in `<cacheDir>/_pre`. */
  cacheDir: string;
  /** `maxCacheSize` in bytes (default 5000000000). */
  maxCacheSize?: number;
  /** `maxFileSizeLimit`: larger binaries are never cached. */
  maxFileSizeLimit?: number;
  /** `skipDuringUpload`: uploads go to the child only and the cache fills on reads. */
  skipDuringUpload?: boolean;
  /** fsync a fill before it is renamed into the cache (default true). */
  fsync?: boolean;
  log?: Logger;
}

const READ_CHUNK = 1 << 20;

/**
 * The seed's `cache-fs` provider: a bounded LRU cache of binaries on local disk in front of
 * its child. Uploads go to the child and (unless skipDuringUpload) into the cache; reads are
 * served from the cache, else streamed from the child while a fill is written beside them
 * and renamed in only once complete and verified by SHA-1. `exists`, `size` and `list` ask
 * the child, which stays the authority (another node may have deleted a binary this node
 * still caches). Cached plus reserved bytes never exceed maxCacheSize.
 */
export class CacheFsProvider implements BinaryProvider {
  readonly type = 'cache-fs';
  readonly index: CacheIndex;
  readonly downloadUrl?: (sha1: string, size?: number) => Promise<string | undefined>;
  /** Offered only when the child balances or scrubs (the maintenance tasks skip stores without them). */
  readonly balance?: (signal?: AbortSignal) => Promise<MaintenanceResult>;
  readonly scrub?: (signal?: AbortSignal) => Promise<MaintenanceResult>;
  readonly stats = { hits: 0, misses: 0, evictions: 0 };
  private readonly preDir: string;
  private readonly limit: number;
  private readonly fsync: boolean;
  private readonly log: Logger;
  /** Delete counter and the deletes that happened while fills ran, so a fill never re-adds a deleted binary. */
  private epoch = 0;
  private fills = 0;
  private readonly deletedAt = new Map<string, number>();
  private readonly knownDirs = new Set<string>();

  constructor(
    readonly child: BinaryProvider,
    private readonly opts: CacheFsOptions,
  ) {
    const max = opts.maxCacheSize ?? 5_000_000_000;
    this.index = new CacheIndex(max);
    this.limit = Math.min(max, opts.maxFileSizeLimit ?? Infinity);
    this.preDir = join(opts.cacheDir, '_pre');
    this.fsync = opts.fsync ?? true;
    this.log = opts.log ?? silentLog;
    const { downloadUrl, balance, scrub } = child;
    if (balance) this.balance = (signal) => balance.call(child, signal);
    if (scrub) this.scrub = (signal) => scrub.call(child, signal);
    if (downloadUrl) this.downloadUrl = async (sha1, size) => (this.index.has(sha1) ? undefined : downloadUrl.call(child, sha1, size));
  }

  pathOf(sha1: string): string {
    return join(this.opts.cacheDir, sha1.slice(0, 2), sha1);
  }

  /** Creates the directories, clears fills left by a crash and rebuilds the index from disk (least recently used first). */
  async init(): Promise<this> {
    await mkdir(this.preDir, { recursive: true, mode: 0o700 });
    registerTempDir(this.preDir);
    // Fills of processes that are gone and of older versions (another worker of this node may be filling now).
    await sweepLocalTemp(this.preDir, 24 * 3_600_000, true);
    const found: { sha1: string; size: number; used: number }[] = [];
    for (const d of await readdir(this.opts.cacheDir)) {
      if (!/^[0-9a-f]{2}$/.test(d)) continue;
      this.knownDirs.add(d);
      for (const name of await readdir(join(this.opts.cacheDir, d)).catch(() => [] as string[])) {
        if (!isSha1(name) || !name.startsWith(d)) continue;
        const st = await stat(join(this.opts.cacheDir, d, name)).catch(() => undefined);
        if (st?.isFile()) found.push({ sha1: name, size: st.size, used: Math.max(st.atimeMs, st.mtimeMs) });
      }
    }
    found.sort((a, b) => a.used - b.used);
    for (const f of found) await this.unlinkVictims(this.index.load(f.sha1, f.size));
    return this;
  }

  private cacheable(size: number): boolean {
    return size <= this.limit;
  }

  async stage(source: AsyncIterable<Uint8Array>, options?: StageOptions): Promise<StagedBinary> {
    if (this.opts.skipDuringUpload) return this.child.stage(source, options);
    const fill = await this.startFill(this.limit, false);
    let staged: StagedBinary;
    try {
      staged = await this.child.stage(this.tee(source, fill), options);
    } catch (err) {
      await this.endFill(fill);
      throw err;
    }
    let settled = false;
    return {
      size: staged.size,
      md5: staged.md5,
      sha1: staged.sha1,
      sha256: staged.sha256,
      commit: async () => {
        await staged.commit();
        if (settled) return;
        settled = true;
        // The child hashed exactly the bytes the tee wrote; the size check catches a short fill.
        if (fill && fill.complete && !fill.failed && fill.bytes === staged.size) {
          await this.adopt(fill, staged.sha1);
        }
        await this.endFill(fill);
      },
      discard: async () => {
        await staged.discard();
        if (settled) return;
        settled = true;
        await this.endFill(fill);
      },
    };
  }

  private async *tee(source: AsyncIterable<Uint8Array>, fill: CacheFill | undefined): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      await fill?.write(chunk);
      yield chunk;
    }
    if (fill) fill.complete = true;
  }

  async exists(sha1: string): Promise<boolean> {
    return this.child.exists(sha1);
  }

  async size(sha1: string): Promise<number | undefined> {
    return this.child.size(sha1);
  }

  async read(sha1: string, range?: ByteRange): Promise<Readable> {
    const fh = await this.openCached(sha1);
    if (fh) return createReadStream('', { fd: fh, start: range?.start, end: range?.end, highWaterMark: READ_CHUNK });
    this.stats.misses++;
    // A range of an uncached binary is passed through; whole reads fill the cache.
    if (range) return this.child.read(sha1, range);
    const source = await this.child.read(sha1);
    return Readable.from(this.fillWhileStreaming(sha1, source), { objectMode: false });
  }

  private async *fillWhileStreaming(sha1: string, source: Readable): AsyncGenerator<Buffer> {
    const fill = await this.startFill(this.limit, true);
    let complete = false;
    try {
      for await (const chunk of source) {
        await fill?.write(chunk as Buffer);
        yield chunk as Buffer;
      }
      complete = true;
    } finally {
      // The caller stopped early or the child's stream broke: never leave a partial entry.
      if (!complete) {
        source.destroy();
        await this.endFill(fill);
      }
    }
    if (fill) {
      fill.complete = true;
      await this.verifyAndAdopt(fill, sha1);
      await this.endFill(fill);
    }
  }

  async readBuffer(sha1: string): Promise<Buffer> {
    if (this.index.has(sha1)) {
      try {
        const data = await readFile(this.pathOf(sha1));
        this.hit(sha1);
        return data;
      } catch (err) {
        if (!isEnoent(err)) throw err;
        this.index.remove(sha1);
      }
    }
    this.stats.misses++;
    const data = await this.child.readBuffer(sha1);
    if (this.cacheable(data.length) && sha1Hex(data) === sha1) {
      const fill = await this.startFill(this.limit, false);
      if (fill) {
        await fill.write(data);
        fill.complete = true;
        if (!fill.failed) await this.adopt(fill, sha1);
        await this.endFill(fill);
      }
    }
    return data;
  }

  /**
   * An open handle on the cached binary. On a miss the binary is fetched into the cache
   * first (a large binary the cache cannot hold comes from the child's own openFile, or is
   * spooled to an anonymous file), so downloads keep the fast path.
   */
  async openFile(sha1: string): Promise<FileHandle> {
    const hit = await this.openCached(sha1);
    if (hit) return hit;
    this.stats.misses++;
    const size = await this.child.size(sha1);
    if (size === undefined) throw notFound(sha1, 'the store');
    if (!this.cacheable(size) && this.child.openFile) return this.child.openFile(sha1);
    const source = await this.child.read(sha1);
    const fill = await this.startFill(Infinity, true);
    if (!fill) {
      source.destroy();
      if (this.child.openFile) return this.child.openFile(sha1);
      throw new ArcaError('UNAVAILABLE', `The cache directory ${this.opts.cacheDir} cannot be written`);
    }
    try {
      for await (const chunk of source) await fill.write(chunk as Buffer);
      if (fill.failed) throw fill.error;
      fill.complete = true;
      const digest = fill.digest();
      if (digest !== sha1) throw new ArcaError('CHECKSUM_MISMATCH', `The child returned data with SHA-1 ${digest} for ${sha1}`);
      await fill.close(this.fsync);
      // Open before the rename: the handle stays valid even if the entry is evicted at once.
      const fh = await open(fill.path, 'r');
      if (this.cacheable(fill.bytes)) await this.adopt(fill, sha1);
      return fh;
    } catch (err) {
      source.destroy();
      if (this.child.openFile && !(err instanceof ArcaError)) return this.child.openFile(sha1);
      throw err;
    } finally {
      await this.endFill(fill);
    }
  }

  async delete(sha1: string): Promise<boolean> {
    this.noteDelete(sha1);
    const fromChild = await this.child.delete(sha1);
    // Noted again: a fill that began while the child still had the binary must not add it back.
    this.noteDelete(sha1);
    const indexed = this.index.remove(sha1);
    const fromCache = await unlink(this.pathOf(sha1)).then(
      () => true,
      () => false,
    );
    return fromChild || indexed || fromCache;
  }

  list(): AsyncIterable<{ sha1: string; mtimeMs: number }> {
    return this.child.list();
  }

  async check(): Promise<void> {
    await this.child.check();
  }

  async close(): Promise<void> {
    await this.child.close?.();
  }

  private async openCached(sha1: string): Promise<FileHandle | undefined> {
    if (!this.index.has(sha1)) return undefined;
    try {
      const fh = await open(this.pathOf(sha1), 'r');
      this.hit(sha1);
      return fh;
    } catch (err) {
      if (!isEnoent(err)) throw err;
      this.index.remove(sha1);
      return undefined;
    }
  }

  /** Marks a hit in the index and on disk (atime may not be kept by the mount), so the order survives a restart. */
  private hit(sha1: string): void {
    this.stats.hits++;
    this.index.touch(sha1);
    const now = new Date();
    utimes(this.pathOf(sha1), now, now).catch(() => undefined);
  }

  private async startFill(limit: number, hashIt: boolean): Promise<CacheFill | undefined> {
    try {
      const fill = await CacheFill.start(this.preDir, limit, this.epoch, hashIt);
      this.fills++;
      return fill;
    } catch (err) {
      this.log.warn({ err, dir: this.preDir }, 'cache-fs: cannot write to the cache; serving without it');
      return undefined;
    }
  }

  private async endFill(fill: CacheFill | undefined): Promise<void> {
    if (!fill) return;
    await fill.drop();
    this.fills--;
    if (this.fills === 0) this.deletedAt.clear();
  }

  private noteDelete(sha1: string): void {
    this.epoch++;
    if (this.fills > 0) this.deletedAt.set(sha1, this.epoch);
  }

  private deletedSince(sha1: string, epoch: number): boolean {
    return (this.deletedAt.get(sha1) ?? 0) > epoch;
  }

  private async verifyAndAdopt(fill: CacheFill, sha1: string): Promise<void> {
    if (fill.failed) return;
    const digest = fill.digest();
    if (digest !== sha1) {
      this.log.error({ sha1, digest }, 'cache-fs: the child returned data that does not match its SHA-1; not cached');
      return;
    }
    await this.adopt(fill, sha1);
  }

  /**
   * Moves a complete fill into the cache: makes room (evicting least recently used entries
   * first, so the bound holds on disk too), renames, records. Never throws: a cache that
   * cannot be written only costs speed. The fill's temp file is removed by endFill if it
   * was not renamed.
   */
  private async adopt(fill: CacheFill, sha1: string): Promise<void> {
    const size = fill.bytes;
    if (this.index.has(sha1)) {
      this.index.touch(sha1);
      return;
    }
    if (!this.cacheable(size) || this.deletedSince(sha1, fill.epoch)) return;
    const { ok, victims } = this.index.reserve(size);
    await this.unlinkVictims(victims);
    if (!ok) return;
    const target = this.pathOf(sha1);
    try {
      await fill.close(this.fsync);
      await this.ensureDir(sha1);
      await rename(fill.path, target);
    } catch (err) {
      this.index.release(size);
      this.log.warn({ err, sha1 }, 'cache-fs: could not add a binary to the cache');
      return;
    }
    this.index.commit(sha1, size);
    if (this.deletedSince(sha1, fill.epoch)) {
      this.index.remove(sha1);
      await rm(target, { force: true });
    }
  }

  private async unlinkVictims(victims: string[]): Promise<void> {
    for (const v of victims) {
      this.stats.evictions++;
      await rm(this.pathOf(v), { force: true }).catch((err: unknown) => this.log.warn({ err, sha1: v }, 'cache-fs: could not evict'));
    }
  }

  private async ensureDir(sha1: string): Promise<void> {
    const prefix = sha1.slice(0, 2);
    if (this.knownDirs.has(prefix)) return;
    await mkdir(join(this.opts.cacheDir, prefix), { recursive: true });
    this.knownDirs.add(prefix);
  }
}

export const cacheFsProviderType: ProviderType = {
  type: 'cache-fs',
  async create({ node, ctx, child }) {
    return new CacheFsProvider(requireChild(node, child), {
      cacheDir: dirParam(node, ctx, 'cacheProviderDir', 'cache'),
      maxCacheSize: sizeParam(node, 'maxCacheSize', 5_000_000_000),
      maxFileSizeLimit: optionalSizeParam(node, 'maxFileSizeLimit'),
      skipDuringUpload: boolParam(node, 'skipDuringUpload', false),
      log: ctx.log,
    }).init();
  },
};
