import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildRpm, hasRpmbuild } from '../../../test/helpers/rpm-packages.js';
import { readRpmHeader } from './rpm-header.js';

/** What the rpm binary itself reads from a package file. */
function rpmQuery(file: string, format: string): string {
  return execFileSync('rpm', ['-qp', '--nosignature', '--nodigest', '--queryformat', format, file], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
}

/** A package file made by hand: a lead, a one-entry signature header and a main header of `entries`. */
function handMade(entries: Array<{ tag: number; type: number; count: number; data: Buffer }>): Buffer {
  const header = (list: typeof entries) => {
    const index = Buffer.alloc(16 * list.length);
    const store: Buffer[] = [];
    let offset = 0;
    list.forEach((e, i) => {
      // INT32 data is aligned on 4 bytes, as rpm writes it.
      if (e.type === 4 && offset % 4) {
        store.push(Buffer.alloc(4 - (offset % 4)));
        offset += 4 - (offset % 4);
      }
      index.writeUInt32BE(e.tag, i * 16);
      index.writeUInt32BE(e.type, i * 16 + 4);
      index.writeUInt32BE(offset, i * 16 + 8);
      index.writeUInt32BE(e.count, i * 16 + 12);
      store.push(e.data);
      offset += e.data.length;
    });
    const intro = Buffer.from([0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    intro.writeUInt32BE(list.length, 8);
    intro.writeUInt32BE(offset, 12);
    return Buffer.concat([intro, index, ...store]);
  };
  const lead = Buffer.alloc(96);
  lead.writeUInt32BE(0xedabeedb, 0);
  const sig = header([{ tag: 1007, type: 4, count: 1, data: Buffer.from([0, 0, 0, 1]) }]);
  const pad = Buffer.alloc((8 - (sig.length % 8)) % 8);
  return Buffer.concat([lead, sig, pad, header(entries)]);
}

const str = (tag: number, value: string) => ({ tag, type: 6, count: 1, data: Buffer.from(`${value}\0`) });
const strings = (tag: number, values: string[]) => ({ tag, type: 8, count: values.length, data: Buffer.from(values.map((v) => `${v}\0`).join('')) });
const int32s = (tag: number, values: number[]) => {
  const data = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => data.writeUInt32BE(v, i * 4));
  return { tag, type: 4, count: values.length, data };
};
const NEVRA = [str(1000, 'tiny'), str(1001, '1'), str(1002, '1'), str(1022, 'noarch'), str(1044, 'tiny-1-1.src.rpm')];

describe('the RPM header reader (headers made by hand)', () => {
  it('reads a minimal package', () => {
    const h = readRpmHeader(handMade([...NEVRA, strings(1118, ['/usr/share/']), strings(1117, ['a', 'b']), int32s(1116, [0, 0])]));
    expect(h).toMatchObject({ name: 'tiny', version: '1', release: '1', arch: 'noarch', epoch: 0 });
    expect(h.files.map((f) => f.path)).toEqual(['/usr/share/a', '/usr/share/b']);
  });

  it('refuses file lists that would name far more text than the header holds, and lists that disagree', () => {
    const n = 100_000;
    const amplified = handMade([...NEVRA, strings(1118, [`/${'d'.repeat(60_000)}/`]), strings(1117, Array.from({ length: n }, () => 'a')), int32s(1116, new Array(n).fill(0))]);
    expect(amplified.length).toBeLessThan(1024 * 1024);
    expect(() => readRpmHeader(amplified)).toThrow(/file paths come to more than/);
    expect(() => readRpmHeader(handMade([...NEVRA, strings(1118, ['/x/']), strings(1117, ['a', 'b']), int32s(1116, [0])]))).toThrow(/disagree in length/);
    expect(() => readRpmHeader(handMade([...NEVRA, strings(1118, ['/x/']), strings(1117, ['a']), int32s(1116, [5])]))).toThrow(/does not list/);
    expect(() => readRpmHeader(handMade([...NEVRA, strings(1049, ['a', 'b']), int32s(1048, [0])]))).toThrow(/disagree in length/);
  });

  it('refuses a header without a name', () => {
    expect(() => readRpmHeader(handMade([str(1001, '1'), str(1002, '1'), str(1022, 'noarch')]))).toThrow(/no name/);
  });
});

describe.skipIf(!hasRpmbuild())('the RPM header reader (packages built by rpmbuild)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'arca-rpm-header-'));
  let data: Buffer;
  let file: string;

  beforeAll(() => {
    const built = buildRpm(dir, {
      name: 'tool',
      version: '2.5.1',
      release: '3.el9',
      epoch: 4,
      requires: ['libfoo >= 1.2-3', 'bar', 'baz < 2:5'],
      provides: ['tool-api = 2.5'],
      files: { '/usr/bin/tool': '#!/bin/sh\n', '/etc/tool.conf': 'a=1\n', '/usr/share/tool/readme': 'read me\n' },
      dirs: ['/var/lib/tool'],
      ghosts: ['/var/log/tool.log'],
      changelog: [
        { author: 'Ann <ann@example.com>', text: 'Newest' },
        { author: 'Bob <bob@example.com>', text: 'Older' },
      ],
    });
    data = built.data;
    file = join(dir, built.file);
    writeFileSync(file, data);
  });

  it('reads what rpm reads: name, epoch, version, release, arch, texts, sizes', () => {
    const h = readRpmHeader(data);
    const [name, epoch, version, release, arch, summary, license, url, group, buildhost, sourcerpm, size, buildtime] = rpmQuery(
      file,
      '%{NAME}|%{EPOCH}|%{VERSION}|%{RELEASE}|%{ARCH}|%{SUMMARY}|%{LICENSE}|%{URL}|%{GROUP}|%{BUILDHOST}|%{SOURCERPM}|%{SIZE}|%{BUILDTIME}',
    ).split('|');
    expect(h).toMatchObject({ name, epoch: Number(epoch), version, release, arch, summary, license, url, group, buildhost, sourcerpm, installedSize: Number(size), buildTime: Number(buildtime) });
    expect(h.description).toContain('built by the Arca tests');
    expect(h.headerStart).toBeGreaterThan(96);
    expect(h.headerEnd).toBeGreaterThan(h.headerStart);
    expect(h.headerEnd).toBeLessThan(data.length);
  });

  it('reads dependencies with their flags and versions, files with dir and ghost, and the changelog', () => {
    const h = readRpmHeader(data);
    const requires = rpmQuery(file, '[%{REQUIRENAME}|%{REQUIREFLAGS}|%{REQUIREVERSION}\n]').trim().split('\n');
    expect(h.dependencies.requires.map((d) => `${d.name}|${d.flags}|${d.version}`)).toEqual(requires);
    expect(h.dependencies.provides.map((d) => d.name)).toEqual(expect.arrayContaining(['tool', 'tool-api']));
    const files = rpmQuery(file, '[%{FILENAMES}\n]').trim().split('\n');
    expect(h.files.map((f) => f.path)).toEqual(files);
    expect(h.files.find((f) => f.path === '/var/lib/tool')?.type).toBe('dir');
    expect(h.files.find((f) => f.path === '/var/log/tool.log')?.type).toBe('ghost');
    expect(h.files.find((f) => f.path === '/usr/bin/tool')?.type).toBe('file');
    expect(h.changelogs.map((c) => c.text)).toEqual(['- Newest', '- Older']);
    expect(h.changelogs[0].author).toMatch(/^Ann <ann@example.com>/);
  });

  describe('refuses what is not a well-formed package (400)', () => {
    const refused = (bytes: Buffer) => {
      let error: unknown;
      try {
        readRpmHeader(bytes);
      } catch (err) {
        error = err;
      }
      expect(error).toMatchObject({ code: 'BAD_REQUEST' });
      return (error as Error).message;
    };

    it('a bad lead magic, a file shorter than a lead', () => {
      const copy = Buffer.from(data);
      copy[0] = 0;
      expect(refused(copy)).toMatch(/bad magic number/);
      expect(refused(data.subarray(0, 50))).toMatch(/shorter than an RPM lead/);
      expect(refused(Buffer.from('hello world'.repeat(20)))).toMatch(/Not a valid RPM package/);
    });

    it('a package truncated anywhere in its headers', () => {
      const end = readRpmHeader(data).headerEnd;
      for (const cut of [100, 120, 500, 2000, readRpmHeader(data).headerStart + 8, end - 100, end - 1]) refused(data.subarray(0, cut));
      // The payload is not read: a package cut after its headers still reads.
      expect(readRpmHeader(data.subarray(0, end)).name).toBe('tool');
    });

    it('a bad header magic, counts and sizes beyond the bounds, entries outside their data', () => {
      const start = readRpmHeader(data).headerStart;
      const badMagic = Buffer.from(data);
      badMagic[start] = 0x8f;
      expect(refused(badMagic)).toMatch(/bad magic number/);
      const manyEntries = Buffer.from(data);
      manyEntries.writeUInt32BE(0x7fffffff, start + 8);
      expect(refused(manyEntries)).toMatch(/entries/);
      const bigStore = Buffer.from(data);
      bigStore.writeUInt32BE(0x7fffffff, start + 12);
      expect(refused(bigStore)).toMatch(/at most/);
      const outside = Buffer.from(data);
      outside.writeInt32BE(0x7ffffff0, start + 16 + 8); // first entry's offset
      expect(refused(outside)).toMatch(/outside its data/);
      const count = Buffer.from(data);
      count.writeUInt32BE(0x7fffffff, start + 16 + 12); // first entry's count
      expect(refused(count)).toMatch(/outside its data/);
      const sig = Buffer.from(data);
      sig.writeUInt32BE(0x7fffffff, 96 + 12);
      expect(refused(sig)).toMatch(/signature header/);
    });
  });
});
