import { gzipSync } from 'node:zlib';

/**
 * `.crate` files and `cargo publish` bodies for tests, built byte by byte as cargo lays them
 * out (a gzipped ustar archive below `{name}-{version}/`; a publish body of two
 * length-prefixed parts), plus the hostile variants cargo would never send.
 */

export interface TarEntry {
  path: string;
  data?: Buffer | string;
  /** '0' file, '5' folder, '2' symlink, '1' hard link, … */
  type?: string;
  link?: string;
  /** Declared size, when it should differ from the data's (a truncated archive). */
  size?: number;
}

function field(buf: Buffer, offset: number, length: number, value: string): void {
  buf.write(value, offset, length, 'utf8');
}

function octal(buf: Buffer, offset: number, length: number, value: number): void {
  field(buf, offset, length - 1, value.toString(8).padStart(length - 1, '0'));
}

/** One ustar header block. */
export function tarHeaderOf(e: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  field(h, 0, 100, e.path);
  octal(h, 100, 8, e.type === '5' ? 0o755 : 0o644);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, 0);
  h.fill(0x20, 148, 156);
  h.write(e.type ?? '0', 156, 1, 'ascii');
  if (e.link) field(h, 157, 100, e.link);
  field(h, 257, 6, 'ustar');
  field(h, 263, 2, '00');
  let sum = 0;
  for (const b of h) sum += b;
  field(h, 148, 7, `${sum.toString(8).padStart(6, '0')}\0`);
  return h;
}

/** An uncompressed tar of `entries` (with the two closing zero blocks). */
export function tarOf(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    parts.push(tarHeaderOf(e, e.size ?? data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function manifestOf(name: string, version: string, extra = ''): string {
  return `[package]\nedition = "2021"\nname = "${name}"\nversion = "${version}"\n${extra}`;
}

/** A `.crate` as cargo packages one: its manifest and a lib.rs (whose text `variant` changes). */
export function crateOf(name: string, version: string, options: { variant?: number; manifest?: string; extra?: TarEntry[] } = {}): Buffer {
  const root = `${name}-${version}`;
  const entries: TarEntry[] = [
    { path: `${root}/Cargo.toml`, data: options.manifest ?? manifestOf(name, version) },
    { path: `${root}/src/lib.rs`, data: `pub const VARIANT: u32 = ${options.variant ?? 1};\n` },
    ...(options.extra ?? []),
  ];
  return gzipSync(tarOf(entries));
}

/** The publish metadata cargo sends for a crate with `deps` (`{name, version_req}` each). */
export function publishMetadata(name: string, version: string, deps: Array<Record<string, unknown>> = [], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    vers: version,
    deps: deps.map((d) => ({ features: [], optional: false, default_features: true, target: null, kind: 'normal', registry: null, explicit_name_in_toml: null, ...d })),
    features: {},
    authors: [],
    description: `The ${name} crate`,
    documentation: null,
    homepage: null,
    readme: null,
    readme_file: null,
    keywords: [],
    categories: [],
    license: 'MIT',
    license_file: null,
    repository: null,
    badges: {},
    links: null,
    rust_version: null,
    ...extra,
  };
}

/** `PUT /api/v1/crates/new`'s body: u32 LE length + JSON, u32 LE length + crate. */
export function publishBody(metadata: unknown, crate: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(metadata));
  const a = Buffer.alloc(4);
  a.writeUInt32LE(json.length);
  const b = Buffer.alloc(4);
  b.writeUInt32LE(crate.length);
  return Buffer.concat([a, json, b, crate]);
}
