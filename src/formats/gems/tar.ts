/**
 * A reader of the tar archives a .gem is made of (POSIX ustar as RubyGems' Gem::Package::TarWriter
 * writes them, plus GNU long names and pax `path` records that other tools add). Header
 * checksums are verified; the caller bounds entry counts and sizes.
 */
import { cString } from '../../core/tar.js';

export interface TarHeader {
  name: string;
  /** '0' regular file, '5' directory, '2' symbolic link, … (NUL reads as '0'). */
  type: string;
  size: number;
  linkName: string;
}

export class TarError extends Error {}

function octal(b: Buffer, start: number, length: number, what: string): number {
  if (b[start] & 0x80) {
    // GNU base-256: only sizes that fit a safe integer.
    let n = 0;
    for (let i = start + 1; i < start + length; i++) n = n * 256 + b[i];
    if (!Number.isSafeInteger(n)) throw new TarError(`tar ${what} is too large`);
    return n;
  }
  const s = cString(b, start, length).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarError(`tar ${what} is not an octal number`);
  return parseInt(s, 8);
}

/** True for a block of 512 zero bytes (the end-of-archive marker). */
export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < 512; i++) if (block[i] !== 0) return false;
  return true;
}

/** Parses one 512-byte header block; throws TarError when it is not a valid header. */
export function parseTarHeader(block: Buffer): TarHeader {
  if (block.length < 512) throw new TarError('truncated tar header');
  const stored = octal(block, 148, 8, 'header checksum');
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : block[i];
  if (sum !== stored) throw new TarError('tar header checksum mismatch');
  let name = cString(block, 0, 100);
  const magic = block.subarray(257, 262).toString('latin1');
  if (magic === 'ustar') {
    const prefix = cString(block, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  const type = block[156] === 0 ? '0' : String.fromCharCode(block[156]);
  return { name, type, size: octal(block, 124, 12, 'entry size'), linkName: cString(block, 157, 100) };
}

/** The `path` of a pax extended header's records, if it has one. */
export function paxPath(data: Buffer): string | undefined {
  let at = 0;
  let path: string | undefined;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const length = Number(data.subarray(at, space).toString('latin1'));
    if (!Number.isInteger(length) || length <= 0 || at + length > data.length) throw new TarError('malformed pax header');
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0 && record.slice(0, eq) === 'path') path = record.slice(eq + 1);
    at += length;
  }
  return path;
}

/** A path that stays inside the directory it is unpacked into (no absolute path, no `..`, no NUL). */
export function isSafeEntryPath(path: string): boolean {
  if (path === '' || path.includes('\0') || path.startsWith('/') || path.includes('\\') || /^[A-Za-z]:/.test(path)) return false;
  return !path.split('/').some((s) => s === '..');
}

/** The regular files of an in-memory tar (the outer .gem archive), refusing anything else. */
export function readTarFiles(tar: Buffer, maxEntries: number): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let at = 0;
  while (at + 512 <= tar.length) {
    const block = tar.subarray(at, at + 512);
    if (isZeroBlock(block)) return files;
    const h = parseTarHeader(block);
    at += 512;
    if (h.type !== '0') throw new TarError(`unexpected tar entry '${h.name}' of type '${h.type}'`);
    if (at + h.size > tar.length) throw new TarError(`tar entry '${h.name}' is truncated`);
    if (!isSafeEntryPath(h.name)) throw new TarError(`tar entry '${h.name}' has an unsafe path`);
    if (files.has(h.name)) throw new TarError(`tar entry '${h.name}' appears twice`);
    if (files.size >= maxEntries) throw new TarError(`the archive has more than ${maxEntries} entries`);
    files.set(h.name, tar.subarray(at, at + h.size));
    at += Math.ceil(h.size / 512) * 512;
  }
  if (at !== tar.length || files.size === 0) throw new TarError('the archive is truncated or empty');
  return files;
}
