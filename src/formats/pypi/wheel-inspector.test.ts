import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { wheelFilename, writeWheel, type WheelOptions } from '../../../test/helpers/pypi-fixtures.js';
import { parseWheelFilename } from './filenames.js';
import { WheelInspector } from './wheel-inspector.js';
import { entryContent, ZipScanner } from '../../core/zip-scanner.js';

const dir = mkdtempSync(join(tmpdir(), 'arca-wheels-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function wheel(o: WheelOptions): { bytes: Buffer; filename: string } {
  const out = join(dir, `w${n++}.whl`);
  writeWheel(out, o);
  return { bytes: readFileSync(out), filename: wheelFilename(o.name, o.version) };
}

/** Feeds the bytes in chunks of `size` (1 byte stresses every boundary). */
function inspect(bytes: Buffer, filename: string, size = 7) {
  const parsed = parseWheelFilename(filename);
  if (!parsed.ok) throw new Error(parsed.reason);
  const inspector = new WheelInspector(parsed.file);
  for (let i = 0; i < bytes.length; i += size) inspector.push(bytes.subarray(i, i + size));
  return inspector.finish();
}

describe('WheelInspector on wheels written by Python zipfile', () => {
  it('reads METADATA from a deflated wheel, whatever the chunk size', async () => {
    const w = wheel({ name: 'friendly-bard', version: '1.0', requiresPython: '>=3.8', summary: 'Hi' });
    for (const size of [1, 5, 64, 65536]) {
      const r = await inspect(w.bytes, w.filename, size);
      expect(r.core).toMatchObject({ name: 'friendly-bard', version: '1.0', requiresPython: '>=3.8', summary: 'Hi', metadataVersion: '2.1' });
      expect(r.metadata.toString()).toContain('Name: friendly-bard\n');
    }
  });
  it('reads entries written with data descriptors (a non-seekable writer)', async () => {
    const w = wheel({ name: 'streamy', version: '2.0', streamed: true, padBytes: 200_000 });
    expect(w.bytes.readUInt16LE(6) & 0x8).toBe(0x8);
    expect((await inspect(w.bytes, w.filename, 3)).core.version).toBe('2.0');
    expect((await inspect(w.bytes, w.filename, 65536)).core.name).toBe('streamy');
  });
  it('reads zip64 local headers and stored entries', async () => {
    const z = wheel({ name: 'big-one', version: '3.0', zip64: true });
    expect(z.bytes.readUInt32LE(18)).toBe(0xffffffff);
    expect((await inspect(z.bytes, z.filename)).core.name).toBe('big-one');
    const s = wheel({ name: 'plain', version: '1.0', stored: true, streamed: true });
    expect((await inspect(s.bytes, s.filename, 1)).core.name).toBe('plain');
  });
  it('refuses a wheel whose METADATA names another project or version', async () => {
    const a = wheel({ name: 'alpha', version: '1.0', metadataName: 'beta' });
    await expect(inspect(a.bytes, a.filename)).rejects.toThrow(/METADATA names the project 'beta'/);
    const b = wheel({ name: 'alpha', version: '1.0', metadataVersion: '1.1' });
    await expect(inspect(b.bytes, b.filename)).rejects.toThrow(/METADATA has version '1.1'/);
  });
  it('refuses a wheel without WHEEL, RECORD or METADATA', async () => {
    for (const omit of ['WHEEL', 'RECORD', 'METADATA']) {
      const w = wheel({ name: 'gappy', version: '1.0', omit: [omit] });
      await expect(inspect(w.bytes, w.filename), omit).rejects.toThrow(omit === 'METADATA' ? /no \{name\}-\{version\}.dist-info\/METADATA/ : new RegExp(`${omit} is missing`));
    }
  });
  it('refuses what is not a zip, and a truncated zip', async () => {
    await expect(inspect(Buffer.from('this is not a zip file at all'), 'x-1.0-py3-none-any.whl')).rejects.toThrow(/not a zip archive/);
    await expect(inspect(Buffer.alloc(0), 'x-1.0-py3-none-any.whl')).rejects.toThrow(/empty or not a zip/);
    const w = wheel({ name: 'cut', version: '1.0' });
    await expect(inspect(w.bytes.subarray(0, w.bytes.length - 200), w.filename)).rejects.toThrow(/truncated|no \{name\}/);
  });
  it('refuses a METADATA that inflates past its cap or ratio, without inflating it whole', async () => {
    // 64 MiB of one letter deflates to about 64 KiB: over the 4 MiB cap and the 100:1 ratio.
    const w = wheel({ name: 'bomb', version: '1.0', metadataPad: 64 * 1024 * 1024 });
    const started = process.hrtime.bigint();
    await expect(inspect(w.bytes, w.filename, 65536)).rejects.toThrow(/METADATA' unpacks to more than/);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(5000);
  });
});

describe('ZipScanner', () => {
  it('keeps only the entries asked for and notes others', async () => {
    const w = wheel({ name: 'keeper', version: '1.0', files: { 'keeper/__init__.py': 'x = 1\n', 'keeper/data.txt': 'hello '.repeat(1000) } });
    const scanner = new ZipScanner({ keep: (name) => name === 'keeper/data.txt', note: (name) => name.endsWith('.py') });
    scanner.push(w.bytes);
    expect(scanner.finish()).toBeUndefined();
    expect(scanner.entries.map((e) => e.name)).toEqual(['keeper/__init__.py', 'keeper/data.txt']);
    expect(scanner.entries[0].data).toBeUndefined();
    expect((await entryContent(scanner.entries[1])).toString()).toBe('hello '.repeat(1000));
  });
  it('refuses a kept entry above the size limit', () => {
    const w = wheel({ name: 'huge', version: '1.0', stored: true, files: { 'huge/big.bin': 'z'.repeat(5000) } });
    const scanner = new ZipScanner({ keep: (name) => name === 'huge/big.bin', maxKeptBytes: 1000 });
    scanner.push(w.bytes);
    expect(scanner.finish()).toMatch(/larger than 1000 bytes/);
  });
});
