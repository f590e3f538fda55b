import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ByteRange } from '../binstore/binary-provider.js';

export type RangeResult = { kind: 'none' } | { kind: 'unsatisfiable' } | { kind: 'ranges'; ranges: ByteRange[] };

/** Parses a `Range: bytes=...` header against a resource size (RFC 9110 §14). */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (!header) return { kind: 'none' };
  const m = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!m) return { kind: 'none' };
  const ranges: ByteRange[] = [];
  for (const part of m[1].split(',')) {
    const spec = part.trim();
    const r = /^(\d*)\s*-\s*(\d*)$/.exec(spec);
    if (!r || (r[1] === '' && r[2] === '')) return { kind: 'none' };
    if (r[1] === '') {
      const suffix = Number(r[2]);
      if (suffix === 0) continue;
      ranges.push({ start: Math.max(0, size - suffix), end: size - 1 });
    } else {
      const start = Number(r[1]);
      const end = r[2] === '' ? size - 1 : Math.min(Number(r[2]), size - 1);
      if (r[2] !== '' && Number(r[2]) < start) return { kind: 'none' };
      if (start >= size) continue;
      ranges.push({ start, end });
    }
  }
  if (ranges.length === 0) return { kind: 'unsatisfiable' };
  return { kind: 'ranges', ranges };
}

/** A multipart/byteranges body built from one read stream per range. */
export function multipartRanges(
  ranges: ByteRange[],
  size: number,
  contentType: string,
  open: (r: ByteRange) => Promise<Readable>,
): { boundary: string; length: number; body: Readable } {
  const boundary = `ARCA_${randomBytes(12).toString('hex')}`;
  const heads = ranges.map(
    (r, i) => `${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${contentType}\r\nContent-Range: bytes ${r.start}-${r.end}/${size}\r\n\r\n`,
  );
  const tail = `\r\n--${boundary}--\r\n`;
  const length =
    heads.reduce((n, h) => n + Buffer.byteLength(h), 0) + ranges.reduce((n, r) => n + (r.end - r.start + 1), 0) + Buffer.byteLength(tail);
  async function* generate() {
    for (let i = 0; i < ranges.length; i++) {
      yield Buffer.from(heads[i]);
      for await (const chunk of await open(ranges[i])) yield chunk as Buffer;
    }
    yield Buffer.from(tail);
  }
  return { boundary, length, body: Readable.from(generate(), { objectMode: false }) };
}
