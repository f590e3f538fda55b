import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crateOf, manifestOf, tarOf } from '../../../test/helpers/cargo-crates.js';
import { inspectCrate, manifestIdentity } from './crate-inspector.js';

const root = 'demo-1.0.0';
const withEntry = (e: Parameters<typeof tarOf>[0][number]) => crateOf('demo', '1.0.0', { extra: [e] });

describe('cargo crate inspection', () => {
  it('accepts a crate as cargo packages it and returns its manifest', async () => {
    const manifest = await inspectCrate(crateOf('demo', '1.0.0'), 'demo', '1.0.0');
    expect(manifestIdentity(manifest)).toEqual({ name: 'demo', version: '1.0.0' });
  });

  it('reads the package identity from a normalised manifest only', () => {
    const toml = `# comment\n[dependencies]\nname = "not-me"\n\n[package]\nname = 'lit'\nversion = "1.0.0-\\u0061" # c\n[lib]\nname = "other"\n`;
    expect(manifestIdentity(toml)).toEqual({ name: 'lit', version: '1.0.0-a' });
  });

  it('refuses a manifest that disagrees with the publish metadata', async () => {
    await expect(inspectCrate(crateOf('demo', '1.0.0', { manifest: manifestOf('evil', '1.0.0') }), 'demo', '1.0.0')).rejects.toThrow(/names the package 'evil'/);
    await expect(inspectCrate(crateOf('demo', '1.0.0', { manifest: manifestOf('demo', '2.0.0') }), 'demo', '1.0.0')).rejects.toThrow(/version '2.0.0'/);
    await expect(inspectCrate(crateOf('demo', '1.0.0'), 'demo', '1.0.1')).rejects.toThrow(/outside its folder/);
    await expect(inspectCrate(gzipSync(tarOf([{ path: `${root}/src/lib.rs`, data: '' }])), 'demo', '1.0.0')).rejects.toThrow(/no 'demo-1.0.0\/Cargo.toml'/);
  });

  it('refuses path tricks and links', async () => {
    await expect(inspectCrate(withEntry({ path: `${root}/../../etc/passwd`, data: 'x' }), 'demo', '1.0.0')).rejects.toThrow(/unsafe path/);
    await expect(inspectCrate(withEntry({ path: '/etc/passwd', data: 'x' }), 'demo', '1.0.0')).rejects.toThrow(/unsafe path/);
    await expect(inspectCrate(withEntry({ path: 'other/file', data: 'x' }), 'demo', '1.0.0')).rejects.toThrow(/outside its folder/);
    await expect(inspectCrate(withEntry({ path: `${root}/link`, type: '2', link: '/etc/passwd' }), 'demo', '1.0.0')).rejects.toThrow(/link/);
    await expect(inspectCrate(withEntry({ path: `${root}/hard`, type: '1', link: `${root}/Cargo.toml` }), 'demo', '1.0.0')).rejects.toThrow(/link/);
    await expect(inspectCrate(withEntry({ path: `${root}/dev`, type: '3' }), 'demo', '1.0.0')).rejects.toThrow(/type '3'/);
  });

  it('refuses what is not a gzipped tar, and truncated archives', async () => {
    await expect(inspectCrate(Buffer.from('not gzip at all'), 'demo', '1.0.0')).rejects.toThrow(/cannot be decompressed/);
    const tar = tarOf([{ path: `${root}/Cargo.toml`, data: manifestOf('demo', '1.0.0') }]);
    await expect(inspectCrate(gzipSync(tar.subarray(0, 700)), 'demo', '1.0.0')).rejects.toThrow(/truncated/);
  });

  it('stops a decompression bomb at the limits', async () => {
    const bomb = withEntry({ path: `${root}/zeros.bin`, data: Buffer.alloc(3 * 1024 * 1024) });
    await expect(inspectCrate(bomb, 'demo', '1.0.0')).rejects.toThrow(/times its compressed size/);
    await expect(inspectCrate(bomb, 'demo', '1.0.0', { maxBytes: 1024 * 1024, maxRatio: 10_000, maxEntries: 10 })).rejects.toThrow(/more than 1048576 bytes/);
    const many = crateOf('demo', '1.0.0', { extra: Array.from({ length: 12 }, (_, i) => ({ path: `${root}/f${i}`, data: '' })) });
    await expect(inspectCrate(many, 'demo', '1.0.0', { maxBytes: 1 << 30, maxRatio: 10_000, maxEntries: 10 })).rejects.toThrow(/more than 10 entries/);
  });
});
