import { ArcaError } from '../../core/errors.js';

/**
 * A streaming reader of `multipart/form-data` (RFC 7578), pulled one part at a time: field
 * values are read as text with a size limit, and a file part's body is an async iterable
 * handed on as it arrives (never buffered whole). Malformed input throws a BAD_REQUEST.
 */

function malformed(message: string): ArcaError {
  return new ArcaError('BAD_REQUEST', `Malformed multipart/form-data: ${message}`);
}

export interface FormPart {
  /** The form field name (`name` of Content-Disposition). */
  name: string;
  /** The file name, for file parts. */
  filename?: string;
  contentType?: string;
}

export interface MultipartLimits {
  /** Largest header block of one part, in bytes. */
  maxHeaderBytes?: number;
  /** Most parts in one body. */
  maxParts?: number;
}

/** The boundary of a `multipart/form-data` Content-Type, or undefined when there is none. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^\s*multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const params = parseHeaderParams(contentType.slice(contentType.indexOf(';') + 1));
  const b = params.get('boundary');
  return b && b.length <= 70 ? b : undefined;
}

/** `k=v; k2="quoted; value"` → map (keys lower-cased; `k*=UTF-8''…` decoded and preferred). */
export function parseHeaderParams(input: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))\s*;?/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(input)) !== null) {
    const key = m[1].toLowerCase();
    let value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3].trim();
    if (key.endsWith('*')) {
      const ext = /^([^']*)'[^']*'(.*)$/.exec(value);
      if (!ext) continue;
      try {
        value = decodeURIComponent(ext[2]);
      } catch {
        continue;
      }
      out.set(key.slice(0, -1), value);
      continue;
    }
    if (!out.has(key)) out.set(key, value);
  }
  return out;
}

type Phase = 'preamble' | 'headers' | 'body' | 'end';

export class MultipartReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private readonly delimiter: Buffer;
  /** A CRLF is put in front, so the first delimiter is found like every other one. */
  private buf: Buffer = Buffer.from('\r\n');
  private phase: Phase = 'preamble';
  private eof = false;
  private parts = 0;
  private readonly maxHeaderBytes: number;
  private readonly maxParts: number;

  constructor(source: AsyncIterable<Uint8Array>, boundary: string, limits: MultipartLimits = {}) {
    this.iterator = source[Symbol.asyncIterator]();
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
    this.maxHeaderBytes = limits.maxHeaderBytes ?? 16 * 1024;
    this.maxParts = limits.maxParts ?? 1000;
  }

  /** Reads more input; false at the end of the stream. */
  private async pull(): Promise<boolean> {
    if (this.eof) return false;
    const r = await this.iterator.next();
    if (r.done) {
      this.eof = true;
      return false;
    }
    const chunk = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    return true;
  }

  /** Moves to the next part (skipping what is left of the current one); undefined after the last. */
  async next(): Promise<FormPart | undefined> {
    if (this.phase === 'preamble' || this.phase === 'body') {
      for await (const _ of this.bodyChunks()) void _;
    }
    if (this.phase === 'end') return undefined;
    if (++this.parts > this.maxParts) throw malformed(`more than ${this.maxParts} parts in the form`);
    let end: number;
    while ((end = this.buf.indexOf('\r\n\r\n')) < 0) {
      if (this.buf.length > this.maxHeaderBytes) throw malformed(`a part's headers are longer than ${this.maxHeaderBytes} bytes`);
      if (!(await this.pull())) throw malformed('the form data ends inside the headers of a part');
    }
    if (end > this.maxHeaderBytes) throw malformed(`a part's headers are longer than ${this.maxHeaderBytes} bytes`);
    const headers = new Map<string, string>();
    for (const line of this.buf.toString('utf8', 0, end).split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    this.buf = this.buf.subarray(end + 4);
    this.phase = 'body';
    const disposition = headers.get('content-disposition');
    if (!disposition || !/^\s*form-data\s*(;|$)/i.test(disposition)) {
      throw malformed('a part has no Content-Disposition: form-data header');
    }
    const params = parseHeaderParams(disposition.slice(disposition.indexOf(';') + 1));
    const name = params.get('name');
    if (name === undefined) throw malformed('a part has no field name');
    return { name, filename: params.get('filename'), contentType: headers.get('content-type') };
  }

  /** The current part's body, chunk by chunk; ends at the part's delimiter. */
  async *bodyChunks(): AsyncGenerator<Buffer> {
    if (this.phase !== 'body' && this.phase !== 'preamble') return;
    const skip = this.phase === 'preamble';
    const keep = this.delimiter.length - 1;
    for (;;) {
      const at = this.buf.indexOf(this.delimiter);
      if (at >= 0) {
        if (at > 0 && !skip) yield this.buf.subarray(0, at);
        this.buf = this.buf.subarray(at + this.delimiter.length);
        await this.afterDelimiter();
        return;
      }
      if (this.buf.length > keep) {
        const out = this.buf.subarray(0, this.buf.length - keep);
        this.buf = this.buf.subarray(this.buf.length - keep);
        if (!skip) yield out;
      }
      if (!(await this.pull())) {
        throw malformed(skip ? 'the body holds no multipart boundary' : 'the form data ends inside a part (no closing boundary)');
      }
    }
  }

  /** The current part's body as text, refused beyond `maxBytes`. */
  async text(maxBytes: number): Promise<string> {
    const parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of this.bodyChunks()) {
      size += chunk.length;
      if (size > maxBytes) throw malformed(`a form field is longer than ${maxBytes} bytes`);
      parts.push(chunk);
    }
    return Buffer.concat(parts).toString('utf8');
  }

  /** Reads and drops whatever follows the closing boundary (the epilogue). */
  async drain(): Promise<void> {
    this.buf = Buffer.alloc(0);
    while (await this.pull()) this.buf = Buffer.alloc(0);
  }

  /** After a delimiter: `--` closes the body, else (after optional padding) CRLF opens a part. */
  private async afterDelimiter(): Promise<void> {
    for (;;) {
      if (this.buf.length >= 2 && this.buf[0] === 0x2d && this.buf[1] === 0x2d) {
        this.phase = 'end';
        this.buf = Buffer.alloc(0);
        return;
      }
      const crlf = this.buf.indexOf('\r\n');
      if (crlf >= 0) {
        if (this.buf.subarray(0, crlf).toString('latin1').trim() !== '') throw malformed('unexpected data after a boundary');
        this.buf = this.buf.subarray(crlf + 2);
        this.phase = 'headers';
        return;
      }
      if (this.buf.length > 256) throw malformed('unexpected data after a boundary');
      if (!(await this.pull())) throw malformed('the form data ends after a boundary');
    }
  }
}
