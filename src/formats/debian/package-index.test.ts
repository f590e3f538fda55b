import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { RepoStore } from '../format-handler.js';
import { memoryRepoStore } from '../testing/memory-store.js';
import { packagesStanza, parseControl } from './control.js';
import { addPackage, addPackages, readBlob, readRecord, readState, removeFolder, removePackage, type DistState, type PackageRecord } from './package-index.js';
import { releaseFiles } from './release.js';

const memoryStore = (key = 'deb-local') => memoryRepoStore({ key, rclass: 'local', packageType: 'debian' });

function recordOf(name: string, version: string, arch: string, opts: { dists?: string[]; comps?: string[]; archs?: string[] } = {}): PackageRecord {
  const control = parseControl(`Package: ${name}\nVersion: ${version}\nArchitecture: ${arch}\nMaintainer: M <m@example.org>\nDescription: ${name}\n more text\n`);
  const path = `pool/main/${name[0]}/${name}/${name}_${version}_${arch}.deb`;
  const sum = (alg: string) => createHash(alg).update(path).digest('hex');
  return {
    path,
    package: name,
    version,
    architecture: arch,
    dists: opts.dists ?? ['bookworm'],
    comps: opts.comps ?? ['main'],
    archs: opts.archs ?? [arch],
    stanza: packagesStanza(control, { filename: path, size: 1000, md5: sum('md5'), sha1: sum('sha1'), sha256: sum('sha256') }),
  };
}

async function packagesOf(store: RepoStore, state: DistState, comp: string, arch: string, gz = false): Promise<Buffer> {
  const g = state.components[comp][arch].current;
  const parts: Buffer[] = [];
  for (const id of Object.keys(g.buckets).sort()) parts.push(await readBlob(store, state.dist, gz ? g.buckets[id].gz : g.buckets[id].text));
  return Buffer.concat(parts);
}

const names = (text: string) => [...text.matchAll(/^Package: (.*)$/gm)].map((m) => m[1]).sort();

describe('Debian package indexes kept per bucket', () => {
  it('lists packages per distribution, component and architecture; Release names the files with their real checksums', async () => {
    const { store } = memoryStore();
    await addPackage(store, recordOf('hello', '1.0', 'amd64'));
    await addPackage(store, recordOf('hello', '1.0', 'arm64'));
    await addPackage(store, recordOf('docs', '2.0', 'all'));
    await addPackage(store, recordOf('tool', '1.0', 'amd64', { dists: ['bookworm', 'trixie'], comps: ['main', 'contrib'] }));
    const state = (await readState(store, 'bookworm'))!;
    expect(Object.keys(state.components).sort()).toEqual(['contrib', 'main']);
    expect(Object.keys(state.components.main).sort()).toEqual(['all', 'amd64', 'arm64']);
    expect(names((await packagesOf(store, state, 'main', 'amd64')).toString())).toEqual(['docs', 'hello', 'tool']);
    expect(names((await packagesOf(store, state, 'main', 'arm64')).toString())).toEqual(['docs', 'hello']);
    expect(names((await packagesOf(store, state, 'main', 'all')).toString())).toEqual(['docs']);
    expect(names((await packagesOf(store, state, 'contrib', 'amd64')).toString())).toEqual(['tool']);
    expect(state.release).toMatch(/^Architectures: amd64 arm64 all$/m);
    expect(state.release).toMatch(/^Components: contrib main$/m);
    const files = releaseFiles(state.release);
    for (const [comp, arch] of [['main', 'amd64'], ['main', 'all'], ['contrib', 'amd64']]) {
      const text = await packagesOf(store, state, comp, arch);
      const gz = await packagesOf(store, state, comp, arch, true);
      // The gzip members one after another unpack to the text (gzip reads multi-member files).
      expect(gunzipSync(gz).equals(text)).toBe(true);
      expect(files.get(`${comp}/binary-${arch}/Packages`)).toEqual({ size: text.length, md5: createHash('md5').update(text).digest('hex'), sha1: createHash('sha1').update(text).digest('hex'), sha256: createHash('sha256').update(text).digest('hex') });
      expect(files.get(`${comp}/binary-${arch}/Packages.gz`)?.sha256).toBe(createHash('sha256').update(gz).digest('hex'));
    }
    expect(names((await packagesOf(store, (await readState(store, 'trixie'))!, 'main', 'amd64')).toString())).toEqual(['tool']);
  });

  it('takes packages out again; an all package leaves every architecture; old generations stay readable by hash until they age out', async () => {
    const { store, files } = memoryStore();
    await addPackage(store, recordOf('hello', '1.0', 'amd64'));
    await addPackage(store, recordOf('docs', '2.0', 'all'));
    const before = (await readState(store, 'bookworm'))!;
    await removePackage(store, recordOf('docs', '2.0', 'all').path);
    const after = (await readState(store, 'bookworm'))!;
    expect(names((await packagesOf(store, after, 'main', 'amd64')).toString())).toEqual(['hello']);
    expect(names((await packagesOf(store, after, 'main', 'all')).toString())).toEqual([]);
    expect(after.components.main.amd64.previous[0].packages.sha256).toBe(before.components.main.amd64.current.packages.sha256);
    // The previous generation's blobs are still there (by-hash); records of removed packages are not.
    for (const b of Object.values(after.components.main.amd64.previous[0].buckets)) expect(files.has(`.debian/blobs/bookworm/${b.text}`)).toBe(true);
    expect(await readRecord(store, recordOf('docs', '2.0', 'all').path)).toBeUndefined();
    expect(await readRecord(store, recordOf('hello', '1.0', 'amd64').path)).toMatchObject({ package: 'hello', dists: ['bookworm'] });
    for (let i = 0; i < 5; i++) await addPackage(store, recordOf(`pkg${i}`, '1.0', 'amd64'));
    const blobs = [...files.keys()].filter((k) => k.startsWith('.debian/blobs/'));
    const named = new Set<string>();
    const state = (await readState(store, 'bookworm'))!;
    for (const a of Object.values(state.components.main)) for (const g of [a.current, ...a.previous]) for (const b of Object.values(g.buckets)) named.add(b.text).add(b.gz);
    expect(blobs.sort()).toEqual([...named].map((s) => `.debian/blobs/bookworm/${s}`).sort());
  });

  it('takes out every package below a deleted folder', async () => {
    const { store } = memoryStore();
    await addPackages(store, [recordOf('aa', '1', 'amd64'), recordOf('ab', '1', 'amd64'), recordOf('ba', '1', 'amd64')]);
    await removeFolder(store, 'pool/main/a');
    const text = (await packagesOf(store, (await readState(store, 'bookworm'))!, 'main', 'amd64')).toString();
    expect(names(text)).toEqual(['ba']);
  });

  it('replaces the stanza of a redeployed path and keeps one file per package, version and architecture', async () => {
    const { store } = memoryStore();
    const a = recordOf('hello', '1.0', 'amd64');
    await addPackage(store, a);
    await addPackage(store, { ...a, stanza: a.stanza.replace('Size: 1000', 'Size: 2000') });
    let text = (await packagesOf(store, (await readState(store, 'bookworm'))!, 'main', 'amd64')).toString();
    expect(text.match(/^Size: .*$/gm)).toEqual(['Size: 2000']);
    const moved = { ...a, path: 'other/hello.deb', stanza: a.stanza.replace(a.path, 'other/hello.deb') };
    await addPackage(store, moved);
    text = (await packagesOf(store, (await readState(store, 'bookworm'))!, 'main', 'amd64')).toString();
    expect(text.match(/^Filename: .*$/gm)).toEqual(['Filename: other/hello.deb']);
  });

  it('adds one package to 20,000 by rewriting one bucket, and reads each bucket once', async () => {
    const { store, writes: written } = memoryStore();
    const many = Array.from({ length: 20_000 }, (_, i) => recordOf(`bulk-${i}`, '1.0', 'amd64'));
    await addPackages(store, many);
    const writes = written.length;
    const t = performance.now();
    await addPackage(store, recordOf('one-more', '1.0', 'amd64'));
    const ms = performance.now() - t;
    // The record, one bucket's text and gzip member, the state.
    expect(written.length - writes).toBe(4);
    const state = (await readState(store, 'bookworm'))!;
    expect(Object.values(state.components.main.amd64.current.buckets).reduce((n, b) => n + b.count, 0)).toBe(20_001);
    expect(ms).toBeLessThan(1000);
  }, 120_000);
});
