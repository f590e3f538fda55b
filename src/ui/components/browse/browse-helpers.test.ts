import { describe, expect, it } from 'vitest';
import { matrixOf } from '../upload';
import { propertiesParam } from './actions';
import { isArchive, isTextFile } from './content-views';
import { insideInternal, isInternal } from './internal';
import { detectMaven, mavenPath, parseProperties } from './maven-detect';
import { byKindThenName } from '../tree';

/** A zip of the entries (CRCs left 0: the browser reader does not check them), deflated when asked. */
async function zipOf(entries: Array<{ name: string; data: string; deflate?: boolean }>): Promise<Uint8Array<ArrayBuffer>> {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const raw = enc.encode(e.data) as Uint8Array<ArrayBuffer>;
    const data = e.deflate ? new Uint8Array(await new Response(new Blob([raw]).stream().pipeThrough(new CompressionStream('deflate-raw'))).arrayBuffer()) : raw;
    const name = enc.encode(e.name);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(8, e.deflate ? 8 : 0, true);
    local.setUint32(18, data.length, true);
    local.setUint32(22, raw.length, true);
    local.setUint16(26, name.length, true);
    const dir = new DataView(new ArrayBuffer(46));
    dir.setUint32(0, 0x02014b50, true);
    dir.setUint16(10, e.deflate ? 8 : 0, true);
    dir.setUint32(20, data.length, true);
    dir.setUint32(24, raw.length, true);
    dir.setUint16(28, name.length, true);
    dir.setUint32(42, offset, true);
    parts.push(new Uint8Array(local.buffer), name, data);
    central.push(new Uint8Array(dir.buffer), name);
    offset += 30 + name.length + data.length;
  }
  const size = central.reduce((n, c) => n + c.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, size, true);
  end.setUint32(16, offset, true);
  const all = [...parts, ...central, new Uint8Array(end.buffer)];
  const out = new Uint8Array(all.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of all) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('browse helpers', () => {
  it('reads Maven coordinates from a jar’s pom.properties, stored or deflated, and lays out the path', async () => {
    for (const deflate of [false, true]) {
      const jar = await zipOf([
        { name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\n' },
        { name: 'META-INF/maven/org.example/demo/pom.properties', data: '#Generated\ngroupId=org.example\nartifactId=demo\nversion=1.2.3\n', deflate },
      ]);
      const c = await detectMaven(new File([jar], 'demo-1.2.3-sources.jar'));
      expect(c).toEqual({ groupId: 'org.example', artifactId: 'demo', version: '1.2.3', extension: 'jar', classifier: 'sources' });
      expect(mavenPath(c!)).toBe('org/example/demo/1.2.3/demo-1.2.3-sources.jar');
    }
    expect(await detectMaven(new File([await zipOf([{ name: 'a.txt', data: 'a' }])], 'plain.jar'))).toBeUndefined();
    expect(await detectMaven(new File(['not a zip'], 'broken.jar'))).toBeUndefined();
    expect(await detectMaven(new File(['x'], 'notes.txt'))).toBeUndefined();
    expect(parseProperties('a=1\n# c\nb : two\n! x\n')).toEqual({ a: '1', b: 'two' });
  });

  it('writes properties for deploys (matrix parameters) and for the storage API', () => {
    expect(matrixOf('team=ui; tier=gold,silver')).toBe(';team=ui;tier=gold,silver');
    expect(matrixOf('a b=c&d')).toBe(';a%20b=c%26d');
    expect(matrixOf('')).toBe('');
    expect(() => matrixOf('novalue')).toThrow(/key=value/);
    expect(propertiesParam('k', ['a,b', 'c'])).toBe('k=a%5C%2Cb,c');
  });

  it('knows storage internals, text files and archives', () => {
    expect(isInternal('docker', '_uploads')).toBe(true);
    expect(isInternal('oci', 'sha256__' + 'a'.repeat(64))).toBe(true);
    expect(isInternal('docker', 'sha256:' + 'a'.repeat(64))).toBe(false);
    expect(isInternal('generic', '_uploads')).toBe(false);
    expect(insideInternal('docker', 'img/_uploads/x')).toBe(true);
    expect(isTextFile('pom.xml')).toBe(true);
    expect(isTextFile('README')).toBe(true);
    expect(isTextFile('demo-1.0.pom')).toBe(true);
    expect(isTextFile('package.json')).toBe(true);
    expect(isTextFile('blob.bin', 'application/octet-stream')).toBe(false);
    expect(isTextFile('whatever', 'text/plain')).toBe(true);
    expect(isArchive('a.jar') && isArchive('b.tar.gz') && isArchive('c.tgz') && !isArchive('d.txt')).toBe(true);
  });

  it('orders tree children folders first, then naturally', () => {
    const kids = [
      { name: '1.10.0', folder: true },
      { name: 'z.txt', folder: false },
      { name: '1.9.0', folder: true },
      { name: 'a.txt', folder: false },
    ].sort(byKindThenName);
    expect(kids.map((k) => k.name)).toEqual(['1.9.0', '1.10.0', 'a.txt', 'z.txt']);
  });
});
