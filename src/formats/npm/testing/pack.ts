/**
 * Builds npm tarballs and publish bodies the way `npm publish` does, for tests and the
 * benchmark (no npm process needed).
 */
import { gzipSync } from 'node:zlib';
import { integrityOf, shasumOf } from '../integrity.js';

function header(path: string, size: number, type = '0'): Buffer {
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
    parts.push(header(path, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
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
