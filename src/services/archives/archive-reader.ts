import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline, Transform, type Readable } from 'node:stream';
import { createInflateRaw } from 'node:zlib';
import { BoundedInflater } from '../../core/bounded-inflate.js';
import { ArcaError } from '../../core/errors.js';
import { cString, headerPath, paxPath, TAR_BLOCK, tarSize } from '../../core/tar.js';
import { ZipScanner } from '../../core/zip-scanner.js';

/**
 * The files of an archive on local disk (a spooled upload), read for an explode
 * (`X-Explode-Archive`): every entry is listed and checked before any is opened, so a hostile
 * archive is refused whole. Refused: entry paths that are absolute, hold `..`, a backslash or a
 * control character; links (symbolic and hard), devices and FIFOs; duplicate paths; encrypted
 * or unknown-method zip entries; more entries, more bytes in all, or a higher compression
 * ratio than the limits. A zip is read front to back (local headers, then the central
 * directory, whose record of each entry must follow the same order, for its unix mode); a
 * tar.gz is unpacked once, within the limits, into a second temp file and read as a tar.
 */

export type ArchiveType = 'zip' | 'tar' | 'tgz';

export interface ArchiveLimits {
  /** Most files (and links, folders) an archive may hold. */
  maxEntries: number;
  /** Most bytes its files may hold in all, uncompressed. */
  maxBytes: number;
  /** Most uncompressed bytes per compressed byte of a zip entry or a tar.gz (past 1 MiB). */
  maxRatio: number;
}

export interface ArchiveFile {
  /** Relative, normalised: no leading '/', no '.' or '..' segments. */
  path: string;
  size: number;
  /** The file's bytes (exactly `size` of them, or the stream fails). */
  open(): Readable;
}

const RATIO_ALLOWANCE = 1024 * 1024;
const MAX_RECORD_BYTES = 1024 * 1024;

function bad(message: string): ArcaError {
  return new ArcaError('BAD_REQUEST', message);
}

/** The archive type of a file name (`.zip`, `.jar`, `.war`, `.ear`, `.aar`, `.tar`, `.tar.gz`, `.tgz`). */
export function archiveTypeOf(name: string): ArchiveType | undefined {
  const n = name.toLowerCase();
  if (/\.(zip|jar|war|ear|aar)$/.test(n)) return 'zip';
  if (n.endsWith('.tar')) return 'tar';
  if (n.endsWith('.tar.gz') || n.endsWith('.tgz')) return 'tgz';
  return undefined;
}

/** An entry's path made relative and safe, or a refusal naming it. */
export function safeEntryPath(raw: string): string {
  const shown = JSON.stringify(raw.slice(0, 200));
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(raw)) throw bad(`The archive entry ${shown} has a control character or a backslash in its path`);
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) throw bad(`The archive entry ${shown} has an absolute path`);
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw bad(`The archive entry ${shown} escapes the target folder ('..')`);
  return parts.join('/');
}

/** Checks the list as a whole (count, total size, duplicates) once every entry is known. */
function checkAll(files: ArchiveFile[], limits: ArchiveLimits): ArchiveFile[] {
  const seen = new Set<string>();
  let total = 0;
  for (const f of files) {
    if (seen.has(f.path)) throw bad(`The archive holds '${f.path}' twice`);
    seen.add(f.path);
    total += f.size;
    if (total > limits.maxBytes) throw bad(`The archive unpacks to more than ${limits.maxBytes} bytes, the limit`);
  }
  for (const f of files) {
    // A file under a path that is also a file ('a' and 'a/b') cannot be stored.
    const slash = f.path.lastIndexOf('/');
    for (let i = slash; i > 0; i = f.path.lastIndexOf('/', i - 1)) {
      if (seen.has(f.path.slice(0, i))) throw bad(`The archive holds '${f.path.slice(0, i)}' both as a file and as a folder`);
    }
  }
  return files;
}

/** Fails the stream unless exactly `size` bytes pass. */
function exactly(size: number, what: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > size) return done(bad(`The archive entry '${what}' holds more bytes than its header says`));
      done(null, chunk);
    },
    flush(done) {
      done(seen === size ? null : bad(`The archive entry '${what}' holds fewer bytes than its header says`));
    },
  });
}

function range(file: string, start: number, length: number): Readable {
  // An empty range: createReadStream's `end` is inclusive, so 'end < start' reads nothing.
  return createReadStream(file, { start, end: start + length - 1, highWaterMark: 256 * 1024 });
}

async function zipFiles(file: string, limits: ArchiveLimits): Promise<ArchiveFile[]> {
  const scanner = new ZipScanner({ keep: () => false, note: () => true });
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
    scanner.push(chunk as Buffer);
    if (scanner.count > limits.maxEntries) throw bad(`The archive holds more than ${limits.maxEntries} entries, the limit`);
  }
  const broken = scanner.finish();
  if (broken) throw bad(`The archive cannot be read: ${broken}`);
  const files: ArchiveFile[] = [];
  for (const e of scanner.entries) {
    if (e.mode === undefined) throw bad(`The archive cannot be read: its central directory does not list '${e.name}' in order`);
    const kind = e.mode & 0o170000;
    const dir = e.name.endsWith('/') || kind === 0o040000;
    if (kind === 0o120000) throw bad(`The archive entry '${e.name}' is a symbolic link; links are refused`);
    if (kind !== 0 && kind !== 0o100000 && !dir) throw bad(`The archive entry '${e.name}' is not a regular file (mode ${kind.toString(8)})`);
    const path = safeEntryPath(e.name);
    if (dir) continue;
    if (path === '') throw bad(`The archive entry '${e.name}' has no name`);
    if (e.encrypted) throw bad(`The archive entry '${e.name}' is encrypted`);
    if (e.method !== 0 && e.method !== 8) throw bad(`The archive entry '${e.name}' uses compression method ${e.method} (only stored and deflate are supported)`);
    if (e.size > RATIO_ALLOWANCE && e.size > limits.maxRatio * e.compressedSize) {
      throw bad(`The archive entry '${e.name}' unpacks to more than ${limits.maxRatio} times its compressed size, the limit`);
    }
    if (e.method === 0 && e.size !== e.compressedSize) throw bad(`The archive entry '${e.name}' is stored with two different sizes`);
    const { offset, compressedSize, size, method, name } = e;
    files.push({
      path,
      size,
      open: () => {
        const raw = range(file, offset, compressedSize);
        const check = exactly(size, name);
        // pipeline() hands any stream's error to the last one, which the deploy reads.
        if (method === 0) return pipeline(raw, check, () => {});
        const inflate = createInflateRaw();
        inflate.on('error', (err) => check.destroy(bad(`The archive entry '${name}' cannot be inflated: ${err.message}`)));
        return pipeline(raw, inflate, check, () => {});
      },
    });
  }
  return checkAll(files, limits);
}

/** Lists a tar file's regular files (with their data offsets), refusing links and devices. */
async function tarFiles(file: string, limits: ArchiveLimits): Promise<ArchiveFile[]> {
  const handle = await open(file, 'r');
  const files: ArchiveFile[] = [];
  try {
    const { size: length } = await handle.stat();
    const header = Buffer.alloc(TAR_BLOCK);
    let longName: string | undefined;
    let entries = 0;
    let at = 0;
    for (;;) {
      if (at + TAR_BLOCK > length) {
        if (at === length && entries > 0) break;
        throw bad(entries === 0 ? 'The archive is empty or not a tar archive' : 'The tar archive is truncated');
      }
      await handle.read(header, 0, TAR_BLOCK, at);
      if (header.every((b) => b === 0)) break;
      if (++entries > limits.maxEntries) throw bad(`The archive holds more than ${limits.maxEntries} entries, the limit`);
      let sum = 0;
      for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
      if (parseInt(cString(header, 148, 8).trim(), 8) !== sum) throw bad(entries === 1 ? 'The file is not a tar archive' : 'The tar archive is corrupt (bad header checksum)');
      const size = tarSize(header);
      if (size === undefined) throw bad('The tar archive is corrupt (bad size field)');
      const type = String.fromCharCode(header[156] || 0x30);
      const dataAt = at + TAR_BLOCK;
      if (dataAt + size > length) throw bad('The tar archive is truncated');
      at = dataAt + size + ((TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK);
      if (type === 'x' || type === 'L' || type === 'g') {
        if (size > MAX_RECORD_BYTES) throw bad(`The tar archive has a header record larger than ${MAX_RECORD_BYTES} bytes`);
        if (type === 'g') continue;
        const data = Buffer.alloc(size);
        await handle.read(data, 0, size, dataAt);
        longName = type === 'x' ? (paxPath(data) ?? longName) : cString(data, 0, data.length);
        continue;
      }
      const name = longName ?? headerPath(header);
      longName = undefined;
      if (type === '1' || type === '2') throw bad(`The archive entry '${name}' is a ${type === '1' ? 'hard' : 'symbolic'} link; links are refused`);
      const path = safeEntryPath(name);
      if (type === '5') continue;
      if (type !== '0' && type !== '7') throw bad(`The archive entry '${name}' is not a regular file (tar type '${type}')`);
      if (path === '') throw bad(`The archive entry '${name}' has no name`);
      files.push({ path, size, open: () => pipeline(range(file, dataAt, size), exactly(size, name), () => {}) });
    }
  } finally {
    await handle.close();
  }
  return checkAll(files, limits);
}

/** Unpacks a gzip file into `target` within the limits (total bytes and ratio). */
async function gunzipTo(file: string, target: string, limits: ArchiveLimits): Promise<void> {
  const out = await open(target, 'w');
  let writes = Promise.resolve();
  // Headers and padding come on top of the files' bytes: at most 3 blocks per entry, and the end.
  const maxBytes = limits.maxBytes + (limits.maxEntries + 2) * 3 * TAR_BLOCK;
  const inflater = new BoundedInflater({
    format: 'gzip',
    limits: { maxBytes, maxRatio: limits.maxRatio, allowance: RATIO_ALLOWANCE },
    what: 'The archive',
    onData: (chunk) => {
      const copy = Buffer.from(chunk);
      writes = writes.then(() => out.write(copy).then(() => undefined));
    },
  });
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
      await inflater.write(chunk as Buffer);
      await writes;
    }
    await inflater.end();
    await writes;
  } catch (err) {
    inflater.destroy();
    throw err;
  } finally {
    await writes.catch(() => undefined);
    await out.close();
  }
}

/**
 * The files of the archive at `file`, all checked. A tar.gz is first unpacked into `scratch`
 * (a path the caller removes afterwards).
 */
export async function readArchive(file: string, type: ArchiveType, limits: ArchiveLimits, scratch: string): Promise<ArchiveFile[]> {
  if (type === 'zip') return zipFiles(file, limits);
  if (type === 'tar') return tarFiles(file, limits);
  await gunzipTo(file, scratch, limits);
  return tarFiles(scratch, limits);
}
