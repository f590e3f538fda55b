import { entryContent } from '../../core/zip-scanner.js';
import { goModModulePath, MAX_GO_MOD } from './go-files.js';
import type { Checked } from './module-path.js';

/**
 * The checks a module zip passes before it is stored (the rules of golang.org/x/mod/zip that
 * the go command applies when it extracts one): every entry under `{module}@{version}/`,
 * clean relative file paths with the characters Go allows, no two paths that differ only in
 * case, no file where another path needs a folder, sizes within Go's limits, and the go.mod
 * at the root naming the module. The archive is read through its central directory, as Go
 * reads it, and every entry's local header must carry the same name, so a zip cannot show
 * one set of names to this check and another to a client. Only go.mod is ever inflated.
 */

export interface ModuleZipLimits {
  /** Entries in the archive. */
  maxEntries: number;
  /** Sum of the files' declared sizes, unpacked (Go's MaxZipFile). */
  maxUnpacked: number;
  /** The go.mod and LICENSE files, unpacked (Go's MaxGoMod and MaxLICENSE). */
  maxGoMod: number;
}

export const MODULE_ZIP_LIMITS: ModuleZipLimits = { maxEntries: 50_000, maxUnpacked: 500 << 20, maxGoMod: MAX_GO_MOD };

/** Largest module zip taken, packed: it is checked in memory before it is stored. */
export const MAX_MODULE_ZIP = 64 << 20;

const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const END = 0x06054b50;

interface CentralEntry {
  name: string;
  rawName: Buffer;
  flags: number;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function findEnd(zip: Buffer): number {
  const last = zip.length - 22;
  for (let i = last; i >= 0 && i >= last - 0xffff; i--) {
    if (zip.readUInt32LE(i) === END && i + 22 + zip.readUInt16LE(i + 20) === zip.length) return i;
  }
  return -1;
}

/** The central directory's records and where it starts. */
function readCentral(zip: Buffer, maxEntries: number): Checked<{ entries: CentralEntry[]; directory: number }> {
  const fail = (reason: string): Checked<{ entries: CentralEntry[]; directory: number }> => ({ ok: false, reason });
  const end = zip.length >= 22 ? findEnd(zip) : -1;
  if (end < 0) return fail('the file is not a zip archive (no end of central directory)');
  const count = zip.readUInt16LE(end + 10);
  const size = zip.readUInt32LE(end + 12);
  const offset = zip.readUInt32LE(end + 16);
  if (zip.readUInt16LE(end + 4) !== 0 || zip.readUInt16LE(end + 6) !== 0) return fail('multi-disk zip archives are not supported');
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) return fail('zip64 archives are not supported (a module zip this large is over the limits)');
  if (count > maxEntries) return fail(`the zip has ${count} entries, more than ${maxEntries}`);
  if (offset + size > end) return fail('the zip archive is corrupt (central directory out of bounds)');
  const entries: CentralEntry[] = [];
  let p = offset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > offset + size || zip.readUInt32LE(p) !== CENTRAL) return fail('the zip archive is corrupt (bad central directory record)');
    const flags = zip.readUInt16LE(p + 8);
    const nameLen = zip.readUInt16LE(p + 28);
    const next = p + 46 + nameLen + zip.readUInt16LE(p + 30) + zip.readUInt16LE(p + 32);
    if (next > offset + size) return fail('the zip archive is corrupt (central directory record out of bounds)');
    const rawName = zip.subarray(p + 46, p + 46 + nameLen);
    let name: string;
    try {
      name = utf8.decode(rawName);
    } catch {
      return fail('a zip entry name is not valid UTF-8');
    }
    entries.push({
      name,
      rawName,
      flags,
      method: zip.readUInt16LE(p + 10),
      compressedSize: zip.readUInt32LE(p + 20),
      size: zip.readUInt32LE(p + 24),
      localOffset: zip.readUInt32LE(p + 42),
    });
    p = next;
  }
  if (p !== offset + size) return fail('the zip archive is corrupt (central directory size)');
  return { ok: true, value: { entries, directory: offset } };
}

/** Where an entry's data starts, once its local header is found to match the central record. */
function dataStart(zip: Buffer, e: CentralEntry, directory: number): number | undefined {
  const at = e.localOffset;
  if (at + 30 > directory || zip.readUInt32LE(at) !== LOCAL) return undefined;
  const nameLen = zip.readUInt16LE(at + 26);
  const start = at + 30 + nameLen + zip.readUInt16LE(at + 28);
  if (!zip.subarray(at + 30, at + 30 + nameLen).equals(e.rawName)) return undefined;
  if (start + e.compressedSize > directory) return undefined;
  return start;
}

/** ASCII characters Go allows in file names, besides letters and digits (module.CheckFilePath). */
const FILE_PUNCTUATION = new Set('!#$%&()+,-.=@[]^_{}~ ');
const RESERVED = /^(CON|PRN|AUX|NUL|COM[1-9]|LPT[1-9])$/i;

/** Why a file path inside a module is refused (module.CheckFilePath); undefined when it is fine. */
export function checkFilePath(path: string): string | undefined {
  if (path === '' || path.startsWith('/') || path.endsWith('/')) return 'not a clean relative file path';
  for (const elem of path.split('/')) {
    if (elem === '' || elem === '.' || elem === '..') return `'${elem}' is not allowed as a path element`;
    for (const c of elem) {
      const code = c.codePointAt(0)!;
      if (code < 0x80 ? !/[A-Za-z0-9]/.test(c) && !FILE_PUNCTUATION.has(c) : !/\p{L}/u.test(c)) return `invalid character ${JSON.stringify(c)}`;
    }
    if (elem.endsWith('.')) return 'trailing dot in a path element';
    if (RESERVED.test(elem.split('.')[0])) return `'${elem}' is a reserved file name`;
    if (/~[0-9]+$/.test(elem.split('.')[0])) return 'a path element ends in a tilde and digits';
  }
  return undefined;
}

export interface ModuleZipSummary {
  /** The go.mod at the root of the module, when the zip has one. */
  goMod?: Buffer;
  files: number;
}

/** Checks a module zip for `module` at `version`; the reason it is refused, or what it holds. */
export async function checkModuleZip(zip: Buffer, module: string, version: string, limits: ModuleZipLimits = MODULE_ZIP_LIMITS): Promise<Checked<ModuleZipSummary>> {
  const fail = (reason: string): Checked<ModuleZipSummary> => ({ ok: false, reason: `invalid module zip: ${reason}` });
  const central = readCentral(zip, limits.maxEntries);
  if (!central.ok) return fail(central.reason);
  const { entries, directory } = central.value;
  const prefix = `${module}@${version}/`;
  const files = new Set<string>();
  const folders = new Set<string>();
  let unpacked = 0;
  let goMod: CentralEntry | undefined;
  let fileCount = 0;
  for (const e of entries) {
    if (!e.name.startsWith(prefix)) return fail(`'${e.name}' is not under '${prefix}'`);
    if (e.flags & 1) return fail(`'${e.name}' is encrypted`);
    if (e.method !== 0 && e.method !== 8) return fail(`'${e.name}' uses compression method ${e.method} (only stored and deflate are allowed)`);
    if (dataStart(zip, e, directory) === undefined) return fail(`the local header of '${e.name}' does not match its central directory record`);
    let name = e.name.slice(prefix.length);
    if (name === '') continue;
    const folder = name.endsWith('/');
    if (folder) name = name.slice(0, -1);
    const bad = checkFilePath(name);
    if (bad) return fail(`'${e.name}': ${bad}`);
    const key = name.toLowerCase();
    if (folder) {
      if (files.has(key)) return fail(`'${e.name}' is both a file and a folder`);
      folders.add(key);
      continue;
    }
    if (files.has(key)) return fail(`'${e.name}' appears twice (names that differ only in case collide)`);
    if (folders.has(key)) return fail(`'${e.name}' is both a file and a folder`);
    files.add(key);
    for (let i = key.indexOf('/'); i >= 0; i = key.indexOf('/', i + 1)) {
      const parent = key.slice(0, i);
      if (files.has(parent)) return fail(`'${prefix}${name.slice(0, i)}' is both a file and a folder`);
      folders.add(parent);
    }
    fileCount++;
    unpacked += e.size;
    if (unpacked > limits.maxUnpacked) return fail(`the files unpack to more than ${limits.maxUnpacked} bytes`);
    if ((name === 'go.mod' || name === 'LICENSE') && e.size > limits.maxGoMod) return fail(`'${e.name}' is larger than ${limits.maxGoMod} bytes`);
    if (name === 'go.mod') goMod = e;
  }
  if (!goMod) return { ok: true, value: { files: fileCount } };
  const start = dataStart(zip, goMod, directory)!;
  let content: Buffer;
  try {
    content = await entryContent(
      { name: goMod.name, method: goMod.method, compressedSize: goMod.compressedSize, size: goMod.size, encrypted: false, offset: start, data: zip.subarray(start, start + goMod.compressedSize) },
      { maxBytes: limits.maxGoMod, maxRatio: 1000, allowance: 1 << 20 },
    );
  } catch (err) {
    return fail((err as Error).message);
  }
  if (content.length !== goMod.size) return fail(`'${goMod.name}' unpacks to ${content.length} bytes, its header says ${goMod.size}`);
  const declared = goModModulePath(content);
  if (declared !== module) return fail(`its go.mod declares module '${declared ?? '(none)'}', not '${module}'`);
  return { ok: true, value: { goMod: content, files: fileCount } };
}
