/**
 * A writer of Ruby's Marshal format (version 4.8), for what the legacy gem index needs:
 * `specs.4.8.gz` (arrays of name, `Gem::Version`, platform) and the quick specs
 * (`Gem::Specification`, which dumps itself with `_dump`). Values are described with the
 * small `RubyValue` vocabulary below. Symbols are linked after their first use, as Ruby
 * writes them; objects are written afresh each time (no object links), which Marshal.load
 * accepts.
 */

export type RubyValue =
  | null
  | boolean
  | number
  | string
  | RubyValue[]
  | { kind: 'symbol'; name: string }
  | { kind: 'hash'; entries: [RubyValue, RubyValue][] }
  /** An object of a class that defines marshal_dump (Gem::Version, Gem::Requirement): `U`. */
  | { kind: 'user-marshal'; className: string; value: RubyValue }
  /** An object of a class that defines _dump (Gem::Specification, Time): `u` with its bytes. */
  | { kind: 'user-dump'; className: string; bytes: Buffer }
  /** A plain object: its class and instance variables (names with their `@`). */
  | { kind: 'object'; className: string; ivars: [string, RubyValue][] };

export const sym = (name: string): RubyValue => ({ kind: 'symbol', name });

class Writer {
  private readonly chunks: Buffer[] = [];
  private readonly symbols = new Map<string, number>();

  bytes(b: Buffer | number[]): void {
    this.chunks.push(Buffer.isBuffer(b) ? b : Buffer.from(b));
  }

  /** Marshal's packed integer (`w_long`). */
  long(n: number): void {
    if (!Number.isInteger(n) || n < -0x40000000 || n >= 0x40000000) throw new RangeError(`Integer ${n} does not fit a Marshal fixnum`);
    if (n === 0) return this.bytes([0]);
    if (n > 0 && n < 123) return this.bytes([n + 5]);
    if (n < 0 && n > -124) return this.bytes([(n - 5) & 0xff]);
    const out: number[] = [];
    let x = n;
    for (let i = 0; i < 4; i++) {
      out.push(x & 0xff);
      x >>= 8;
      if ((n >= 0 && x === 0) || (n < 0 && x === -1)) break;
    }
    this.bytes([n >= 0 ? out.length : 256 - out.length, ...out]);
  }

  raw(b: Buffer): void {
    this.long(b.length);
    this.bytes(b);
  }

  /** A symbol: spelled out the first time, then a link to its index (as Ruby writes them). */
  symbol(name: string): void {
    const seen = this.symbols.get(name);
    if (seen !== undefined) {
      this.bytes([0x3b]); // ';'
      return this.long(seen);
    }
    this.symbols.set(name, this.symbols.size);
    this.bytes([0x3a]); // ':'
    this.raw(Buffer.from(name, 'utf8'));
  }

  value(v: RubyValue): void {
    if (v === null) return this.bytes([0x30]); // '0'
    if (v === true) return this.bytes([0x54]); // 'T'
    if (v === false) return this.bytes([0x46]); // 'F'
    if (typeof v === 'number') {
      this.bytes([0x69]); // 'i'
      return this.long(v);
    }
    if (typeof v === 'string') {
      // A UTF-8 string: 'I' (instance variables follow), the bytes, then E: true.
      this.bytes([0x49, 0x22]);
      this.raw(Buffer.from(v, 'utf8'));
      this.long(1);
      this.symbol('E');
      return this.value(true);
    }
    if (Array.isArray(v)) {
      this.bytes([0x5b]); // '['
      this.long(v.length);
      for (const e of v) this.value(e);
      return;
    }
    switch (v.kind) {
      case 'symbol':
        return this.symbol(v.name);
      case 'hash':
        this.bytes([0x7b]); // '{'
        this.long(v.entries.length);
        for (const [k, val] of v.entries) {
          this.value(k);
          this.value(val);
        }
        return;
      case 'user-marshal':
        this.bytes([0x55]); // 'U'
        this.symbol(v.className);
        return this.value(v.value);
      case 'user-dump':
        this.bytes([0x75]); // 'u'
        this.symbol(v.className);
        return this.raw(v.bytes);
      case 'object':
        this.bytes([0x6f]); // 'o'
        this.symbol(v.className);
        this.long(v.ivars.length);
        for (const [name, val] of v.ivars) {
          this.symbol(name);
          this.value(val);
        }
        return;
    }
  }

  done(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** `Marshal.dump(value)`. */
export function marshalDump(value: RubyValue): Buffer {
  const w = new Writer();
  w.bytes([4, 8]);
  w.value(value);
  return w.done();
}

/** A `Gem::Version`, as it marshals itself (`[version_string]`). */
export const gemVersion = (version: string): RubyValue => ({ kind: 'user-marshal', className: 'Gem::Version', value: [version] });

/** A `Time` in UTC, as Time#_dump packs it (two little-endian 32-bit words). */
export function rubyTime(epochMs: number): RubyValue {
  const d = new Date(epochMs);
  const p = (1 << 31) | (1 << 30) | ((d.getUTCFullYear() - 1900) << 14) | (d.getUTCMonth() << 10) | (d.getUTCDate() << 5) | d.getUTCHours();
  const s = (d.getUTCMinutes() << 26) | (d.getUTCSeconds() << 20) | (d.getUTCMilliseconds() * 1000);
  const bytes = Buffer.alloc(8);
  bytes.writeUInt32LE(p >>> 0, 0);
  bytes.writeUInt32LE(s >>> 0, 4);
  return { kind: 'user-dump', className: 'Time', bytes };
}
