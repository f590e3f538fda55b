import { ArcaError } from '../../core/errors.js';
import { BoundedInflater } from '../../core/bounded-inflate.js';
import { cString, headerPath, paxPath, TAR_BLOCK, tarSize } from '../../core/tar.js';

/**
 * Reads a `.crate` (a gzipped tar whose entries all sit below `{name}-{version}/`) far enough
 * to check it: every entry a plain file or folder below that root (no links, no `..`, no
 * absolute paths), within the size and count limits, and its `Cargo.toml` naming the crate
 * and version the publish metadata names. Nothing of it is kept but the manifest.
 */

export interface CrateLimits {
  /** Most bytes the tar may unpack to. */
  maxBytes: number;
  /** Most unpacked bytes per compressed byte (past a small allowance). */
  maxRatio: number;
  maxEntries: number;
}

/** crates.io's own bound on a crate's unpacked size is 512 MB. */
export const DEFAULT_CRATE_LIMITS: CrateLimits = { maxBytes: 512 * 1024 * 1024, maxRatio: 200, maxEntries: 20_000 };

/** Most bytes of a manifest, a pax record or a long name kept in memory. */
const MAX_KEPT = 1024 * 1024;

const bad = (message: string) => new ArcaError('BAD_REQUEST', message);

/** The `[package]` name and version of a manifest (basic and literal strings, as cargo writes them). */
export function manifestIdentity(toml: string): { name?: string; version?: string } {
  const out: { name?: string; version?: string } = {};
  let inPackage = false;
  for (const raw of toml.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('[')) {
      inPackage = /^\[\s*package\s*\]\s*(#.*)?$/.test(line);
      continue;
    }
    if (!inPackage) continue;
    const m = /^(name|version)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)')\s*(#.*)?$/.exec(line);
    if (!m) continue;
    const value = m[2] !== undefined ? (JSON.parse(`"${m[2]}"`) as string) : m[3];
    if (m[1] === 'name') out.name = value;
    else out.version = value;
  }
  return out;
}

/** Incremental tar reader over the inflated bytes: checks each header, keeps the manifest. */
class TarCheck {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes of the current entry's data still to come (padding included), and whether to keep them. */
  private dataLeft = 0;
  private keep: { kind: 'manifest' | 'pax' | 'longname'; size: number; parts: Buffer[]; got: number } | undefined;
  private nextName: string | undefined;
  private entries = 0;
  private ended = false;
  manifest: Buffer | undefined;

  constructor(
    private readonly root: string,
    private readonly limits: CrateLimits,
  ) {}

  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.dataLeft > 0) {
        const n = Math.min(this.dataLeft, chunk.length - off);
        if (this.keep && this.keep.got < this.keep.size) {
          const part = chunk.subarray(off, off + Math.min(n, this.keep.size - this.keep.got));
          this.keep.parts.push(Buffer.from(part));
          this.keep.got += part.length;
        }
        this.dataLeft -= n;
        off += n;
        if (this.dataLeft === 0) this.finishEntry();
        continue;
      }
      const need = TAR_BLOCK - this.pendingBytes;
      const part = chunk.subarray(off, off + need);
      this.pending.push(part);
      this.pendingBytes += part.length;
      off += part.length;
      if (this.pendingBytes === TAR_BLOCK) {
        const header = Buffer.concat(this.pending);
        this.pending = [];
        this.pendingBytes = 0;
        this.header(header);
      }
    }
  }

  private header(h: Buffer): void {
    if (this.ended) return;
    if (h.every((b) => b === 0)) {
      // The end-of-archive blocks: what follows is padding.
      this.ended = true;
      return;
    }
    if (++this.entries > this.limits.maxEntries) throw bad(`The crate has more than ${this.limits.maxEntries} entries`);
    const size = tarSize(h);
    if (size === undefined) throw bad('The crate is not a tar archive (a header has no size)');
    const type = String.fromCharCode(h[156] || 0x30);
    const padded = Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
    if (type === 'x' || type === 'L') {
      if (size > MAX_KEPT) throw bad('The crate has an oversized extended header');
      this.keep = { kind: type === 'x' ? 'pax' : 'longname', size, parts: [], got: 0 };
    } else if (type === 'g') {
      this.keep = undefined;
    } else {
      const path = this.nextName ?? headerPath(h);
      this.nextName = undefined;
      this.checkPath(path, type);
      const isManifest = type !== '5' && path === `${this.root}/Cargo.toml`;
      if (isManifest && size > MAX_KEPT) throw bad('The crate\'s Cargo.toml is larger than 1 MB');
      this.keep = isManifest ? { kind: 'manifest', size, parts: [], got: 0 } : undefined;
    }
    this.dataLeft = padded;
    if (padded === 0) this.finishEntry();
  }

  private checkPath(path: string, type: string): void {
    if (type === '1' || type === '2') throw bad(`The crate holds a link ('${path}'); crates may hold only files and folders`);
    if (type !== '0' && type !== '5' && type !== '7') throw bad(`The crate holds an entry of type '${type}' ('${path}'); crates may hold only files and folders`);
    if (path.startsWith('/') || path.includes('\\') || path.includes('\0')) throw bad(`The crate holds an entry with an unsafe path ('${path}')`);
    const segments = path.replace(/\/+$/, '').split('/');
    if (segments.some((s) => s === '..' || s === '.' || s === '')) throw bad(`The crate holds an entry with an unsafe path ('${path}')`);
    if (segments[0] !== this.root) throw bad(`The crate holds '${path}', outside its folder '${this.root}/'`);
  }

  private finishEntry(): void {
    const kept = this.keep;
    this.keep = undefined;
    if (!kept) return;
    const data = Buffer.concat(kept.parts);
    if (kept.kind === 'manifest') this.manifest = data;
    else if (kept.kind === 'pax') this.nextName = paxPath(data) ?? this.nextName;
    else this.nextName = cString(data, 0, data.length);
  }

  finish(): void {
    if (this.dataLeft > 0 || this.pendingBytes > 0) throw bad('The crate\'s tar archive is truncated');
  }
}

/**
 * Checks a `.crate` for `name`@`version` (see the module comment); returns its manifest text.
 * Throws BAD_REQUEST with the reason otherwise.
 */
export async function inspectCrate(crate: Buffer, name: string, version: string, limits: CrateLimits = DEFAULT_CRATE_LIMITS): Promise<string> {
  const root = `${name}-${version}`;
  const tar = new TarCheck(root, limits);
  const inflater = new BoundedInflater({
    format: 'gzip',
    limits: { maxBytes: limits.maxBytes, maxRatio: limits.maxRatio, allowance: 1024 * 1024 },
    what: 'The crate',
    onData: (chunk) => tar.push(chunk),
  });
  try {
    const step = 64 * 1024;
    for (let off = 0; off < crate.length; off += step) await inflater.write(crate.subarray(off, off + step));
    await inflater.end();
  } catch (err) {
    inflater.destroy();
    throw err;
  }
  tar.finish();
  if (!tar.manifest) throw bad(`The crate has no '${root}/Cargo.toml'`);
  const manifest = tar.manifest.toString('utf8');
  const id = manifestIdentity(manifest);
  if (id.name !== name) throw bad(`The crate's Cargo.toml names the package '${id.name ?? ''}', not '${name}' as the publish metadata does`);
  if (id.version !== version) throw bad(`The crate's Cargo.toml gives version '${id.version ?? ''}', not '${version}' as the publish metadata does`);
  return manifest;
}
