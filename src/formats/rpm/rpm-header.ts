/**
 * Reads an RPM package's lead, signature header and main header (the format of rpm's
 * `lib/header.c` and the LSB "Package File Format"), in process and with bounds: the lead
 * (96 bytes, magic `ed ab ee db`), the signature header (padded to 8 bytes), then the main
 * header, each a header structure: magic `8e ad e8 01`, 4 reserved bytes, the number of index
 * entries and the size of the data store (32-bit big endian), the entries (tag, type, offset,
 * count) and the store. Every entry must lie inside its store; counts and sizes are capped, so
 * a hostile file costs at most its (bounded) size to refuse. The payload is never read.
 */
import { ArcaError } from '../../core/errors.js';

const LEAD_SIZE = 96;
const LEAD_MAGIC = 0xedabeedb;
const HEADER_MAGIC = [0x8e, 0xad, 0xe8, 0x01];
/** Most index entries in a header (rpm's own limit, HEADER_TAGS_MAX). */
export const MAX_HEADER_ENTRIES = 0xffff;
/** Largest data store of the main header (rpm allows 256 MiB; real headers are well under 32 MiB). */
export const MAX_HEADER_DATA = 64 * 1024 * 1024;
/** Largest data store of the signature header (signatures and digests: a few KiB). */
const MAX_SIGNATURE_DATA = 1024 * 1024;

const TYPE = { CHAR: 1, INT8: 2, INT16: 3, INT32: 4, INT64: 5, STRING: 6, BIN: 7, STRING_ARRAY: 8, I18NSTRING: 9 } as const;

/** The tags read (rpmtag.h). */
const TAG = {
  NAME: 1000, VERSION: 1001, RELEASE: 1002, EPOCH: 1003, SUMMARY: 1004, DESCRIPTION: 1005, BUILDTIME: 1006,
  BUILDHOST: 1007, SIZE: 1009, VENDOR: 1011, LICENSE: 1014, PACKAGER: 1015, GROUP: 1016, URL: 1020, ARCH: 1022,
  OLDFILENAMES: 1027, FILEMODES: 1030, FILEFLAGS: 1037, SOURCERPM: 1044, ARCHIVESIZE: 1046,
  PROVIDENAME: 1047, REQUIREFLAGS: 1048, REQUIRENAME: 1049, REQUIREVERSION: 1050,
  CONFLICTFLAGS: 1053, CONFLICTNAME: 1054, CONFLICTVERSION: 1055,
  CHANGELOGTIME: 1080, CHANGELOGNAME: 1081, CHANGELOGTEXT: 1082,
  OBSOLETENAME: 1090, PROVIDEFLAGS: 1112, PROVIDEVERSION: 1113, OBSOLETEFLAGS: 1114, OBSOLETEVERSION: 1115,
  DIRINDEXES: 1116, BASENAMES: 1117, DIRNAMES: 1118, SOURCEPACKAGE: 1106,
  LONGSIZE: 5009, LONGARCHIVESIZE: 271,
  RECOMMENDNAME: 5046, RECOMMENDVERSION: 5047, RECOMMENDFLAGS: 5048,
  SUGGESTNAME: 5049, SUGGESTVERSION: 5050, SUGGESTFLAGS: 5051,
  SUPPLEMENTNAME: 5052, SUPPLEMENTVERSION: 5053, SUPPLEMENTFLAGS: 5054,
  ENHANCENAME: 5055, ENHANCEVERSION: 5056, ENHANCEFLAGS: 5057,
} as const;
/** Signature header tags: the uncompressed payload size (32 and 64 bit). */
const SIG_PAYLOADSIZE = 1007;
const SIG_LONGARCHIVESIZE = 271;

/** A dependency (`Requires: foo >= 1.0`), as rpm keeps it: name, sense flags, version text. */
export interface RpmDependency {
  name: string;
  flags: number;
  version: string;
}

export interface RpmFile {
  path: string;
  type: 'file' | 'dir' | 'ghost';
}

export interface RpmChangelog {
  author: string;
  /** Seconds since the epoch. */
  date: number;
  text: string;
}

export type DependencyKind = 'provides' | 'requires' | 'conflicts' | 'obsoletes' | 'recommends' | 'suggests' | 'supplements' | 'enhances';
export const DEPENDENCY_KINDS: readonly DependencyKind[] = ['provides', 'requires', 'conflicts', 'obsoletes', 'recommends', 'suggests', 'supplements', 'enhances'];

/** What the repository metadata says of a package, read from its headers. */
export interface RpmHeader {
  name: string;
  epoch: number;
  version: string;
  release: string;
  /** `src` for a source package. */
  arch: string;
  summary: string;
  description: string;
  packager: string;
  url: string;
  license: string;
  vendor: string;
  group: string;
  buildhost: string;
  sourcerpm: string;
  buildTime: number;
  installedSize: number;
  archiveSize: number;
  /** Byte offsets of the main header in the file (createrepo's `rpm:header-range`). */
  headerStart: number;
  headerEnd: number;
  dependencies: Record<DependencyKind, RpmDependency[]>;
  files: RpmFile[];
  changelogs: RpmChangelog[];
}

const bad = (message: string) => new ArcaError('BAD_REQUEST', `Not a valid RPM package: ${message}`);

interface Entry {
  type: number;
  offset: number;
  count: number;
}

/** Most files a package may list, and most dependencies of one kind. */
export const MAX_FILES = 1_000_000;
export const MAX_DEPENDENCIES = 100_000;

/** One header structure: its entries by tag and its data store. */
class Header {
  /** Bytes of the store read so far: entries that overlap could make a small header cost a lot. */
  private scanned = 0;

  constructor(
    readonly entries: Map<number, Entry>,
    readonly store: Buffer,
  ) {}

  private entry(tag: number, types: readonly number[]): Entry | undefined {
    const e = this.entries.get(tag);
    if (!e || !types.includes(e.type)) return undefined;
    return e;
  }

  private stringAt(offset: number): { value: string; end: number } {
    const end = this.store.indexOf(0, offset);
    if (end < 0) throw bad('a string runs past the end of its header');
    this.scanned += end + 1 - offset;
    if (this.scanned > 2 * this.store.length + 65536) throw bad('its header entries overlap');
    return { value: this.store.toString('utf8', offset, end), end: end + 1 };
  }

  string(tag: number): string {
    const e = this.entry(tag, [TYPE.STRING, TYPE.I18NSTRING, TYPE.STRING_ARRAY]);
    // An i18n string is an array whose first element is the C locale's text.
    return e && e.count > 0 ? this.stringAt(e.offset).value : '';
  }

  strings(tag: number): string[] {
    const e = this.entry(tag, [TYPE.STRING_ARRAY, TYPE.I18NSTRING, TYPE.STRING]);
    if (!e) return [];
    const out: string[] = [];
    let at = e.offset;
    for (let i = 0; i < e.count; i++) {
      const s = this.stringAt(at);
      out.push(s.value);
      at = s.end;
    }
    return out;
  }

  numbers(tag: number): number[] {
    const e = this.entry(tag, [TYPE.INT8, TYPE.CHAR, TYPE.INT16, TYPE.INT32, TYPE.INT64]);
    if (!e) return [];
    const width = e.type === TYPE.INT64 ? 8 : e.type === TYPE.INT32 ? 4 : e.type === TYPE.INT16 ? 2 : 1;
    if (e.offset + e.count * width > this.store.length) throw bad(`tag ${tag} runs past the end of its header`);
    const out = new Array<number>(e.count);
    for (let i = 0; i < e.count; i++) {
      const at = e.offset + i * width;
      out[i] = width === 8 ? Number(this.store.readBigUInt64BE(at)) : width === 4 ? this.store.readUInt32BE(at) : width === 2 ? this.store.readUInt16BE(at) : this.store[at];
    }
    return out;
  }

  number(tag: number): number | undefined {
    return this.numbers(tag)[0];
  }
}

/** Reads a header structure at `start` of `data`; `end` is where the data store ends. */
function readHeader(data: Buffer, start: number, maxData: number, what: string): { header: Header; end: number } {
  if (data.length < start + 16) throw bad(`the ${what} is truncated`);
  for (let i = 0; i < 4; i++) if (data[start + i] !== HEADER_MAGIC[i]) throw bad(`the ${what} has a bad magic number`);
  const count = data.readUInt32BE(start + 8);
  const size = data.readUInt32BE(start + 12);
  if (count === 0 || count > MAX_HEADER_ENTRIES) throw bad(`the ${what} has ${count} entries (1 to ${MAX_HEADER_ENTRIES} allowed)`);
  if (size > maxData) throw bad(`the ${what}'s data is ${size} bytes (at most ${maxData} allowed)`);
  const storeStart = start + 16 + count * 16;
  const end = storeStart + size;
  if (data.length < end) throw bad(`the ${what} is truncated`);
  const store = data.subarray(storeStart, end);
  const entries = new Map<number, Entry>();
  for (let i = 0; i < count; i++) {
    const at = start + 16 + i * 16;
    const tag = data.readUInt32BE(at);
    const type = data.readUInt32BE(at + 4);
    const offset = data.readInt32BE(at + 8);
    const n = data.readUInt32BE(at + 12);
    if (type > TYPE.I18NSTRING) throw bad(`the ${what} has an entry of unknown type ${type}`);
    // Each element takes at least one byte of the store (a string's terminator), so no count exceeds its size.
    if (offset < 0 || offset > size || n > size - offset) {
      throw bad(`an entry of the ${what} (tag ${tag}) lies outside its data`);
    }
    if (!entries.has(tag)) entries.set(tag, { type, offset, count: n });
  }
  return { header: new Header(entries, store), end };
}

function dependencies(h: Header, names: number, flags: number, versions: number, what: string): RpmDependency[] {
  const n = h.strings(names);
  if (n.length === 0) return [];
  if (n.length > MAX_DEPENDENCIES) throw bad(`it lists ${n.length} ${what} (at most ${MAX_DEPENDENCIES})`);
  const f = h.numbers(flags);
  const v = h.strings(versions);
  if ((f.length > 0 && f.length !== n.length) || (v.length > 0 && v.length !== n.length)) throw bad(`its ${what} lists disagree in length`);
  return n.map((name, i) => ({ name, flags: f[i] ?? 0, version: v[i] ?? '' }));
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const RPMFILE_GHOST = 1 << 6;

function files(h: Header): RpmFile[] {
  let paths: string[];
  const basenames = h.strings(TAG.BASENAMES);
  if (basenames.length > 0) {
    const dirnames = h.strings(TAG.DIRNAMES);
    const indexes = h.numbers(TAG.DIRINDEXES);
    if (indexes.length !== basenames.length) throw bad('its file lists disagree in length');
    if (basenames.length > MAX_FILES) throw bad(`it lists ${basenames.length} files (at most ${MAX_FILES})`);
    // Paths are made of a directory and a base name: many files in one long directory could
    // make a small header name far more text than it holds.
    let total = 0;
    paths = basenames.map((b, i) => {
      const dir = dirnames[indexes[i]];
      if (dir === undefined) throw bad('a file names a directory the package does not list');
      total += dir.length + b.length;
      if (total > MAX_HEADER_DATA) throw bad(`its file paths come to more than ${MAX_HEADER_DATA} bytes`);
      return dir + b;
    });
  } else {
    paths = h.strings(TAG.OLDFILENAMES);
  }
  if (paths.length > MAX_FILES) throw bad(`it lists ${paths.length} files (at most ${MAX_FILES})`);
  const modes = h.numbers(TAG.FILEMODES);
  const flags = h.numbers(TAG.FILEFLAGS);
  return paths.map((path, i) => ({
    path,
    type: ((flags[i] ?? 0) & RPMFILE_GHOST) !== 0 ? 'ghost' : ((modes[i] ?? 0) & S_IFMT) === S_IFDIR ? 'dir' : 'file',
  }));
}

function changelogs(h: Header): RpmChangelog[] {
  const times = h.numbers(TAG.CHANGELOGTIME);
  const names = h.strings(TAG.CHANGELOGNAME);
  const texts = h.strings(TAG.CHANGELOGTEXT);
  if (names.length !== times.length || texts.length !== times.length) {
    if (times.length === 0 && names.length === 0 && texts.length === 0) return [];
    throw bad('its changelog lists disagree in length');
  }
  return times.map((date, i) => ({ date, author: names[i], text: texts[i] }));
}

/**
 * Reads the headers of the RPM package at the start of `data` (the whole file, or at least its
 * lead and headers); throws BAD_REQUEST for anything that is not a well-formed package.
 */
export function readRpmHeader(data: Buffer): RpmHeader {
  if (data.length < LEAD_SIZE) throw bad('the file is shorter than an RPM lead');
  if (data.readUInt32BE(0) !== LEAD_MAGIC) throw bad('bad magic number (not an RPM file)');
  const sig = readHeader(data, LEAD_SIZE, MAX_SIGNATURE_DATA, 'signature header');
  const headerStart = sig.end + ((8 - (sig.end % 8)) % 8);
  const main = readHeader(data, headerStart, MAX_HEADER_DATA, 'header');
  const h = main.header;
  const name = h.string(TAG.NAME);
  const version = h.string(TAG.VERSION);
  const release = h.string(TAG.RELEASE);
  if (!name || !version || !release) throw bad('its header has no name, version or release');
  const source = h.entries.has(TAG.SOURCEPACKAGE) || h.string(TAG.SOURCERPM) === '';
  const arch = source ? 'src' : h.string(TAG.ARCH);
  if (!arch) throw bad('its header has no architecture');
  const deps = {
    provides: dependencies(h, TAG.PROVIDENAME, TAG.PROVIDEFLAGS, TAG.PROVIDEVERSION, 'provides'),
    requires: dependencies(h, TAG.REQUIRENAME, TAG.REQUIREFLAGS, TAG.REQUIREVERSION, 'requires'),
    conflicts: dependencies(h, TAG.CONFLICTNAME, TAG.CONFLICTFLAGS, TAG.CONFLICTVERSION, 'conflicts'),
    obsoletes: dependencies(h, TAG.OBSOLETENAME, TAG.OBSOLETEFLAGS, TAG.OBSOLETEVERSION, 'obsoletes'),
    recommends: dependencies(h, TAG.RECOMMENDNAME, TAG.RECOMMENDFLAGS, TAG.RECOMMENDVERSION, 'recommends'),
    suggests: dependencies(h, TAG.SUGGESTNAME, TAG.SUGGESTFLAGS, TAG.SUGGESTVERSION, 'suggests'),
    supplements: dependencies(h, TAG.SUPPLEMENTNAME, TAG.SUPPLEMENTFLAGS, TAG.SUPPLEMENTVERSION, 'supplements'),
    enhances: dependencies(h, TAG.ENHANCENAME, TAG.ENHANCEFLAGS, TAG.ENHANCEVERSION, 'enhances'),
  };
  const s = sig.header;
  return {
    name,
    epoch: h.number(TAG.EPOCH) ?? 0,
    version,
    release,
    arch,
    summary: h.string(TAG.SUMMARY),
    description: h.string(TAG.DESCRIPTION),
    packager: h.string(TAG.PACKAGER),
    url: h.string(TAG.URL),
    license: h.string(TAG.LICENSE),
    vendor: h.string(TAG.VENDOR),
    group: h.string(TAG.GROUP),
    buildhost: h.string(TAG.BUILDHOST),
    sourcerpm: source ? '' : h.string(TAG.SOURCERPM),
    buildTime: h.number(TAG.BUILDTIME) ?? 0,
    installedSize: h.number(TAG.LONGSIZE) ?? h.number(TAG.SIZE) ?? 0,
    archiveSize: s.number(SIG_LONGARCHIVESIZE) ?? s.number(SIG_PAYLOADSIZE) ?? h.number(TAG.LONGARCHIVESIZE) ?? h.number(TAG.ARCHIVESIZE) ?? 0,
    headerStart,
    headerEnd: main.end,
    dependencies: deps,
    files: files(h),
    changelogs: changelogs(h),
  };
}

/** Bytes of a package to read to find its headers: the lead, the signature header and the main header at their largest. */
export const MAX_HEADERS_BYTES = LEAD_SIZE + 16 + 16 * MAX_HEADER_ENTRIES + MAX_SIGNATURE_DATA + 8 + 16 + 16 * MAX_HEADER_ENTRIES + MAX_HEADER_DATA;
