/**
 * Incremental, strict base64 decoding of an attachment's `data` as it streams past: the
 * standard alphabet, white space ignored (as npm's own reader does), `=` padding only at the
 * very end, and a length that is a multiple of four. Anything else is a BAD_REQUEST.
 */
import { ArcaError } from '../../core/errors.js';

const VALID = /^[A-Za-z0-9+/=]*$/;
const WHITE = /[ \t\r\n]+/g;
/** Decoded in batches of this many characters (a multiple of 4). */
const BATCH = 64 * 1024;

export class Base64Decoder {
  private carry = '';
  private padded = false;

  constructor(private readonly what: string) {}

  private invalid(): ArcaError {
    return new ArcaError('BAD_REQUEST', `${this.what} is not valid base64`);
  }

  /** The bytes the text completes (whole 4-character groups); the rest waits for more text. */
  push(text: string): Buffer[] {
    const clean = text.replace(WHITE, '');
    if (clean === '') return [];
    if (!VALID.test(clean)) throw this.invalid();
    if (this.padded) throw this.invalid();
    const all = this.carry + clean;
    const whole = all.length - (all.length % 4);
    this.carry = all.slice(whole);
    if (this.carry.includes('=')) {
      // A '=' in an unfinished group: only more '=' may follow, checked when it completes.
      if (/=[^=]/.test(this.carry)) throw this.invalid();
    }
    const out: Buffer[] = [];
    for (let off = 0; off < whole; off += BATCH) {
      const group = all.slice(off, Math.min(off + BATCH, whole));
      const eq = group.indexOf('=');
      if (eq >= 0) {
        // Padding: the last one or two characters of the last group, and nothing after it.
        if (off + BATCH < whole || eq < group.length - 2 || /[^=]/.test(group.slice(eq)) || this.carry !== '') throw this.invalid();
        this.padded = true;
      }
      out.push(Buffer.from(group, 'base64'));
    }
    return out;
  }

  /** After the last text: throws unless every character was part of a whole group. */
  end(): void {
    if (this.carry !== '') throw this.invalid();
  }
}
