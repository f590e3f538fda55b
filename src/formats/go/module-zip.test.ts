import { describe, expect, it } from 'vitest';
import { goModule } from '../../../test/helpers/go-fixtures.js';
import { zipOf, type ZipEntryInput } from '../../../test/helpers/stored-zip.js';
import { checkFilePath, checkModuleZip, MODULE_ZIP_LIMITS } from './module-zip.js';

const M = 'example.com/hello';
const V = 'v1.0.0';
const P = `${M}@${V}/`;
const GO_MOD = `module ${M}\n\ngo 1.19\n`;

async function reason(entries: ZipEntryInput[] | Buffer, limits = MODULE_ZIP_LIMITS): Promise<string> {
  const r = await checkModuleZip(Buffer.isBuffer(entries) ? entries : zipOf(entries), M, V, limits);
  if (r.ok) throw new Error('the zip was accepted');
  return r.reason;
}

describe('module zip checks', () => {
  it('accepts a module zip and returns its go.mod', async () => {
    const { zip, mod } = goModule(M, V, { 'hello.go': 'package hello\n', 'sub/x.go': 'package sub\n', 'LICENSE': 'MIT' });
    const r = await checkModuleZip(zip, M, V);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.goMod?.equals(mod)).toBe(true);
      expect(r.value.files).toBe(4);
    }
  });

  it('accepts a zip without go.mod (a +incompatible or pre-modules version) and folder entries', async () => {
    const r = await checkModuleZip(zipOf([{ name: P, data: '' }, { name: `${P}a/`, data: '' }, { name: `${P}a/a.go`, data: 'package a\n' }]), M, V);
    expect(r).toEqual({ ok: true, value: { files: 1 } });
  });

  it.each([
    [`${P}../evil.go`, "'..'"],
    [`${P}./x.go`, "'.'"],
    [`${P}a//b.go`, "''"],
    [`${P}/abs.go`, 'not a clean'],
    [`${P}a\\b.go`, 'invalid character'],
    [`${P}x:y.go`, 'invalid character'],
    [`${P}nul.go`, 'reserved'],
    [`${P}x.`, 'trailing dot'],
    ['example.com/other@v1.0.0/x.go', 'is not under'],
    ['../../etc/passwd', 'is not under'],
    [`${M}@v1.0.1/x.go`, 'is not under'],
  ])('refuses the entry %j', async (name, why) => {
    expect(await reason([{ name: `${P}go.mod`, data: GO_MOD }, { name, data: 'x' }])).toContain(why);
  });

  it('refuses names that collide when case is ignored, and a file that is also a folder', async () => {
    expect(await reason([{ name: `${P}A.go`, data: '' }, { name: `${P}a.go`, data: '' }])).toContain('appears twice');
    expect(await reason([{ name: `${P}x`, data: '' }, { name: `${P}x/y.go`, data: '' }])).toContain('both a file and a folder');
    expect(await reason([{ name: `${P}x/y.go`, data: '' }, { name: `${P}X`, data: '' }])).toContain('both a file and a folder');
  });

  it('refuses a go.mod for another module, or none at all', async () => {
    expect(await reason([{ name: `${P}go.mod`, data: 'module example.com/evil\n' }])).toContain("declares module 'example.com/evil'");
    expect(await reason([{ name: `${P}go.mod`, data: 'go 1.19\n' }])).toContain("declares module '(none)'");
  });

  it('refuses a zip whose local headers name other files than its central directory', async () => {
    const zip = zipOf([
      { name: `${P}go.mod`, data: GO_MOD },
      { name: `${P}ok.go`, data: 'package hello\n', localName: `${P}../../evil.go` },
    ]);
    expect(await reason(zip)).toContain('does not match its central directory record');
  });

  it('bounds entries, declared sizes and the go.mod it inflates', async () => {
    const many = Array.from({ length: 11 }, (_, i) => ({ name: `${P}f${i}.go`, data: '' }));
    expect(await reason(many, { ...MODULE_ZIP_LIMITS, maxEntries: 10 })).toContain('more than 10');
    expect(await reason([{ name: `${P}big.bin`, data: 'x', declaredSize: 600 << 20 }])).toContain('unpack to more than');
    expect(await reason([{ name: `${P}go.mod`, data: GO_MOD, declaredSize: 17 << 20 }])).toContain('larger than');
    // A go.mod that inflates far beyond its size: stopped by the inflate limit, not read to the end.
    const bomb = Buffer.concat([Buffer.from(GO_MOD), Buffer.alloc(17 << 20, 0x20)]);
    expect(await reason([{ name: `${P}go.mod`, data: bomb, deflate: true, declaredSize: 100 }])).toMatch(/unpacks to more than/);
  });

  it('refuses what is not a zip, a truncated zip, and encrypted or unknown compression', async () => {
    expect(await reason(Buffer.from('not a zip at all, just text'))).toContain('not a zip archive');
    const { zip } = goModule(M, V, { 'a.go': 'package a\n' });
    expect(await reason(zip.subarray(0, zip.length - 10))).toContain('not a zip archive');
    const encrypted = zipOf([{ name: `${P}a.go`, data: 'x' }]);
    encrypted.writeUInt16LE(0x0801, encrypted.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 8);
    expect(await reason(encrypted)).toContain('encrypted');
    const method = zipOf([{ name: `${P}a.go`, data: 'x' }]);
    method.writeUInt16LE(12, method.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 10);
    expect(await reason(method)).toContain('compression method 12');
  });

  it('checks file paths as module.CheckFilePath does', () => {
    expect(checkFilePath('a/b/c.go')).toBeUndefined();
    expect(checkFilePath('.gitignore')).toBeUndefined();
    expect(checkFilePath('dir with space/x (1).go')).toBeUndefined();
    expect(checkFilePath('ünïcode/ok.go')).toBeUndefined();
    expect(checkFilePath('a/"b".go')).toContain('invalid character');
    expect(checkFilePath('a/b~1')).toContain('tilde');
  });
});
