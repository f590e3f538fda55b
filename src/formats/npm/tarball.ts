/**
 * Reads `package.json` out of an npm tarball (gzip'd tar, one top-level folder, usually
 * `package/`), so a publish can be checked against what it actually ships.
 */
import { gunzipSync } from 'node:zlib';
import { ArcaError } from '../../core/errors.js';

const BLOCK = 512;
/** Largest unpacked tarball inspected; publishes beyond it are refused, not half-checked. */
export const MAX_UNPACKED_BYTES = 1024 * 1024 * 1024;

function bad(message: string): ArcaError {
  return new ArcaError('BAD_REQUEST', message);
}

function cString(buf: Buffer, start: number, length: number): string {
  const field = buf.subarray(start, start + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? field.length : nul).toString('utf8');
}

function sizeField(buf: Buffer, start: number): number {
  const field = buf.subarray(start, start + 12);
  if (field[0] & 0x80) {
    // GNU base-256: big-endian, high bit of the first byte is the marker.
    let n = field[0] & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i];
    return n;
  }
  const text = cString(buf, start, 12).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw bad('The package tarball is not a valid tar archive (bad size field)');
  return parseInt(text, 8);
}

function paxPath(data: Buffer): string | undefined {
  let path: string | undefined;
  let off = 0;
  while (off < data.length) {
    const space = data.indexOf(0x20, off);
    if (space < 0) break;
    const len = Number(data.subarray(off, space).toString('ascii'));
    if (!Number.isInteger(len) || len <= 0) break;
    const record = data.subarray(space + 1, off + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0 && record.slice(0, eq) === 'path') path = record.slice(eq + 1);
    off += len;
  }
  return path;
}

/** True for `<top>/package.json` (the first path component is the package root, whatever its name). */
function isRootManifest(path: string): boolean {
  const parts = path.replace(/^\.\//, '').split('/').filter((p) => p !== '');
  return parts.length === 2 && parts[1] === 'package.json';
}

/** Unpacks the tar stream and returns every regular file's path and content (for tests and the reader). */
function* entries(tar: Buffer): Generator<{ path: string; data: Buffer }> {
  let off = 0;
  let longName: string | undefined;
  while (off + BLOCK <= tar.length) {
    const header = tar.subarray(off, off + BLOCK);
    if (header.every((b) => b === 0)) return;
    const size = sizeField(header, 124);
    const type = String.fromCharCode(header[156] || 0x30);
    const dataStart = off + BLOCK;
    const dataEnd = dataStart + size;
    if (dataEnd > tar.length) throw bad('The package tarball is truncated');
    const data = tar.subarray(dataStart, dataEnd);
    off = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      longName = paxPath(data) ?? longName;
      continue;
    }
    if (type === 'L') {
      longName = cString(data, 0, data.length);
      continue;
    }
    if (type === 'g') continue;
    const ustar = cString(header, 257, 6) === 'ustar';
    const prefix = ustar ? cString(header, 345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${cString(header, 0, 100)}` : cString(header, 0, 100));
    longName = undefined;
    if (type === '0' || type === '\0' || type === '7') yield { path: name, data };
  }
}

/**
 * The parsed `package.json` at the root of an npm tarball. Throws BAD_REQUEST when the data
 * is not a gzip'd tar, or holds no readable `package.json`.
 */
export function readTarballManifest(tgz: Buffer): Record<string, unknown> {
  if (tgz.length < 2 || tgz[0] !== 0x1f || tgz[1] !== 0x8b) throw bad('The package tarball is not gzip-compressed');
  let tar: Buffer;
  try {
    tar = gunzipSync(tgz, { maxOutputLength: MAX_UNPACKED_BYTES });
  } catch (err) {
    throw bad(`The package tarball cannot be decompressed: ${(err as Error).message}`);
  }
  for (const e of entries(tar)) {
    if (!isRootManifest(e.path)) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(e.data.toString('utf8').replace(/^\uFEFF/, ''));
    } catch {
      throw bad(`The package tarball's ${e.path} is not valid JSON`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad(`The package tarball's ${e.path} is not a JSON object`);
    return parsed as Record<string, unknown>;
  }
  throw bad('The package tarball holds no package.json at its root');
}
