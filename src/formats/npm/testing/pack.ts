/**
 * Builds npm tarballs and publish bodies the way `npm publish` does, for tests and the
 * benchmark (no npm process needed).
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { digestsOf, integrityOf, shasumOf } from '../integrity.js';
import { parsePublish, type PublishRequest, type TarballFacts } from '../publish.js';
import { receivePublishBody, type ReceivedPublish } from '../publish-body.js';

/** A ustar header of a regular file (type '0') or another entry type. */
export function tarHeader(path: string, size: number, type = '0'): Buffer {
  const h = Buffer.alloc(512);
  h.write(path, 0, 100, 'utf8');
  h.write('0000644\0', 100, 'ascii');
  h.write('0000000\0', 108, 'ascii');
  h.write('0000000\0', 116, 'ascii');
  h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'ascii');
  h.write('00000000000\0', 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

/** A gzip'd tar holding `files` (path → content), paths as given. */
export function tgz(files: Record<string, string | Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [path, content] of Object.entries(files)) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
    parts.push(tarHeader(path, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

export interface PackedPackage {
  manifest: Record<string, unknown>;
  tarball: Buffer;
}

/** A package tarball under `package/` with its package.json and an index.js. */
export function packPackage(manifest: Record<string, unknown>, extra: Record<string, string> = {}): PackedPackage {
  const files: Record<string, string> = { 'package/package.json': JSON.stringify(manifest, null, 2), 'package/index.js': `module.exports = ${JSON.stringify(String(manifest.name))};\n` };
  for (const [k, v] of Object.entries(extra)) files[`package/${k}`] = v;
  return { manifest, tarball: tgz(files) };
}

/** The JSON body `npm publish` PUTs for a package (libnpmpublish's shape). */
export function publishBody(pkg: PackedPackage, opts: { registry?: string; tag?: string } = {}): Record<string, unknown> {
  const name = String(pkg.manifest.name);
  const version = String(pkg.manifest.version);
  const file = `${name}-${version}.tgz`;
  const registry = opts.registry ?? 'http://localhost/';
  return {
    _id: name,
    name,
    description: pkg.manifest.description,
    'dist-tags': { [opts.tag ?? 'latest']: version },
    versions: {
      [version]: {
        ...pkg.manifest,
        _id: `${name}@${version}`,
        _nodeVersion: process.versions.node,
        dist: { integrity: integrityOf(pkg.tarball), shasum: shasumOf(pkg.tarball), tarball: `${registry}${name}/-/${file}` },
      },
    },
    access: 'public',
    _attachments: { [file]: { content_type: 'application/octet-stream', data: pkg.tarball.toString('base64'), length: pkg.tarball.length } },
  };
}

/** A binary "staged" in memory, as the content store's stage would give it (tests). */
export interface MemoryStaged {
  sha1: string;
  sha256: string;
  size: number;
  data: Buffer;
  discarded: boolean;
  discard(): Promise<void>;
}

export async function stageInMemory(source: AsyncIterable<Buffer>): Promise<MemoryStaged> {
  const parts: Buffer[] = [];
  for await (const c of source) parts.push(c);
  const data = Buffer.concat(parts);
  const staged: MemoryStaged = {
    sha1: createHash('sha1').update(data).digest('hex'),
    sha256: createHash('sha256').update(data).digest('hex'),
    size: data.length,
    data,
    discarded: false,
    async discard() {
      staged.discarded = true;
    },
  };
  return staged;
}

/** Runs a body through the streaming reader as the registry does, in chunks of `chunkSize` bytes. */
export async function receiveBody(body: Record<string, unknown> | string | Buffer, chunkSize = 1000): Promise<ReceivedPublish<MemoryStaged>> {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  async function* chunks() {
    for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, i + chunkSize);
  }
  return receivePublishBody(chunks(), stageInMemory);
}

/** A publish body received and checked as the registry does (tests). */
export async function publishRequestOf(body: Record<string, unknown> | string | Buffer, urlName: string, chunkSize?: number): Promise<PublishRequest> {
  const received = await receiveBody(body, chunkSize);
  return parsePublish(received.doc, urlName, received.tarball);
}

/** The root package.json of a tarball packed by `tgz` (tests only: synchronous). */
function manifestOf(tarball: Buffer): Record<string, unknown> {
  const tar = gunzipSync(tarball);
  for (let off = 0; off + 512 <= tar.length; ) {
    const name = tar.toString('utf8', off, off + 100).replace(/\0.*$/s, '');
    const size = parseInt(tar.toString('ascii', off + 124, off + 135), 8) || 0;
    if (/^[^/]+\/package\.json$/.test(name)) return JSON.parse(tar.toString('utf8', off + 512, off + 512 + size)) as Record<string, unknown>;
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return {};
}

/**
 * A publish body checked synchronously, the attachment's facts computed in memory and its
 * data left as "" the way the streaming reader leaves it (for tests of the document logic).
 */
export function publishRequestSync(body: Record<string, unknown>, urlName: string): PublishRequest {
  const doc = structuredClone(body);
  let facts: TarballFacts | undefined;
  const attachments = doc._attachments as Record<string, { data?: string }> | undefined;
  for (const [key, att] of Object.entries(attachments ?? {})) {
    if (typeof att?.data !== 'string') continue;
    const data = Buffer.from(att.data, 'base64');
    facts = { key, size: data.length, digests: digestsOf(data), manifest: manifestOf(data) };
    att.data = '';
  }
  return parsePublish(doc, urlName, facts);
}
