/**
 * The fields of a tar header (POSIX ustar, with GNU base-256 sizes and pax/GNU long names), read
 * by the archive explode (services/archives/archive-reader.ts) and by `TarStream`, the streaming
 * reader of the npm tarball and Helm chart checks; and the header written by the folder download.
 */
export const TAR_BLOCK = 512;

/** A NUL-terminated field of a header. */
export function cString(buf: Buffer, start: number, length: number): string {
  const field = buf.subarray(start, start + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? field.length : nul).toString('utf8');
}

/** The size field at `start` (octal, or GNU base-256); undefined when it is neither. */
export function tarSize(buf: Buffer, start = 124): number | undefined {
  const field = buf.subarray(start, start + 12);
  if (field[0] & 0x80) {
    // GNU base-256: big-endian, high bit of the first byte is the marker.
    let n = field[0] & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i];
    return n;
  }
  const text = cString(buf, start, 12).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return undefined;
  return parseInt(text, 8);
}

/** The `path` record of a pax extended header, if it has one. */
export function paxPath(data: Buffer): string | undefined {
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

/** The path a header names (ustar prefix joined), before any long-name record is applied. */
export function headerPath(h: Buffer): string {
  const ustar = cString(h, 257, 6) === 'ustar';
  const prefix = ustar ? cString(h, 345, 155) : '';
  return prefix ? `${prefix}/${cString(h, 0, 100)}` : cString(h, 0, 100);
}

function octal(buf: Buffer, start: number, length: number, value: number): void {
  buf.write(value.toString(8).padStart(length - 1, '0'), start, length - 1, 'ascii');
}

/**
 * A ustar header of a regular file (`type` '0') or pax record ('x'); `name` must fit in 100
 * bytes (a longer one goes in a pax record first, see `paxRecord`).
 */
export function tarHeader(name: string, size: number, mtimeMs: number, type: '0' | 'x' = '0'): Buffer {
  const h = Buffer.alloc(TAR_BLOCK);
  h.write(name, 0, 100, 'utf8');
  octal(h, 100, 8, 0o644);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, Math.floor(mtimeMs / 1000));
  h.write('        ', 148, 8, 'ascii');
  h.write(type, 156, 1, 'ascii');
  h.write('ustar\u000000', 257, 8, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return h;
}

/** A pax extended header record `path=<path>` with its header, padded to whole blocks. */
export function paxRecord(path: string, mtimeMs: number): Buffer {
  const body = ` path=${path}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  const data = Buffer.from(`${len}${body}`);
  const pad = (TAR_BLOCK - (data.length % TAR_BLOCK)) % TAR_BLOCK;
  return Buffer.concat([tarHeader('PaxHeader', data.length, mtimeMs, 'x'), data, Buffer.alloc(pad)]);
}

/** A file, folder or link entry of a tar stream, as its header names it (long names applied). */
export interface TarEntryHeader {
  /** The whole 512-byte header. */
  header: Buffer;
  path: string;
  /** The type flag ('0' file, '5' folder, '1'/'2' links, …); '0' for an old NUL flag. */
  type: string;
  size: number;
}

type TarStreamState<K> =
  | { kind: 'header'; parts: Buffer[]; have: number }
  | { kind: 'data'; remaining: number; padding: number; keep?: { record: 'pax' | 'longname' } | { entry: K }; path: string; parts: Buffer[] }
  | { kind: 'end' };

/**
 * A tar stream read chunk by chunk, as a gzip'd archive inflates: the 512-byte framing, pax
 * and GNU long-name records (kept up to `maxRecordBytes`) applied to the entry they precede,
 * and each entry's data either skipped by count or, when `entry` asks for it, kept and handed
 * to `kept`. A subclass decides per entry and may stop early (`stopped`).
 */
export abstract class TarStream<K> {
  private state: TarStreamState<K> = { kind: 'header', parts: [], have: 0 };
  private longName: string | undefined;

  constructor(private readonly records: { maxRecordBytes: number; tooLarge: () => Error; badSize: () => Error }) {}

  /** True when the data ended inside an entry (a truncated archive). */
  get midEntry(): boolean {
    return this.state.kind === 'data' || (this.state.kind === 'header' && this.state.have > 0);
  }

  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && this.state.kind !== 'end' && !this.stopped()) {
      const s: TarStreamState<K> = this.state;
      if (s.kind === 'header') {
        const take = Math.min(TAR_BLOCK - s.have, chunk.length - off);
        s.parts.push(chunk.subarray(off, off + take));
        s.have += take;
        off += take;
        if (s.have === TAR_BLOCK) this.header(Buffer.concat(s.parts));
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

  /** Whether to keep an entry's data (`kept` gets it), or undefined to skip it; throw to refuse the archive. */
  protected abstract entry(e: TarEntryHeader): K | undefined;
  protected abstract kept(keep: K, path: string, data: Buffer): void;
  /** Checks a header block before its fields are read (say, its checksum). */
  protected checkHeader(_h: Buffer): void {}
  /** True once the reader has what it needs; the rest of the stream is not read. */
  protected stopped(): boolean {
    return false;
  }

  private header(h: Buffer): void {
    if (h.every((b) => b === 0)) {
      this.state = { kind: 'end' };
      return;
    }
    this.checkHeader(h);
    const size = tarSize(h, 124);
    if (size === undefined) throw this.records.badSize();
    const type = String.fromCharCode(h[156] || 0x30);
    const padding = (TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK;
    let keep: { record: 'pax' | 'longname' } | { entry: K } | undefined;
    let path = '';
    if (type === 'x' || type === 'L') {
      if (size > this.records.maxRecordBytes) throw this.records.tooLarge();
      keep = { record: type === 'x' ? 'pax' : 'longname' };
    } else if (type !== 'g') {
      path = this.longName ?? headerPath(h);
      this.longName = undefined;
      const decided = this.entry({ header: h, path, type, size });
      if (decided !== undefined) keep = { entry: decided };
    }
    const next: TarStreamState<K> = { kind: 'data', remaining: size, padding, keep, path, parts: [] };
    this.state = next;
    if (size === 0) this.entryDone(next);
  }

  private entryDone(s: Extract<TarStreamState<K>, { kind: 'data' }>): void {
    this.state = { kind: 'header', parts: [], have: 0 };
    if (s.keep === undefined) return;
    const data = Buffer.concat(s.parts);
    if ('entry' in s.keep) this.kept(s.keep.entry, s.path, data);
    else if (s.keep.record === 'pax') this.longName = paxPath(data) ?? this.longName;
    else this.longName = cString(data, 0, data.length);
  }
}
