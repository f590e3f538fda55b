import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDeb, HAVE_APT } from '../../../test/helpers/debian-packages.js';
import { arMembers, readDebControl } from './deb-archive.js';

const dir = mkdtempSync(join(tmpdir(), 'arca-deb-archive-'));

/** An ar archive of the given members (as dpkg-deb lays them out). */
function ar(members: Array<[string, Buffer]>): Buffer {
  const parts: Buffer[] = [Buffer.from('!<arch>\n')];
  for (const [name, data] of members) {
    const h = `${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${String(data.length).padEnd(10)}\u0060\n`;
    parts.push(Buffer.from(h, 'latin1'), data);
    if (data.length % 2) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

describe('decompression bombs in the control tarball', () => {
  const zeros = Buffer.alloc(64 * 1024 * 1024);
  it('stops a gzip control tarball that unpacks past the limit', async () => {
    const deb = ar([['debian-binary', Buffer.from('2.0\n')], ['control.tar.gz', gzipSync(zeros, { level: 9 })], ['data.tar.gz', gzipSync(Buffer.alloc(1024))]]);
    await expect(readDebControl(deb)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
  it.skipIf(!HAVE_APT)('stops an xz control tarball that unpacks past the limit', async () => {
    const xz = execFileSync('xz', ['-9', '-c'], { input: zeros, maxBuffer: 64 * 1024 * 1024 });
    const deb = ar([['debian-binary', Buffer.from('2.0\n')], ['control.tar.xz', xz], ['data.tar.xz', xz]]);
    await expect(readDebControl(deb)).rejects.toThrow(/more than/);
  });
});

describe.skipIf(!HAVE_APT)('reading .deb files built by dpkg-deb', () => {
  it.each(['xz', 'gzip', 'zstd', 'none'] as const)('reads the control file of a package with %s control tarballs', async (compression) => {
    const { data } = buildDeb(dir, { name: `pkg-${compression}`, version: '1.0-1', arch: 'all', compression, depends: 'libc6' });
    const names = arMembers(data).map((m) => m.name);
    expect(names[0]).toBe('debian-binary');
    expect(names[1]).toBe(compression === 'none' ? 'control.tar' : `control.tar.${compression === 'gzip' ? 'gz' : compression === 'zstd' ? 'zst' : 'xz'}`);
    const control = await readDebControl(data);
    expect(control).toMatch(/^Package: pkg-/m);
    expect(control).toMatch(/^Depends: libc6$/m);
  });

  it('refuses truncated and malformed archives', async () => {
    const { data } = buildDeb(dir, { name: 'pkg-bad', version: '1.0', arch: 'amd64' });
    await expect(readDebControl(data.subarray(0, data.length - 1))).rejects.toThrow(/truncated/);
    await expect(readDebControl(data.subarray(0, 100))).rejects.toThrow(/truncated/);
    await expect(readDebControl(Buffer.from('PK\u0003\u0004 a zip file'))).rejects.toThrow(/ar archive/);
    const corrupt = Buffer.from(data);
    // Damage the control tarball's compressed bytes (it starts after two headers and debian-binary).
    const start = 8 + 60 + 4 + 60;
    for (let i = start + 20; i < start + 60; i++) corrupt[i] ^= 0xff;
    await expect(readDebControl(corrupt)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const swapped = Buffer.from(data);
    swapped.write('control.tar.bz', 8 + 60 + 4, 'latin1');
    await expect(readDebControl(swapped)).rejects.toThrow(/unsupported control member|control tarball/);
  });
});
