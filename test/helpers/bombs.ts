/**
 * Decompression bombs for tests: an npm tarball and a wheel whose few compressed bytes
 * unpack to a GiB, built by streaming (never holding the unpacked bytes), and the request
 * bodies that carry them.
 */
import { createDeflateRaw, createGzip, crc32 } from 'node:zlib';
import { publishBody, tarHeader } from '../../src/formats/npm/testing/pack.js';
import { multipartBody, twineFields } from './pypi-fixtures.js';

const MiB = 1024 * 1024;

/** Compresses `head`, then `size` bytes of `fill`, then `tail`, with a streaming zlib compressor. */
async function compress(kind: 'gzip' | 'deflate-raw', head: Buffer, fill: number, size: number, tail: Buffer = Buffer.alloc(0)): Promise<{ data: Buffer; crc: number; length: number }> {
  const z = kind === 'gzip' ? createGzip({ level: 9 }) : createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  z.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    z.on('end', resolve);
    z.on('error', reject);
  });
  let crc = 0;
  const write = async (b: Buffer) => {
    crc = crc32(b, crc);
    if (!z.write(b)) await new Promise((r) => z.once('drain', r));
  };
  await write(head);
  const block = Buffer.alloc(MiB, fill);
  for (let left = size; left > 0; left -= MiB) await write(left >= MiB ? block : block.subarray(0, left));
  await write(tail);
  z.end();
  await done;
  return { data: Buffer.concat(out), crc: crc >>> 0, length: head.length + size + tail.length };
}

/** An npm tarball: a real package.json, then one file of `size` zero bytes (1 GiB gzips to about 1 MiB). */
export async function npmBombTarball(name: string, version: string, size = 1024 * MiB): Promise<Buffer> {
  const manifest = Buffer.from(JSON.stringify({ name, version }));
  const head = Buffer.concat([tarHeader('package/package.json', manifest.length), manifest, Buffer.alloc(512 - manifest.length), tarHeader('package/zeros.bin', size)]);
  return (await compress('gzip', head, 0, size, Buffer.alloc(512 - (size % 512 || 512) + 1024))).data;
}

/** The body `npm publish` would send for that tarball. */
export async function npmBombPublish(name: string, version: string, size?: number): Promise<Buffer> {
  const tarball = await npmBombTarball(name, version, size);
  return Buffer.from(JSON.stringify(publishBody({ manifest: { name, version }, tarball })));
}

interface ZipEntry {
  name: string;
  method: 0 | 8;
  data: Buffer;
  crc: number;
  size: number;
}

function zip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(e.method, 8);
    local.writeUInt32LE(e.crc, 14);
    local.writeUInt32LE(e.data.length, 18);
    local.writeUInt32LE(e.size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(e.method, 10);
    central.writeUInt32LE(e.crc, 16);
    central.writeUInt32LE(e.data.length, 20);
    central.writeUInt32LE(e.size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, e.data);
    centrals.push(central, name);
    offset += 30 + name.length + e.data.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

const stored = (name: string, text: string): ZipEntry => {
  const data = Buffer.from(text);
  return { name, method: 0, data, crc: crc32(data) >>> 0, size: data.length };
};

/** A wheel whose METADATA (real headers, then `size` letters) deflates from 1 GiB to about 1 MiB. */
export async function wheelBomb(name: string, version: string, size = 1024 * MiB): Promise<Buffer> {
  const info = `${name}-${version}.dist-info`;
  const meta = await compress('deflate-raw', Buffer.from(`Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n\n`), 0x78, size);
  return zip([
    stored(`${name}/__init__.py`, 'x = 1\n'),
    { name: `${info}/METADATA`, method: 8, data: meta.data, crc: meta.crc, size: meta.length },
    stored(`${info}/WHEEL`, 'Wheel-Version: 1.0\nGenerator: arca-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n'),
    stored(`${info}/RECORD`, ''),
  ]);
}

/** The twine upload form for that wheel. */
export async function wheelBombUpload(name: string, version: string, size?: number): Promise<{ body: Buffer; contentType: string }> {
  const content = await wheelBomb(name, version, size);
  return multipartBody({ fields: twineFields(name, version, content, 'bdist_wheel'), filename: `${name}-${version}-py3-none-any.whl`, content });
}
