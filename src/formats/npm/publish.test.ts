import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { checkTarball, digestsOf, integrityOf, parseIntegrity, shasumOf } from './integrity.js';
import { readTarballManifest } from './tarball.js';
import { packPackage, publishBody, publishRequestOf, receiveBody, tgz } from './testing/pack.js';

const work = mkdtempSync(join(tmpdir(), 'arca-npm-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function body(name = 'demo', version = '1.0.0', manifest: Record<string, unknown> = {}) {
  return publishBody(packPackage({ name, version, ...manifest }));
}

describe('tarball manifest', () => {
  it('reads package.json from a tarball npm itself packed', async () => {
    const dir = join(work, 'real');
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@acme/real', version: '3.1.4', description: 'packed by npm' }));
    writeFileSync(join(dir, 'index.js'), 'module.exports = 1;\n');
    const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const manifest = await readTarballManifest(readFileSync(join(work, out.split('\n').pop()!)));
    expect(manifest).toMatchObject({ name: '@acme/real', version: '3.1.4', description: 'packed by npm' });
  });

  it('reads GNU tar output with a long-named root folder (pax or GNU long-name headers)', async () => {
    const root = 'p'.repeat(120);
    const dir = join(work, 'gnu', root);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'gnu', version: '1.0.0' }));
    const file = join(work, 'gnu.tgz');
    execFileSync('tar', ['-czf', file, '-C', join(work, 'gnu'), root]);
    expect(await readTarballManifest(readFileSync(file))).toMatchObject({ name: 'gnu', version: '1.0.0' });
  });

  it('refuses data that is not a gzip tarball, or has no root package.json', async () => {
    await expect(readTarballManifest(Buffer.from('hello'))).rejects.toThrow('not gzip-compressed');
    await expect(readTarballManifest(Buffer.from([0x1f, 0x8b, 1, 2, 3]))).rejects.toThrow('cannot be decompressed');
    await expect(readTarballManifest(tgz({ 'package/lib/package.json': '{}' }))).rejects.toThrow('no package.json at its root');
    await expect(readTarballManifest(tgz({ 'package/package.json': '{nope' }))).rejects.toThrow('not valid JSON');
    const whole = tgz({ 'package/package.json': JSON.stringify({ name: 'a', version: '1.0.0' }), 'package/big.bin': Buffer.alloc(100_000, 7) });
    await expect(readTarballManifest(whole.subarray(0, whole.length - 40))).rejects.toThrow('cannot be decompressed');
  });

  it('stops a tarball that unpacks past its ratio or its cap, early and off the event loop', async () => {
    // 256 MiB of zeros after the manifest: about 250 KiB compressed, a ratio near 1000.
    const bomb = tgz({ 'package/package.json': JSON.stringify({ name: 'a', version: '1.0.0' }), 'package/zeros.bin': Buffer.alloc(256 * 1024 * 1024) });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = Date.now();
    await expect(readTarballManifest(bomb)).rejects.toThrow('unpacks to more than 100 times its compressed size');
    clearInterval(timer);
    expect(Date.now() - started).toBeLessThan(5000);
    // The loop kept turning while zlib worked on the thread pool.
    expect(ticks).toBeGreaterThan(0);
    const small = tgz({ 'package/package.json': JSON.stringify({ name: 'a', version: '1.0.0' }), 'package/x.bin': Buffer.alloc(4 * 1024 * 1024, 1) });
    await expect(readTarballManifest(small, { maxBytes: 1024 * 1024, maxRatio: 1e9, allowance: 0 })).rejects.toThrow('unpacks to more than 1048576 bytes');
  });
});

describe('integrity', () => {
  const data = Buffer.from('tarball bytes');
  it('parses sri strings and skips unknown algorithms', () => {
    expect(parseIntegrity(`md5-abc= ${integrityOf(data)} sha1-${Buffer.from('x').toString('base64')}?opt`).map((e) => e.algorithm)).toEqual(['sha512', 'sha1']);
  });

  it('checks the strongest algorithm and the shasum', () => {
    const d = digestsOf(data);
    expect(checkTarball(d, { integrity: integrityOf(data), shasum: shasumOf(data) }, 'x')).toEqual({ integrity: integrityOf(data), shasum: shasumOf(data) });
    expect(checkTarball(d, {}, 'x')).toEqual({ integrity: integrityOf(data), shasum: shasumOf(data) });
    expect(checkTarball(d, { integrity: integrityOf(data, 'sha384') }, 'x').integrity).toBe(integrityOf(data, 'sha384'));
    const other = Buffer.from('other');
    expect(() => checkTarball(d, { integrity: integrityOf(other) }, 'x')).toThrow('Integrity mismatch');
    // A matching sha1 does not rescue a wrong sha512: the strongest one decides.
    expect(() => checkTarball(d, { integrity: `${integrityOf(data, 'sha1')} ${integrityOf(other)}` }, 'x')).toThrow('Integrity mismatch');
    expect(() => checkTarball(d, { shasum: shasumOf(other) }, 'x')).toThrow('Shasum mismatch');
    expect(() => checkTarball(d, { integrity: 'md5-AAAA' }, 'x')).toThrow('no sha1/sha256/sha384/sha512');
  });
});

describe('publish body', () => {
  it('accepts what npm sends and stores a repository-relative tarball path', async () => {
    const pub = await publishRequestOf(body('@acme/util', '1.2.0', { scripts: { postinstall: 'node x' } }), '@acme/util');
    expect(pub.name).toBe('@acme/util');
    expect(pub.version).toBe('1.2.0');
    expect(pub.distTags).toEqual({ latest: '1.2.0' });
    expect(pub.manifest.dist.tarball).toBe('@acme/util/-/@acme/util-1.2.0.tgz');
    expect(pub.manifest.dist.integrity).toMatch(/^sha512-/);
    expect(pub.manifest.hasInstallScript).toBe(true);
  });

  it('refuses a body whose names do not agree', async () => {
    await expect(publishRequestOf(body('demo'), 'other')).rejects.toThrow("does not match the URL ('other')");
    const b = body('demo');
    (b.versions as Record<string, Record<string, unknown>>)['1.0.0'].name = 'evil';
    await expect(publishRequestOf(b, 'demo')).rejects.toThrow("names 'evil'");
  });

  it('refuses a tarball whose package.json is another package or version', async () => {
    const pkg = packPackage({ name: 'inner', version: '9.9.9' });
    const b = publishBody({ manifest: { name: 'outer', version: '1.0.0' }, tarball: pkg.tarball });
    await expect(publishRequestOf(b, 'outer')).rejects.toThrow("tarball's package.json is inner@9.9.9");
  });

  it('refuses a tarball that does not match its integrity or shasum', async () => {
    const b = body('demo');
    const dist = (b.versions as Record<string, { dist: Record<string, string> }>)['1.0.0'].dist;
    dist.integrity = integrityOf(Buffer.from('something else'));
    await expect(publishRequestOf(b, 'demo')).rejects.toThrow('Integrity mismatch for demo@1.0.0');
    const c = body('demo');
    (c.versions as Record<string, { dist: Record<string, string> }>)['1.0.0'].dist.shasum = '0'.repeat(40);
    await expect(publishRequestOf(c, 'demo')).rejects.toThrow('Shasum mismatch');
  });

  it.each([
    ['no versions', (b: Record<string, unknown>) => delete b.versions, "no 'versions'"],
    ['two versions', (b: Record<string, unknown>) => ((b.versions as Record<string, unknown>)['2.0.0'] = {}), 'exactly one version'],
    ['no attachment', (b: Record<string, unknown>) => delete b._attachments, 'tarball is missing'],
    ['bad base64', (b: Record<string, unknown>) => (Object.values(b._attachments as object)[0].data = '@@@@'), 'not valid base64'],
    ['wrong length', (b: Record<string, unknown>) => (Object.values(b._attachments as object)[0].length = 3), 'declares 3 bytes'],
    ['tag to another version', (b: Record<string, unknown>) => (b['dist-tags'] = { latest: '0.1.0' }), "points at '0.1.0'"],
    ['range-like tag', (b: Record<string, unknown>) => (b['dist-tags'] = { '1.x': '1.0.0' }), 'Invalid dist-tag'],
    ['renamed attachment', (b: Record<string, unknown>) => (b._attachments = { 'demo-2.0.0.tgz': Object.values(b._attachments as object)[0] }), 'does not match the version'],
    ['a second attachment', (b: Record<string, unknown>) => ((b._attachments as Record<string, unknown>)['x.txt'] = { data: 'QUJD' }), 'exactly one attachment'],
  ])('refuses a body with %s', async (_what, mutate, message) => {
    const b = body('demo');
    mutate(b);
    await expect(publishRequestOf(b, 'demo')).rejects.toThrow(message);
  });

  it('refuses an invalid version', async () => {
    const pkg = packPackage({ name: 'demo', version: '1.0' });
    await expect(publishRequestOf(publishBody(pkg), 'demo')).rejects.toThrow("Invalid version '1.0'");
  });
});

describe('streaming publish body', () => {
  it('streams the attachment out of the document, whatever the chunking, key order and escapes', async () => {
    const pkg = packPackage({ name: 'demo', version: '1.0.0', readme: 'x'.repeat(5000) });
    const b = publishBody(pkg);
    // Attachments first, and the base64 with JSON escapes (\/ and \u0041) and line breaks.
    const { _attachments, ...rest } = b;
    const data = (Object.values(_attachments as object)[0] as { data: string }).data;
    const escaped = data.replace(/(.{76})/g, '$1\\n').replace(/\//g, '\\/').replace(/A/g, '\\u0041');
    const text = `{"_attachments":{"demo-1.0.0.tgz":{"content_type":"application/octet-stream","data":"${escaped}","length":${pkg.tarball.length}}},${JSON.stringify(rest).slice(1)}`;
    for (const size of [1, 7, 4096, 1 << 20]) {
      const got = await receiveBody(text, size);
      expect(got.tarball?.staged.data.equals(pkg.tarball)).toBe(true);
      expect(got.tarball?.manifest).toMatchObject({ name: 'demo', version: '1.0.0' });
      expect(((got.doc as Record<string, unknown>)._attachments as Record<string, { data: string }>)['demo-1.0.0.tgz'].data).toBe('');
      expect((got.doc as { name: string }).name).toBe('demo');
    }
  });

  it('reads a body without attachments (npm deprecate) as a plain document', async () => {
    const got = await receiveBody({ name: 'demo', versions: { '1.0.0': { deprecated: 'old' } } }, 3);
    expect(got.tarball).toBeUndefined();
    expect(got.doc).toEqual({ name: 'demo', versions: { '1.0.0': { deprecated: 'old' } } });
  });

  it('refuses what is not JSON, or not whole, and discards what it staged', async () => {
    const b = JSON.stringify(body('demo'));
    await expect(receiveBody(b.slice(0, b.length - 10))).rejects.toThrow('Invalid JSON body: it ends before');
    await expect(receiveBody(`${b.slice(0, -1)},}`)).rejects.toThrow('Invalid JSON body');
    await expect(receiveBody('{"_attachments":{"a.tgz":{"data":"QUJD\\u0000"}}}')).rejects.toThrow('not valid base64');
    await expect(receiveBody('{"_attachments":{"a.tgz":{"data":"QU\nJD"}}}')).rejects.toThrow('control character');
    await expect(receiveBody('{"_attachments":{"a.tgz":{"data":"QQ==QUJD"}}}')).rejects.toThrow('not valid base64');
    await expect(receiveBody('{"_attachments":{"a.tgz":{"data":"QUJ"}}}')).rejects.toThrow('not valid base64');
    // The second value of a duplicated key is not a way around the single streamed attachment.
    await expect(receiveBody('{"_attachments":{"a.tgz":{"data":"QUJD","data":"QUJD"}}}')).rejects.toThrow('exactly one attachment');
  });

  it('bounds the document besides the attachment, and its nesting', async () => {
    const b = body('demo', '1.0.0', { readme: 'r'.repeat(17 * 1024 * 1024) });
    await expect(receiveBody(b, 1 << 20)).rejects.toThrow('besides the tarball');
    await expect(receiveBody('['.repeat(100) + ']'.repeat(100))).rejects.toThrow('nests deeper than 64');
  });

  it('refuses a tarball that is a decompression bomb while it streams', async () => {
    const huge = Buffer.alloc(64 * 1024 * 1024);
    const bomb = gzipSync(Buffer.concat([tgzHeader('package/package.json', 2), Buffer.from('{}'), Buffer.alloc(510), tgzHeader('package/zeros', huge.length), huge]));
    const b = publishBody({ manifest: { name: 'demo', version: '1.0.0' }, tarball: bomb });
    await expect(receiveBody(b, 65536)).rejects.toThrow('unpacks to more than 100 times');
  });
});

/** A ustar header for one file (for hand-made tarballs). */
function tgzHeader(path: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(path, 0, 100, 'utf8');
  h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  return h;
}
