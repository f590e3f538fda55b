import { parseCoreMetadata, type CoreMetadata } from './core-metadata.js';
import type { DistributionFile } from './filenames.js';
import { normalizeProjectName } from './names.js';
import { sameVersion } from './versions.js';
import type { InflateLimits } from '../../core/bounded-inflate.js';
import { entryContent, ZipScanner } from '../../core/zip-scanner.js';

/**
 * Checks a wheel while it streams past: it must be a zip archive holding
 * `{name}-{version}.dist-info/` with METADATA, WHEEL and RECORD, and its METADATA must name
 * the same project and version as the file name. The METADATA bytes are kept for PEP 658.
 */

const METADATA = /^([^/]+)\.dist-info\/METADATA$/;
const NOTED = /^([^/]+)\.dist-info\/(WHEEL|RECORD)$/;
const MAX_METADATA_BYTES = 4 * 1024 * 1024;
/** How far METADATA may inflate: at most 4 MiB, and at most 100 times its compressed size past 1 MiB. */
export const METADATA_LIMITS: InflateLimits = { maxBytes: MAX_METADATA_BYTES, maxRatio: 100, allowance: 1024 * 1024 };

export interface WheelInspection {
  /** The METADATA file as stored in the wheel (served as `{file}.metadata`). */
  metadata: Buffer;
  core: CoreMetadata;
}

export class WheelInspector {
  private readonly scanner = new ZipScanner({
    keep: (n) => METADATA.test(n),
    note: (n) => NOTED.test(n),
    maxKeptBytes: MAX_METADATA_BYTES,
  });

  constructor(private readonly file: DistributionFile) {}

  push(chunk: Uint8Array): void {
    this.scanner.push(chunk);
  }

  /** After the last chunk: the inspection, or throws an Error whose message says what is wrong. */
  async finish(): Promise<WheelInspection> {
    const where = `'${this.file.filename}' is not a valid wheel`;
    const broken = this.scanner.finish();
    if (broken) throw new Error(`${where}: ${broken}`);
    const candidates = this.scanner.entries.filter((e) => METADATA.test(e.name));
    if (candidates.length === 0) throw new Error(`${where}: it has no {name}-{version}.dist-info/METADATA`);
    const dirOf = (name: string) => name.slice(0, name.indexOf('.dist-info/'));
    const projectOf = (dir: string) => normalizeProjectName(dir.includes('-') ? dir.slice(0, dir.indexOf('-')) : dir);
    const entry = candidates.length === 1 ? candidates[0] : candidates.find((e) => projectOf(dirOf(e.name)) === this.file.project);
    if (!entry) throw new Error(`${where}: none of its .dist-info folders belongs to '${this.file.name}'`);
    const dir = dirOf(entry.name);
    for (const required of ['WHEEL', 'RECORD']) {
      if (!this.scanner.entries.some((e) => e.name === `${dir}.dist-info/${required}`)) {
        throw new Error(`${where}: ${dir}.dist-info/${required} is missing`);
      }
    }
    let metadata: Buffer;
    try {
      metadata = await entryContent(entry, METADATA_LIMITS);
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).message}`);
    }
    const core = parseCoreMetadata(metadata);
    if (!core.name || !core.version) throw new Error(`${where}: its METADATA has no Name or no Version`);
    if (normalizeProjectName(core.name) !== this.file.project) {
      throw new Error(`${where}: its METADATA names the project '${core.name}', the file name '${this.file.name}'`);
    }
    if (!sameVersion(core.version, this.file.version)) {
      throw new Error(`${where}: its METADATA has version '${core.version}', the file name '${this.file.version}'`);
    }
    return { metadata, core };
  }
}
