/**
 * Reads `package.json` out of an npm tarball (gzip'd tar, one top-level folder, usually
 * `package/`) as the tarball streams past, so a publish can be checked against what it
 * actually ships. The tarball is unpacked on zlib's thread pool within the limits below
 * (see core/bounded-inflate.ts); only the root package.json (and tar's own long-name
 * records) is kept, every other entry is skipped by count.
 */
import { BoundedInflater, type InflateLimits } from '../../core/bounded-inflate.js';
import { ArcaError } from '../../core/errors.js';
import { TarStream, type TarEntryHeader } from '../../core/tar.js';


/** How far an npm tarball may unpack: an absolute cap and a ratio to its compressed size. */
export const NPM_TARBALL_LIMITS: InflateLimits = { maxBytes: 512 * 1024 * 1024, maxRatio: 100, allowance: 1024 * 1024 };
/** Largest root package.json read. */
export const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;
/** Largest pax or GNU long-name record read. */
const MAX_RECORD_BYTES = 1024 * 1024;

function bad(message: string): ArcaError {
  return new ArcaError('BAD_REQUEST', message);
}

/** True for `<top>/package.json` (the first path component is the package root, whatever its name). */
function isRootManifest(path: string): boolean {
  const parts = path.replace(/^\.\//, '').split('/').filter((p) => p !== '');
  return parts.length === 2 && parts[1] === 'package.json';
}

/** A tar stream parsed chunk by chunk; finds the first root package.json. */
class TarScanner extends TarStream<'manifest'> {
  manifest: { path: string; data: Buffer } | undefined;

  constructor() {
    super({
      maxRecordBytes: MAX_RECORD_BYTES,
      tooLarge: () => bad(`The package tarball's tar header record is larger than ${MAX_RECORD_BYTES} bytes`),
      badSize: () => bad('The package tarball is not a valid tar archive (bad size field)'),
    });
  }

  protected override stopped(): boolean {
    return this.manifest !== undefined;
  }

  protected entry(e: TarEntryHeader): 'manifest' | undefined {
    if ((e.type !== '0' && e.type !== '7') || !isRootManifest(e.path)) return undefined;
    if (e.size > MAX_MANIFEST_BYTES) throw bad(`The package tarball's ${e.path} is larger than ${MAX_MANIFEST_BYTES} bytes`);
    return 'manifest';
  }

  protected kept(_keep: 'manifest', path: string, data: Buffer): void {
    this.manifest = { path, data };
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
