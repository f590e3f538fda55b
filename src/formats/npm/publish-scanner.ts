/**
 * A streaming JSON tokenizer for the body of `npm publish`. It follows the JSON structure
 * byte by byte (strings and their escapes, objects, arrays, which string is a key) and
 * hands the content of the string at `_attachments.<name>.data` to its sink as it arrives,
 * decoded from JSON escapes; every other byte is kept, in order, as "the document". The data
 * string stays in the document as `""`, so the document is valid JSON exactly when the body
 * is (the data content itself is checked as base64 by the sink) and is parsed afterwards by
 * JSON.parse. The document is bounded (`maxDocumentBytes`), the attachment is never held.
 */
import { ArcaError } from '../../core/errors.js';

export interface AttachmentSink {
  /** The data string of attachment `name` begins. */
  start(name: string): void;
  /** The next piece of the data string, JSON escapes resolved (one char per code unit). */
  text(piece: string): void;
  /** The data string ended. */
  end(): void;
}

export interface ScannerLimits {
  /** Most bytes the body may hold besides the attachment data. */
  maxDocumentBytes: number;
  /** Deepest nesting of objects and arrays. */
  maxDepth: number;
}

interface Frame {
  object: boolean;
  /** The current key (objects at the depths that matter; undefined elsewhere). */
  key: string | undefined;
  /** A ':' came after the current key: the next string is a value. */
  afterColon: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MAX_KEY_BYTES = 64 * 1024;
const SIMPLE_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

function bad(message: string): ArcaError {
  return new ArcaError('BAD_REQUEST', message);
}

type StringRole = 'key' | 'skipped-key' | 'value' | 'data';

export class PublishBodyScanner {
  private readonly stack: Frame[] = [];
  private readonly doc: Buffer[] = [];
  private docBytes = 0;
  private inString: StringRole | undefined;
  /** In a string: the byte after a backslash is escaped. */
  private escaped = false;
  /** In the data string: the hex digits of a `\u` escape read so far (undefined: not in one). */
  private unicode: string | undefined;
  private keyParts: Buffer[] = [];
  private keyBytes = 0;
  private sawValue = false;

  constructor(
    private readonly sink: AttachmentSink,
    private readonly limits: ScannerLimits,
  ) {}

  /** Feeds the next bytes of the body. Throws BAD_REQUEST on what is surely not a publish body. */
  push(chunk: Buffer): void {
    let i = 0;
    let keepFrom = 0;
    const n = chunk.length;
    while (i < n) {
      const role = this.inString;
      if (role === 'data') {
        // Not kept in the document: hand the content to the sink up to the closing quote.
        if (i > keepFrom) this.keep(chunk.subarray(keepFrom, i));
        i = this.dataString(chunk, i);
        keepFrom = i;
        continue;
      }
      if (role !== undefined) {
        const start = i;
        while (i < n) {
          const b = chunk[i];
          if (this.escaped) this.escaped = false;
          else if (b === BACKSLASH) this.escaped = true;
          else if (b === QUOTE) break;
          i++;
        }
        if (role === 'key') this.keyPiece(chunk.subarray(start, i));
        if (i < n) {
          if (role === 'key') this.keyDone();
          this.inString = undefined;
          i++;
        }
        continue;
      }
      const b = chunk[i];
      if (b === QUOTE) this.openString();
      else if (b === 0x7b || b === 0x5b) this.open(b === 0x7b);
      else if (b === 0x7d || b === 0x5d) this.close();
      else if (b === 0x3a) {
        const top = this.stack[this.stack.length - 1];
        if (top?.object) top.afterColon = true;
      } else if (b === 0x2c) {
        const top = this.stack[this.stack.length - 1];
        if (top?.object) {
          top.afterColon = false;
          top.key = undefined;
        }
      }
      if (this.inString === 'data') {
        // Keep the opening quote; the content goes to the sink.
        this.keep(chunk.subarray(keepFrom, i + 1));
        keepFrom = i + 1;
      }
      i++;
    }
    if (this.inString !== 'data' && n > keepFrom) this.keep(chunk.subarray(keepFrom, n));
  }

  /** After the last byte: the document (the body without the attachment data), as bytes. */
  finish(): Buffer {
    if (this.inString !== undefined || this.stack.length > 0 || !this.sawValue) throw bad('Invalid JSON body: it ends before its JSON value does');
    return Buffer.concat(this.doc);
  }

  private keep(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.docBytes += bytes.length;
    if (this.docBytes > this.limits.maxDocumentBytes) {
      throw new ArcaError('PAYLOAD_TOO_LARGE', `The publish body holds more than ${this.limits.maxDocumentBytes} bytes besides the tarball`);
    }
    // Copied: the chunk's memory belongs to the stream.
    this.doc.push(Buffer.from(bytes));
  }

  private open(object: boolean): void {
    this.sawValue = true;
    if (this.stack.length >= this.limits.maxDepth) throw bad(`The publish body nests deeper than ${this.limits.maxDepth} levels`);
    this.stack.push({ object, key: undefined, afterColon: false });
  }

  private close(): void {
    this.stack.pop();
  }

  private openString(): void {
    this.sawValue = true;
    const top = this.stack[this.stack.length - 1];
    this.escaped = false;
    if (top?.object && !top.afterColon) {
      // Keys matter down to the attachment object (three levels); deeper ones are skipped.
      this.inString = this.stack.length <= 3 ? 'key' : 'skipped-key';
      this.keyParts = [];
      this.keyBytes = 0;
      return;
    }
    const [root, attachments, attachment] = this.stack;
    if (
      this.stack.length === 3 &&
      root.object &&
      attachments.object &&
      attachment.object &&
      root.key === '_attachments' &&
      attachment.key === 'data' &&
      attachments.key !== undefined
    ) {
      this.inString = 'data';
      this.unicode = undefined;
      this.sink.start(attachments.key);
      return;
    }
    this.inString = 'value';
  }

  private keyPiece(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.keyBytes += bytes.length;
    if (this.keyBytes > MAX_KEY_BYTES) throw bad(`A key of the publish body is longer than ${MAX_KEY_BYTES} bytes`);
    this.keyParts.push(Buffer.from(bytes));
  }

  private keyDone(): void {
    let key: unknown;
    try {
      key = JSON.parse(`"${Buffer.concat(this.keyParts).toString('utf8')}"`);
    } catch {
      throw bad('Invalid JSON body: a key is not a valid string');
    }
    this.stack[this.stack.length - 1].key = key as string;
  }

  /** Reads data-string content from `i`; returns where it stopped (after the closing quote, or the chunk's end). */
  private dataString(chunk: Buffer, i: number): number {
    const n = chunk.length;
    let run = i;
    const flush = (end: number) => {
      if (end > run) this.sink.text(chunk.toString('latin1', run, end));
    };
    while (i < n) {
      const b = chunk[i];
      if (this.unicode !== undefined) {
        this.unicode += String.fromCharCode(b);
        i++;
        if (this.unicode.length === 4) {
          if (!/^[0-9a-fA-F]{4}$/.test(this.unicode)) throw bad('Invalid JSON body: a bad \\u escape in the attachment data');
          this.sink.text(String.fromCharCode(parseInt(this.unicode, 16)));
          this.unicode = undefined;
        }
        run = i;
        continue;
      }
      if (this.escaped) {
        this.escaped = false;
        const c = String.fromCharCode(b);
        i++;
        run = i;
        if (c === 'u') this.unicode = '';
        else if (SIMPLE_ESCAPES[c] !== undefined) this.sink.text(SIMPLE_ESCAPES[c]);
        else throw bad('Invalid JSON body: a bad escape in the attachment data');
        continue;
      }
      if (b === QUOTE || b === BACKSLASH || b < 0x20) {
        flush(i);
        if (b < 0x20) throw bad('Invalid JSON body: a control character in the attachment data');
        i++;
        run = i;
        if (b === BACKSLASH) {
          this.escaped = true;
          continue;
        }
        this.inString = undefined;
        this.sink.end();
        // The closing quote is kept in the document.
        this.keep(chunk.subarray(i - 1, i));
        return i;
      }
      i++;
    }
    flush(n);
    return n;
  }
}
