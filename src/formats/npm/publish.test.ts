import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkTarball, integrityOf, parseIntegrity, shasumOf } from './integrity.js';
import { parsePublish } from './publish.js';
import { readTarballManifest } from './tarball.js';
import { packPackage, publishBody, tgz } from './testing/pack.js';

const work = mkdtempSync(join(tmpdir(), 'arca-npm-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function body(name = 'demo', version = '1.0.0', manifest: Record<string, unknown> = {}) {
  return publishBody(packPackage({ name, version, ...manifest }));
}

describe('tarball manifest', () => {
  it('reads package.json from a tarball npm itself packed', () => {
    const dir = join(work, 'real');
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@acme/real', version: '3.1.4', description: 'packed by npm' }));
    writeFileSync(join(dir, 'index.js'), 'module.exports = 1;\n');
    const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const manifest = readTarballManifest(readFileSync(join(work, out.split('\n').pop()!)));
    expect(manifest).toMatchObject({ name: '@acme/real', version: '3.1.4', description: 'packed by npm' });
  });

  it('reads GNU tar output with a long-named root folder (pax or GNU long-name headers)', () => {
    const root = 'p'.repeat(120);
    const dir = join(work, 'gnu', root);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'gnu', version: '1.0.0' }));
    const file = join(work, 'gnu.tgz');
    execFileSync('tar', ['-czf', file, '-C', join(work, 'gnu'), root]);
    expect(readTarballManifest(readFileSync(file))).toMatchObject({ name: 'gnu', version: '1.0.0' });
  });

  it('refuses data that is not a gzip tarball, or has no root package.json', () => {
    expect(() => readTarballManifest(Buffer.from('hello'))).toThrow('not gzip-compressed');
    expect(() => readTarballManifest(Buffer.from([0x1f, 0x8b, 1, 2, 3]))).toThrow('cannot be decompressed');
    expect(() => readTarballManifest(tgz({ 'package/lib/package.json': '{}' }))).toThrow('no package.json at its root');
    expect(() => readTarballManifest(tgz({ 'package/package.json': '{nope' }))).toThrow('not valid JSON');
  });
});

describe('integrity', () => {
  const data = Buffer.from('tarball bytes');
  it('parses sri strings and skips unknown algorithms', () => {
    expect(parseIntegrity(`md5-abc= ${integrityOf(data)} sha1-${Buffer.from('x').toString('base64')}?opt`).map((e) => e.algorithm)).toEqual(['sha512', 'sha1']);
  });

  it('checks the strongest algorithm and the shasum', () => {
    expect(checkTarball(data, { integrity: integrityOf(data), shasum: shasumOf(data) }, 'x')).toEqual({ integrity: integrityOf(data), shasum: shasumOf(data) });
    expect(checkTarball(data, {}, 'x')).toEqual({ integrity: integrityOf(data), shasum: shasumOf(data) });
    const other = Buffer.from('other');
    expect(() => checkTarball(data, { integrity: integrityOf(other) }, 'x')).toThrow('Integrity mismatch');
    // A matching sha1 does not rescue a wrong sha512: the strongest one decides.
    expect(() => checkTarball(data, { integrity: `${integrityOf(data, 'sha1')} ${integrityOf(other)}` }, 'x')).toThrow('Integrity mismatch');
    expect(() => checkTarball(data, { shasum: shasumOf(other) }, 'x')).toThrow('Shasum mismatch');
    expect(() => checkTarball(data, { integrity: 'md5-AAAA' }, 'x')).toThrow('no sha1/sha256/sha384/sha512');
  });
});

describe('publish body', () => {
  it('accepts what npm sends and stores a repository-relative tarball path', () => {
    const pub = parsePublish(body('@acme/util', '1.2.0', { scripts: { postinstall: 'node x' } }), '@acme/util');
    expect(pub.name).toBe('@acme/util');
    expect(pub.version).toBe('1.2.0');
    expect(pub.distTags).toEqual({ latest: '1.2.0' });
    expect(pub.manifest.dist.tarball).toBe('@acme/util/-/@acme/util-1.2.0.tgz');
    expect(pub.manifest.dist.integrity).toMatch(/^sha512-/);
    expect(pub.manifest.hasInstallScript).toBe(true);
    expect(pub.tarball.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
  });

  it('refuses a body whose names do not agree', () => {
    expect(() => parsePublish(body('demo'), 'other')).toThrow("does not match the URL ('other')");
    const b = body('demo');
    (b.versions as Record<string, Record<string, unknown>>)['1.0.0'].name = 'evil';
    expect(() => parsePublish(b, 'demo')).toThrow("names 'evil'");
  });

  it('refuses a tarball whose package.json is another package or version', () => {
    const pkg = packPackage({ name: 'inner', version: '9.9.9' });
    const b = publishBody({ manifest: { name: 'outer', version: '1.0.0' }, tarball: pkg.tarball });
    expect(() => parsePublish(b, 'outer')).toThrow("tarball's package.json is inner@9.9.9");
  });

  it('refuses a tarball that does not match its integrity or shasum', () => {
    const b = body('demo');
    const dist = (b.versions as Record<string, { dist: Record<string, string> }>)['1.0.0'].dist;
    dist.integrity = integrityOf(Buffer.from('something else'));
    expect(() => parsePublish(b, 'demo')).toThrow('Integrity mismatch for demo@1.0.0');
    const c = body('demo');
    (c.versions as Record<string, { dist: Record<string, string> }>)['1.0.0'].dist.shasum = '0'.repeat(40);
    expect(() => parsePublish(c, 'demo')).toThrow('Shasum mismatch');
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
  ])('refuses a body with %s', (_what, mutate, message) => {
    const b = body('demo');
    mutate(b);
    expect(() => parsePublish(b, 'demo')).toThrow(message);
  });

  it('refuses an invalid version', () => {
    const pkg = packPackage({ name: 'demo', version: '1.0' });
    expect(() => parsePublish(publishBody(pkg), 'demo')).toThrow("Invalid version '1.0'");
  });
});
