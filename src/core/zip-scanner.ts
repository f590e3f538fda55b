import { inflateBounded, type InflateLimits } from './bounded-inflate.js';
import { isArcaError } from './errors.js';

/**
 * Reads a zip archive as it streams past (local file headers, front to back) and keeps the
 * entries a caller asks for (notes their names, offsets and sizes: the archive explode and
 * the archive entry index, services/archives/), so a wheel's `.dist-info/METADATA` is known when the upload
 * ends without holding the archive in memory or reading it twice. Entries it does not keep
 * are skipped by count. Entries written with a data descriptor (general-purpose bit 3, sizes
 * after the data) are delimited by the descriptor's signature and its compressed size,
 * which must equal the bytes seen since the entry's data began. The central directory is
 * walked to its end record, so a truncated archive is noticed.
 */

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL = 0x06054b50;
const ZIP64_END = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const DESCRIPTOR_SIG = Buffer.from([0x50, 0x4b, 0x07, 0x08]);

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  encrypted: boolean;
  /** Where the entry's compressed bytes start, from the start of the archive. */
  offset: number;
  /** The unix mode of the central directory record (0 when not unix-made), once the directory is read. */
  mode?: number;
  /** The compressed bytes, for kept entries only. */
  data?: Buffer;
}

export interface ZipScanOptions {
  /** Which entries to keep (their compressed bytes). */
  keep: (name: string) => boolean;
  /** Which entry names to remember without keeping data. */
  note?: (name: string) => boolean;
  /** Largest kept entry, compressed, in bytes. */
  maxKeptBytes?: number;
}

type State =
  | { kind: 'header' }
  | { kind: 'data'; entry: ZipEntry; remaining: number; parts?: Buffer[] }
  | { kind: 'descriptor'; entry: ZipEntry; seen: number; parts?: Buffer[] }
  | { kind: 'central'; records: number }
  | { kind: 'done' }
  | { kind: 'failed'; reason: string };

export class ZipScanner {
  private state: State = { kind: 'header' };
  private pending: Buffer = Buffer.alloc(0);
  private readonly maxKept: number;
  private entryCount = 0;
  /** Bytes pushed so far. */
  private pushed = 0;
  /** Kept and noted entries, in archive order. */
  readonly entries: ZipEntry[] = [];

  constructor(private readonly options: ZipScanOptions) {
    this.maxKept = options.maxKeptBytes ?? 8 * 1024 * 1024;
  }

  push(chunk: Uint8Array): void {
    if (this.state.kind === 'done' || this.state.kind === 'failed') return;
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.pushed += buf.length;
    this.pending = this.pending.length === 0 ? buf : Buffer.concat([this.pending, buf]);
    while (this.step());
  }

  /** Local headers read so far. */
  get count(): number {
    return this.entryCount;
  }

  /** After the last chunk: undefined when the archive was read to its central directory, else why not. */
  finish(): string | undefined {
    if (this.state.kind === 'done') return undefined;
    if (this.state.kind === 'failed') return this.state.reason;
    return this.entryCount === 0 && this.pending.length < 4 ? 'the file is empty or not a zip archive' : 'the zip archive is truncated';
  }

  private fail(reason: string): boolean {
    this.state = { kind: 'failed', reason };
    this.pending = Buffer.alloc(0);
    return false;
  }

  /** One step of the state machine; false when it needs more bytes or has stopped. */
  private step(): boolean {
    const s = this.state;
    if (s.kind === 'header') return this.readHeader();
    if (s.kind === 'data') return this.readData(s);
    if (s.kind === 'descriptor') return this.searchDescriptor(s);
    if (s.kind === 'central') return this.readCentral(s);
    return false;
  }

  private readHeader(): boolean {
    const p = this.pending;
    if (p.length < 4) return false;
    const sig = p.readUInt32LE(0);
    if (sig === CENTRAL_HEADER || sig === END_OF_CENTRAL || sig === ZIP64_END) {
      this.state = { kind: 'central', records: 0 };
      return true;
    }
    if (sig !== LOCAL_HEADER) {
      return this.fail(this.entryCount === 0 ? 'the file is not a zip archive' : 'the zip archive is corrupt (bad local header)');
    }
    if (p.length < 30) return false;
    const flags = p.readUInt16LE(6);
    const method = p.readUInt16LE(8);
    let compressedSize = p.readUInt32LE(18);
    let size = p.readUInt32LE(22);
    const nameLen = p.readUInt16LE(26);
    const extraLen = p.readUInt16LE(28);
    if (p.length < 30 + nameLen + extraLen) return false;
    const name = p.toString(flags & 0x800 ? 'utf8' : 'latin1', 30, 30 + nameLen);
    const extra = p.subarray(30 + nameLen, 30 + nameLen + extraLen);
    if (compressedSize === 0xffffffff || size === 0xffffffff) {
      const z64 = zip64Sizes(extra);
      if (!z64) return this.fail(`the zip entry '${name}' has no zip64 sizes`);
      ({ compressedSize, size } = z64);
    }
    this.pending = p.subarray(30 + nameLen + extraLen);
    this.entryCount++;
    const offset = this.pushed - this.pending.length;
    const entry: ZipEntry = { name, method, compressedSize, size, encrypted: (flags & 1) !== 0, offset };
    const keep = this.options.keep(name);
    if (keep || this.options.note?.(name)) this.entries.push(entry);
    const parts = keep ? [] : undefined;
    if (flags & 0x8) this.state = { kind: 'descriptor', entry, seen: 0, parts };
    else {
      if (keep && compressedSize > this.maxKept) return this.fail(`the zip entry '${name}' is larger than ${this.maxKept} bytes`);
      this.state = { kind: 'data', entry, remaining: compressedSize, parts };
    }
    return true;
  }

  /** Walks the central directory records up to the end record (and its comment). */
  private readCentral(s: Extract<State, { kind: 'central' }>): boolean {
    const p = this.pending;
    if (p.length < 4) return false;
    const sig = p.readUInt32LE(0);
    let length: number;
    if (sig === CENTRAL_HEADER) {
      if (p.length < 46) return false;
      length = 46 + p.readUInt16LE(28) + p.readUInt16LE(30) + p.readUInt16LE(32);
    } else if (sig === ZIP64_END) {
      if (p.length < 12) return false;
      length = 12 + Number(p.readBigUInt64LE(4));
    } else if (sig === ZIP64_LOCATOR) {
      length = 20;
    } else if (sig === END_OF_CENTRAL) {
      if (p.length < 22) return false;
      const total = p.readUInt16LE(10);
      if (total !== 0xffff && total !== s.records) return this.fail('the zip archive is corrupt (central directory count)');
      if (s.records !== this.entryCount) return this.fail('the zip archive is corrupt (central directory and entries differ)');
      length = 22 + p.readUInt16LE(20);
      if (p.length < length) return false;
      this.state = { kind: 'done' };
      this.pending = Buffer.alloc(0);
      return false;
    } else {
      return this.fail('the zip archive is corrupt (bad central directory)');
    }
    if (p.length < length) return false;
    if (sig === CENTRAL_HEADER) {
      // The unix mode (made on unix: high byte of "version made by" is 3) of a noted entry.
      const noted = this.entries[s.records];
      const raw = p.subarray(46, 46 + p.readUInt16LE(28));
      if (noted && (raw.toString('utf8') === noted.name || raw.toString('latin1') === noted.name)) {
        noted.mode = p[5] === 3 ? p.readUInt32LE(38) >>> 16 : 0;
      }
      s.records++;
    }
    this.pending = p.subarray(length);
    return true;
  }

  private readData(s: Extract<State, { kind: 'data' }>): boolean {
    const take = Math.min(s.remaining, this.pending.length);
    if (take > 0) s.parts?.push(this.pending.subarray(0, take));
    s.remaining -= take;
    this.pending = this.pending.subarray(take);
    if (s.remaining > 0) return false;
    if (s.parts) s.entry.data = Buffer.concat(s.parts);
    this.state = { kind: 'header' };
    return true;
  }

  private searchDescriptor(s: Extract<State, { kind: 'descriptor' }>): boolean {
    const p = this.pending;
    let from = 0;
    for (;;) {
      const i = p.indexOf(DESCRIPTOR_SIG, from);
      // Not decidable before 24 bytes (the zip64 form) are there; the central directory
      // that follows the last entry guarantees they arrive.
      if (i < 0 || i + 24 > p.length) {
        const safe = i < 0 ? Math.max(0, p.length - 3) : i;
        this.consumeDescriptorData(s, safe);
        return false;
      }
      const at = s.seen + i;
      const descriptorLength = p.readUInt32LE(i + 8) === at ? 16 : Number(p.readBigUInt64LE(i + 8)) === at ? 24 : 0;
      if (descriptorLength === 0) {
        from = i + 1;
        continue;
      }
      this.consumeDescriptorData(s, i);
      if (this.state.kind === 'failed') return false;
      s.entry.compressedSize = at;
      s.entry.size = descriptorLength === 16 ? this.pending.readUInt32LE(12) : Number(this.pending.readBigUInt64LE(16));
      this.pending = this.pending.subarray(descriptorLength);
      if (s.parts) s.entry.data = Buffer.concat(s.parts);
      this.state = { kind: 'header' };
      return true;
    }
  }

  private consumeDescriptorData(s: Extract<State, { kind: 'descriptor' }>, n: number): void {
    if (n === 0) return;
    if (s.parts) {
      if (s.seen + n > this.maxKept) {
        this.fail(`the zip entry '${s.entry.name}' is larger than ${this.maxKept} bytes`);
        return;
      }
      s.parts.push(this.pending.subarray(0, n));
    }
    s.seen += n;
    this.pending = this.pending.subarray(n);
  }
}

function zip64Sizes(extra: Buffer): { size: number; compressedSize: number } | undefined {
  for (let o = 0; o + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(o);
    const len = extra.readUInt16LE(o + 2);
    if (id === 0x0001 && len >= 16 && o + 4 + len <= extra.length) {
      return { size: Number(extra.readBigUInt64LE(o + 4)), compressedSize: Number(extra.readBigUInt64LE(o + 12)) };
    }
    o += 4 + len;
  }
  return undefined;
}

/** How far a kept zip entry may inflate unless the caller says otherwise. */
export const ZIP_ENTRY_LIMITS: InflateLimits = { maxBytes: 8 * 1024 * 1024, maxRatio: 100, allowance: 1024 * 1024 };

/**
 * The uncompressed bytes of a kept entry (stored or deflated), inflated on zlib's thread
 * pool within `limits` (an absolute cap and a ratio to the compressed size). Throws an Error
 * saying what is wrong.
 */
export async function entryContent(entry: ZipEntry, limits: InflateLimits = ZIP_ENTRY_LIMITS): Promise<Buffer> {
  if (!entry.data) throw new Error(`the zip entry '${entry.name}' was not kept`);
  if (entry.encrypted) throw new Error(`the zip entry '${entry.name}' is encrypted`);
  if (entry.method === 0) {
    if (entry.data.length > limits.maxBytes) throw new Error(`the zip entry '${entry.name}' is larger than ${limits.maxBytes} bytes, the limit`);
    return entry.data;
  }
  if (entry.method !== 8) throw new Error(`the zip entry '${entry.name}' uses compression method ${entry.method} (only stored and deflate are supported)`);
  try {
    return await inflateBounded(entry.data, { format: 'deflate-raw', limits, what: `the zip entry '${entry.name}'` });
  } catch (err) {
    // The inflater's message names the entry and what is wrong (a limit, or a broken stream).
    throw new Error(isArcaError(err) ? err.message : `the zip entry '${entry.name}' cannot be inflated: ${(err as Error).message}`);
  }
}
