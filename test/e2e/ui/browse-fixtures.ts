import { createHash } from 'node:crypto';
import { crc32, gzipSync } from 'node:zlib';
import { tarHeader, TAR_BLOCK } from '../../../src/core/tar.js';
import { ADMIN_AUTH, ADMIN_PASSWORD, basic } from '../../helpers/credentials.js';

/** The data the Browse browser test (ui-browse.e2e.ts) deploys. */

export const READER = { name: 'browse-reader', password: 'Reader-Passw0rd!' };
export const BIG_COUNT = 10_000;

/** A zip of stored entries (no compression), written by hand: enough for jars and archive browsing. */
export function storedZip(files: Record<string, string | Buffer>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
    const n = Buffer.from(name);
    const crc = crc32(data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(n.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, n, data);
    centrals.push(central, n);
    offset += 30 + n.length + data.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

/** A tar.gz of `files` (ustar headers from src/core/tar.ts). */
export function tgz(files: Array<[string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, content] of files) {
    const data = Buffer.from(content);
    parts.push(tarHeader(name, data.length, Date.now()), data, Buffer.alloc((TAR_BLOCK - (data.length % TAR_BLOCK)) % TAR_BLOCK));
  }
  parts.push(Buffer.alloc(TAR_BLOCK * 2));
  return gzipSync(Buffer.concat(parts));
}

export interface BrowseNode {
  url: string;
  base: string;
  stop(): Promise<void>;
  output(): string;
}

/** A REST call as admin (or `auth`) that must succeed; returns the response. */
export async function rest(base: string, method: string, path: string, body?: string | Buffer | object, headers: Record<string, string> = {}, auth = ADMIN_AUTH): Promise<Response> {
  const json = body !== undefined && !Buffer.isBuffer(body) && typeof body === 'object';
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: auth, ...(json ? { 'content-type': 'application/json' } : {}), ...headers },
    body: json ? JSON.stringify(body) : (body as string | Buffer | undefined),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res;
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Pushes a one-layer image `img:1.0` through the registry API (blob links in `_uploads/`, blob files `sha256__…`). */
async function pushImage(url: string, repo: string): Promise<void> {
  const layer = Buffer.from('a layer of the browse test');
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }));
  for (const blob of [layer, config]) {
    const res = await fetch(`${url}/v2/${repo}/img/blobs/uploads/?digest=${sha256(blob)}`, { method: 'POST', headers: { authorization: ADMIN_AUTH, 'content-type': 'application/octet-stream' }, body: blob });
    if (res.status !== 201) throw new Error(`blob upload: ${res.status} ${await res.text()}`);
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
  };
  const res = await fetch(`${url}/v2/${repo}/img/manifests/1.0`, {
    method: 'PUT',
    headers: { authorization: ADMIN_AUTH, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body: JSON.stringify(manifest),
  });
  if (res.status !== 201) throw new Error(`manifest: ${res.status} ${await res.text()}`);
}

/**
 * The repositories and files: two generic locals and a remote (whose upstream is a third local
 * on the same node) with one file cached, merged by a virtual repository; a Maven local; a
 * Docker local with one image; version folders, text files, archives, a long name, and a folder
 * of BIG_COUNT files deployed as one exploded tar.gz; a read-only user.
 */
export async function seed(url: string): Promise<void> {
  const base = `${url}/artifactory`;
  const repo = (key: string, config: object) => rest(base, 'PUT', `/api/repositories/${key}`, { key, packageType: 'generic', ...config });
  await repo('b-local', { rclass: 'local' });
  await repo('b-local2', { rclass: 'local' });
  await repo('b-upstream', { rclass: 'local' });
  await repo('b-remote', { rclass: 'remote', url: `${base}/b-upstream/`, username: 'admin', password: ADMIN_PASSWORD });
  await repo('b-virtual', { rclass: 'virtual', repositories: ['b-local', 'b-local2', 'b-remote'], defaultDeploymentRepo: 'b-local' });
  await repo('b-maven', { rclass: 'local', packageType: 'maven' });
  await repo('b-docker', { rclass: 'local', packageType: 'docker' });
  const put = (path: string, body: string | Buffer) => rest(base, 'PUT', `/${path}`, body);
  await put('b-local/a/one.txt', 'one\n');
  await put('b-local/shared/from-local.txt', 'local\n');
  await put('b-local2/a/two.txt', 'two\n');
  await put('b-local2/shared/from-local2.txt', 'local2\n');
  await put('b-upstream/a/cached.txt', 'cached through the remote\n');
  await rest(base, 'GET', '/b-remote/a/cached.txt');
  for (const v of ['1.2.0', '1.10.0', '1.9.0']) await put(`b-local/lib/${v}/lib-${v}.txt`, `version ${v}\n`);
  await put('b-local/docs/README.md', '# Browse test\n\nA readme shown in the text view.\n');
  await put('b-local/pkg/package.json', JSON.stringify({ name: 'browse-test', version: '1.0.0' }, null, 2));
  await put('b-local/arc/t.jar', storedZip({ 'META-INF/MANIFEST.MF': 'Manifest-Version: 1.0\n', 'com/example/Main.class': 'not really a class' }));
  await put('b-local/arc/t.tgz', tgz([['package/index.js', 'module.exports = 1;\n'], ['package/package.json', '{"name":"t"}']]));
  await put(`b-local/long/${'a-very-long-file-name-that-goes-on-'.repeat(4)}end.txt`, 'long\n');
  await put('b-local/tomove.txt', 'move me\n');
  await put('b-local/todelete.txt', 'delete me\n');
  await pushImage(url, 'b-docker');
  // BIG_COUNT files in one folder: one exploded archive.
  const big: Array<[string, string]> = [];
  for (let i = 1; i <= BIG_COUNT; i++) big.push([`item-${String(i).padStart(5, '0')}.txt`, `${i}\n`]);
  await rest(base, 'PUT', '/b-local/big/big.tgz', tgz(big), { 'X-Explode-Archive': 'true' });
  await rest(base, 'PUT', `/api/security/users/${READER.name}`, { email: 'reader@example.com', password: READER.password });
  await rest(base, 'PUT', '/api/v2/security/permissions/browse-read', {
    name: 'browse-read',
    repo: { repositories: ['b-local', 'b-local2', 'b-upstream', 'b-remote', 'b-maven', 'b-docker'], actions: { users: { [READER.name]: ['read'] } } },
  });
  // Two downloads of one file, for the statistics.
  for (let i = 0; i < 2; i++) await rest(base, 'GET', '/b-local/a/one.txt', undefined, {}, basic(READER.name, READER.password));
}
