import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ByteRange } from '../../binstore/binary-provider.js';
import { ArcaError } from '../../core/errors.js';
import { TarStream, type TarEntryHeader } from '../../core/tar.js';
import { archiveTypeOf, type ArchiveType } from './archive-reader.js';

/**
 * The entries of a stored archive, for browsing inside it (`GET /api/archive/entries/{repo}/{path}`,
 * Arca's own, for the web UI). Nothing is unpacked: a zip (jar, war, ear, aar) is read from its
 * central directory (two ranged reads at its end, the directory itself at most
 * `maxDirectoryBytes`); a tar is read header by header and a tar.gz inflated as it streams,
 * both stopping after `maxEntries` entries or `maxBytes` bytes read (then `truncated`).
 */
export interface ArchiveEntry {
  path: string;
  folder: boolean;
  /** Uncompressed bytes (0 for a folder). */
  size: number;
  /** Stored bytes of a zip entry. */
  compressedSize?: number;
}

export interface ArchiveListing {
  type: ArchiveType;
  entries: ArchiveEntry[];
  /** More entries exist than were listed (a limit was reached). */
  truncated: boolean;
}

export interface ArchiveEntryLimits {
  maxEntries: number;
  maxBytes: number;
  maxDirectoryBytes: number;
}

export const DEFAULT_ENTRY_LIMITS: ArchiveEntryLimits = { maxEntries: 5000, maxBytes: 64 * 1024 * 1024, maxDirectoryBytes: 16 * 1024 * 1024 };

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const EOCD_MIN = 22;
const MAX_COMMENT = 0xffff;

type Read = (range?: ByteRange) => Promise<Readable>;

async function readAll(stream: Readable, max: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of stream) {
    n += (chunk as Buffer).length;
    if (n > max) {
      stream.destroy();
      throw new ArcaError('BAD_REQUEST', `The archive's directory is larger than ${max} bytes`);
    }
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

function unreadable(why: string): ArcaError {
  return new ArcaError('BAD_REQUEST', `The archive cannot be read: ${why}`);
}

/** The central directory's entries of a zip of `size` bytes. */
async function zipEntries(read: Read, size: number, limits: ArchiveEntryLimits): Promise<ArchiveListing> {
  if (size < EOCD_MIN) throw unreadable('it is too short to be a zip');
  const tailStart = Math.max(0, size - (EOCD_MIN + MAX_COMMENT));
  const tail = await readAll(await read({ start: tailStart, end: size - 1 }), EOCD_MIN + MAX_COMMENT);
  let at = -1;
  for (let i = tail.length - EOCD_MIN; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD) {
      at = i;
      break;
    }
  }
  if (at < 0) throw unreadable('no end of central directory record (not a zip)');
  const total = tail.readUInt16LE(at + 10);
  const dirSize = tail.readUInt32LE(at + 12);
  const dirOffset = tail.readUInt32LE(at + 16);
  if (dirOffset === 0xffffffff || dirSize === 0xffffffff || total === 0xffff) throw unreadable('zip64 archives are not listed');
  if (dirSize > limits.maxDirectoryBytes) throw unreadable(`its central directory is larger than ${limits.maxDirectoryBytes} bytes`);
  if (dirOffset + dirSize > size) throw unreadable('its central directory lies outside the file');
  const dir = dirSize === 0 ? Buffer.alloc(0) : await readAll(await read({ start: dirOffset, end: dirOffset + dirSize - 1 }), limits.maxDirectoryBytes);
  const entries: ArchiveEntry[] = [];
  let p = 0;
  let seen = 0;
  while (p + 46 <= dir.length) {
    if (dir.readUInt32LE(p) !== CENTRAL) throw unreadable('a central directory record is corrupt');
    const compressedSize = dir.readUInt32LE(p + 20);
    const uncompressed = dir.readUInt32LE(p + 24);
    const nameLen = dir.readUInt16LE(p + 28);
    const extraLen = dir.readUInt16LE(p + 30);
    const commentLen = dir.readUInt16LE(p + 32);
    const name = dir.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    p += 46 + nameLen + extraLen + commentLen;
    seen++;
    if (entries.length >= limits.maxEntries) continue;
    const folder = name.endsWith('/');
    entries.push({ path: name.replace(/\/+$/, ''), folder, size: folder ? 0 : uncompressed, compressedSize });
  }
  return { type: 'zip', entries, truncated: seen > entries.length || seen < total };
}

class EntryLister extends TarStream<never> {
  readonly entries: ArchiveEntry[] = [];
  full = false;

  constructor(private readonly max: number) {
    super({ maxRecordBytes: 1024 * 1024, tooLarge: () => unreadable('a tar header record is too large'), badSize: () => unreadable('a tar header is corrupt') });
  }

  protected entry(e: TarEntryHeader): undefined {
    if (this.entries.length >= this.max) {
      this.full = true;
      return undefined;
    }
    const folder = e.type === '5';
    this.entries.push({ path: e.path.replace(/^\.\//, '').replace(/\/+$/, ''), folder, size: folder ? 0 : e.size });
    return undefined;
  }

  protected kept(): void {}

  protected override stopped(): boolean {
    return this.full;
  }
}

async function tarEntries(stream: Readable, type: 'tar' | 'tgz', limits: ArchiveEntryLimits): Promise<ArchiveListing> {
  const lister = new EntryLister(limits.maxEntries);
  const source = type === 'tgz' ? stream.pipe(createGunzip()) : stream;
  if (type === 'tgz') stream.on('error', (err) => source.destroy(err));
  let read = 0;
  let truncated = false;
  try {
    for await (const chunk of source) {
      read += (chunk as Buffer).length;
      lister.push(chunk as Buffer);
      if (lister.full || read >= limits.maxBytes) {
        truncated = true;
        break;
      }
    }
  } catch (err) {
    if (lister.entries.length === 0) throw unreadable((err as Error).message);
    truncated = true;
  } finally {
    stream.destroy();
    source.destroy();
  }
  return { type, entries: lister.entries.filter((e) => e.path !== '' && e.path !== '.'), truncated };
}

/** The archive type `name` is listed as, or undefined when it is not an archive Arca lists. */
export function listedArchiveType(name: string): ArchiveType | undefined {
  return archiveTypeOf(name);
}

/** Lists the entries of the archive `name` (its type from the name), `size` bytes, read through `read`. */
export async function listArchiveEntries(name: string, size: number, read: Read, limits: ArchiveEntryLimits = DEFAULT_ENTRY_LIMITS): Promise<ArchiveListing> {
  const type = archiveTypeOf(name);
  if (!type) throw new ArcaError('BAD_REQUEST', `'${name}' is not an archive that can be browsed (zip, jar, war, ear, aar, tar, tar.gz, tgz)`);
  if (type === 'zip') return zipEntries(read, size, limits);
  return tarEntries(await read(), type, limits);
}
