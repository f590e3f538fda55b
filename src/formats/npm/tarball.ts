/**
 * Reads `package.json` out of an npm tarball (gzip'd tar, one top-level folder, usually
 * `package/`) as the tarball streams past, so a publish can be checked against what it
 * actually ships. The tarball is unpacked on zlib's thread pool within the limits below
 * (see core/bounded-inflate.ts); only the root package.json (and tar's own long-name
 * records) is kept, every other entry is skipped by count.
 */
import { BoundedInflater, type InflateLimits } from '../../core/bounded-inflate.js';
import { ArcaError } from '../../core/errors.js';
import { cString, headerPath, paxPath, tarSize } from '../../core/tar.js';

const BLOCK = 512;

/** How far an npm tarball may unpack: an absolute cap and a ratio to its compressed size. */
export const NPM_TARBALL_LIMITS: InflateLimits = { maxBytes: 512 * 1024 * 1024, maxRatio: 100, allowance: 1024 * 1024 };
/** Largest root package.json read. */
export const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;
/** Largest pax or GNU long-name record read. */
const MAX_RECORD_BYTES = 1024 * 1024;

function bad(message: string): ArcaError {
  return new ArcaError('BAD_REQUEST', message);
}

function sizeField(buf: Buffer, start: number): number {
  const size = tarSize(buf, start);
  if (size === undefined) throw bad('The package tarball is not a valid tar archive (bad size field)');
  return size;
}

/** True for `<top>/package.json` (the first path component is the package root, whatever its name). */
function isRootManifest(path: string): boolean {
  const parts = path.replace(/^\.\//, '').split('/').filter((p) => p !== '');
  return parts.length === 2 && parts[1] === 'package.json';
}

type Keep = 'pax' | 'longname' | 'manifest';

type TarState =
  | { kind: 'header'; parts: Buffer[]; have: number }
  | { kind: 'data'; remaining: number; padding: number; keep?: Keep; path?: string; parts: Buffer[] }
  | { kind: 'end' };

/** A tar stream parsed chunk by chunk; finds the first root package.json. */
class TarScanner {
  private state: TarState = { kind: 'header', parts: [], have: 0 };
  private longName: string | undefined;
  manifest: { path: string; data: Buffer } | undefined;

  /** True when the archive ended inside an entry (truncated). */
  get midEntry(): boolean {
    return this.state.kind === 'data' || (this.state.kind === 'header' && this.state.have > 0);
  }

  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && this.state.kind !== 'end' && !this.manifest) {
      const s: TarState = this.state;
      if (s.kind === 'header') {
        const take = Math.min(BLOCK - s.have, chunk.length - off);
        s.parts.push(chunk.subarray(off, off + take));
        s.have += take;
        off += take;
        if (s.have === BLOCK) this.header(Buffer.concat(s.parts));
      } else if (s.kind === 'data') {
        const take = Math.min(s.remaining + s.padding, chunk.length - off);
        const dataPart = Math.min(take, s.remaining);
        if (s.keep && dataPart > 0) s.parts.push(chunk.subarray(off, off + dataPart));
        s.remaining -= dataPart;
        s.padding -= take - dataPart;
        off += take;
        if (s.remaining === 0 && s.padding === 0) this.entryDone(s);
      }
    }
  }

  private header(h: Buffer): void {
    if (h.every((b) => b === 0)) {
      this.state = { kind: 'end' };
      return;
    }
    const size = sizeField(h, 124);
    const type = String.fromCharCode(h[156] || 0x30);
    const padding = (BLOCK - (size % BLOCK)) % BLOCK;
    let keep: Keep | undefined;
    let path: string | undefined;
    if (type === 'x') keep = 'pax';
    else if (type === 'L') keep = 'longname';
    else if (type !== 'g') {
      path = this.longName ?? headerPath(h);
      this.longName = undefined;
      if ((type === '0' || type === '\0' || type === '7') && isRootManifest(path)) keep = 'manifest';
    }
    const limit = keep === 'manifest' ? MAX_MANIFEST_BYTES : MAX_RECORD_BYTES;
    if (keep && size > limit) throw bad(`The package tarball's ${keep === 'manifest' ? path : 'tar header record'} is larger than ${limit} bytes`);
    const next: TarState = { kind: 'data', remaining: size, padding, keep, path, parts: [] };
    this.state = next;
    if (size === 0 && padding === 0) this.entryDone(next);
  }

  private entryDone(s: Extract<TarState, { kind: 'data' }>): void {
    this.state = { kind: 'header', parts: [], have: 0 };
    if (!s.keep) return;
    const data = Buffer.concat(s.parts);
    if (s.keep === 'pax') this.longName = paxPath(data) ?? this.longName;
    else if (s.keep === 'longname') this.longName = cString(data, 0, data.length);
    else this.manifest = { path: s.path!, data };
  }
}

function parseManifest(m: { path: string; data: Buffer }): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(m.data.toString('utf8').replace(/^\uFEFF/, ''));
  } catch {
    throw bad(`The package tarball's ${m.path} is not valid JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad(`The package tarball's ${m.path} is not a JSON object`);
  return parsed as Record<string, unknown>;
}

/**
 * The root `package.json` of an npm tarball fed to it chunk by chunk. The whole tarball is
 * unpacked (so a corrupt one is refused) within NPM_TARBALL_LIMITS; `finish()` then returns
 * the parsed manifest, or throws BAD_REQUEST when the data is not a gzip'd tar within the
 * limits holding a readable package.json at its root.
 */
export class TarballManifestReader {
  private readonly tar = new TarScanner();
  private readonly inflater: BoundedInflater;
  private head = Buffer.alloc(0);

  constructor(limits: InflateLimits = NPM_TARBALL_LIMITS) {
    this.inflater = new BoundedInflater({
      format: 'gzip',
      limits,
      what: 'The package tarball',
      onData: (out) => this.tar.push(out),
    });
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.head.length < 2) {
      this.head = Buffer.concat([this.head, chunk.subarray(0, 2 - this.head.length)]);
      if (this.head.length === 2 && (this.head[0] !== 0x1f || this.head[1] !== 0x8b)) {
        this.inflater.destroy();
        throw bad('The package tarball is not gzip-compressed');
      }
    }
    await this.inflater.write(chunk);
  }

  async finish(): Promise<Record<string, unknown>> {
    if (this.head.length < 2) {
      this.inflater.destroy();
      throw bad('The package tarball is not gzip-compressed');
    }
    await this.inflater.end();
    if (this.tar.manifest) return parseManifest(this.tar.manifest);
    if (this.tar.midEntry) throw bad('The package tarball is truncated');
    throw bad('The package tarball holds no package.json at its root');
  }

  /** Stops reading (the publish failed elsewhere). */
  destroy(): void {
    this.inflater.destroy();
  }
}

/** The root package.json of a whole tarball in memory (generic deploys of a `.tgz`). */
export async function readTarballManifest(tgz: Buffer, limits: InflateLimits = NPM_TARBALL_LIMITS): Promise<Record<string, unknown>> {
  const reader = new TarballManifestReader(limits);
  try {
    for (let off = 0; off < tgz.length; off += 256 * 1024) await reader.write(tgz.subarray(off, off + 256 * 1024));
    return await reader.finish();
  } catch (err) {
    reader.destroy();
    throw err;
  }
}
