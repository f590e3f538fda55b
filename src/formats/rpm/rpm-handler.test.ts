import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { memoryRepoStore } from '../testing/memory-store.js';
import { buildRpm, hasRpmbuild, type RpmSpec } from '../../../test/helpers/rpm-packages.js';
import type { RepoSettings } from '../format-handler.js';
import { rpmHandler } from './rpm-handler.js';

type Store = ReturnType<typeof memoryRepoStore>;

async function deploy(s: Store, repo: RepoSettings, path: string, data: Buffer) {
  await rpmHandler.beforeDeploy!({ repo, path, content: data, store: s.store });
  await s.store.write(path, data);
  await rpmHandler.afterDeploy!({ repo, path, sha1: createHash('sha1').update(data).digest('hex'), size: data.length, user: 'admin', store: s.store });
}

async function remove(s: Store, repo: RepoSettings, path: string) {
  await s.store.delete(path);
  await rpmHandler.afterDelete!(repo, path, s.store);
}

/** The data files a root's repomd.xml names, unpacked. */
function repodata(s: Store, root = ''): Record<string, string> & { repomd: string } {
  const at = (p: string) => (root ? `${root}/${p}` : p);
  const repomd = s.files.get(at('repodata/repomd.xml'))!.data.toString('utf8');
  const out: Record<string, string> = { repomd };
  for (const m of repomd.matchAll(/<data type="([^"]+)">[\s\S]*?<checksum type="sha256">([0-9a-f]+)<\/checksum>[\s\S]*?<location href="([^"]+)"\/>[\s\S]*?<size>(\d+)<\/size>/g)) {
    const [, type, sha256, href, size] = m;
    const data = s.files.get(at(href))?.data;
    expect(data, `${href} is stored`).toBeDefined();
    expect(createHash('sha256').update(data!).digest('hex')).toBe(sha256);
    expect(data!.length).toBe(Number(size));
    out[type] = href.endsWith('.gz') ? gunzipSync(data!).toString('utf8') : data!.toString('utf8');
  }
  return out as Record<string, string> & { repomd: string };
}

/** A document's package blocks, file times left out (they are when each tool saw the file), sorted. */
function blocks(doc: string): string[] {
  return [...doc.matchAll(/<package[ >][\s\S]*?<\/package>\n/g)].map((m) => m[0].replace(/<time file="\d+"/, '<time file=""')).sort();
}

describe.skipIf(!hasRpmbuild())('the RPM handler (packages built by rpmbuild, a RepoStore in memory)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'arca-rpm-handler-'));
  const repo = { key: 'rpm-local', rclass: 'local', packageType: 'rpm' };
  const pkgs = new Map<string, { file: string; data: Buffer }>();
  const specs: RpmSpec[] = [
    { name: 'alpha', version: '1.0', provides: ['alpha-api = 1'] },
    { name: 'beta', version: '2.0', epoch: 1, requires: ['alpha >= 1.0', '/bin/sh'], files: { '/usr/bin/beta': '#!/bin/sh\n', '/etc/beta.conf': 'x\n' }, dirs: ['/var/lib/beta'], ghosts: ['/var/log/beta.log'] },
    { name: 'gamma', version: '0.1', release: '7', changelog: [{ author: 'A <a@example.com>', text: 'b & <c>' }] },
    { name: 'delta', version: '3', requires: ['gamma'] },
  ];

  beforeAll(() => {
    for (const s of specs) pkgs.set(s.name, buildRpm(dir, s));
  });

  it('makes the same package entries as createrepo_c, in a repomd.xml whose checksums and sizes hold', async () => {
    const s = memoryRepoStore(repo);
    for (const p of pkgs.values()) await deploy(s, repo, `Packages/${p.file}`, p.data);
    const ours = repodata(s);
    const cr = join(dir, 'createrepo');
    mkdirSync(join(cr, 'Packages'), { recursive: true });
    for (const p of pkgs.values()) writeFileSync(join(cr, 'Packages', p.file), p.data);
    execFileSync('createrepo_c', ['--quiet', '--general-compress-type=gz', cr]);
    const theirs = (type: string) => gunzipSync(readFileSync(join(cr, 'repodata', readdirSync(join(cr, 'repodata')).find((f) => f.endsWith(`-${type}.xml.gz`))!))).toString('utf8');
    for (const type of ['primary', 'filelists', 'other']) {
      expect(blocks(ours[type]), type).toEqual(blocks(theirs(type)));
      expect(ours[type]).toMatch(/packages="4"/);
    }
  });

  it('a change reads and writes one chunk of records, not the others', async () => {
    const s = memoryRepoStore(repo);
    for (const p of pkgs.values()) await deploy(s, repo, `Packages/${p.file}`, p.data);
    s.reads.length = 0;
    s.writes.length = 0;
    const extra = buildRpm(join(dir, 'extra'), { name: 'epsilon', version: '9' });
    await deploy(s, repo, `Packages/${extra.file}`, extra.data);
    const chunkReads = s.reads.filter((r) => r.includes('/chunks/'));
    expect(new Set(chunkReads).size).toBe(1);
    expect(s.writes.filter((w) => w.includes('/chunks/'))).toEqual([...new Set(chunkReads)]);
    // The package itself is not read again: its header was read before it was stored.
    expect(s.reads).not.toContain(`Packages/${extra.file}`);
    expect(repodata(s).primary).toMatch(/<name>epsilon<\/name>/);
  });

  it('takes out deleted packages and folders, rebuilds after repomd.xml is deleted, keeps one generation of old files', async () => {
    const s = memoryRepoStore(repo);
    for (const p of pkgs.values()) await deploy(s, repo, `Packages/${p.file}`, p.data);
    const other = buildRpm(join(dir, 'other'), { name: 'zeta', version: '1' });
    await deploy(s, repo, `extras/sub/${other.file}`, other.data);
    expect(repodata(s).primary).toMatch(/<location href="extras\/sub\/zeta-1-1.noarch.rpm"\/>/);
    await remove(s, repo, `Packages/${pkgs.get('beta')!.file}`);
    let data = repodata(s);
    expect(data.primary).not.toMatch(/<name>beta<\/name>/);
    expect(data.filelists).not.toMatch(/name="beta"/);
    expect(data.other).not.toMatch(/name="beta"/);
    expect(data.primary).toMatch(/packages="4"/);
    await remove(s, repo, 'extras');
    data = repodata(s);
    expect(data.primary).not.toMatch(/zeta/);
    expect(data.primary).toMatch(/packages="3"/);
    // Data files: this generation's and the one before, no older.
    expect([...s.files.keys()].filter((k) => k.startsWith('repodata/') && k.endsWith('.gz')).length).toBe(6);
    await remove(s, repo, 'repodata/repomd.xml');
    expect(blocks(repodata(s).primary)).toEqual(blocks(data.primary));
  });

  it('lists a package whose publication was cut short at the next change, whatever chunk that change is in', async () => {
    const s = memoryRepoStore(repo);
    await deploy(s, repo, `Packages/${pkgs.get('alpha')!.file}`, pkgs.get('alpha')!.data);
    // The data files cannot be written once: the deploy fails after the record was changed.
    const write = s.store.write;
    s.store.write = async (path, data) => {
      if (path.startsWith('repodata/')) {
        s.store.write = write;
        throw new Error('disk full');
      }
      return write(path, data);
    };
    await expect(deploy(s, repo, `Packages/${pkgs.get('beta')!.file}`, pkgs.get('beta')!.data)).rejects.toThrow(/disk full/);
    expect(repodata(s).primary).not.toMatch(/<name>beta<\/name>/);
    // (Other/later-1-1.noarch.rpm is in another chunk than beta's.)
    const other = buildRpm(join(dir, 'later'), { name: 'later', version: '1' });
    await deploy(s, repo, `Other/${other.file}`, other.data);
    const data = repodata(s);
    expect(data.primary).toMatch(/<name>beta<\/name>/);
    expect(data.primary).toMatch(/<name>later<\/name>/);
    expect(data.primary).toMatch(/packages="3"/);
  });

  it('refuses bad packages and deploys into repodata/ before anything is stored', async () => {
    const s = memoryRepoStore(repo);
    const check = (path: string, content: Buffer) => rpmHandler.beforeDeploy!({ repo, path, content, store: s.store });
    await expect(check('Packages/x.rpm', Buffer.from('x'.repeat(200)))).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(check('Packages/x.rpm', pkgs.get('alpha')!.data.subarray(0, 1000))).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(check('repodata/repomd.xml', Buffer.from('<repomd/>'))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(check('.rpm/r/state.json', Buffer.from('{}'))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(check('comps.xml', Buffer.from('<comps><group>'))).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(s.files.size).toBe(0);
  });

  it('puts metadata at yumRootDepth and passes group and modules files into repomd.xml', async () => {
    const deep = { ...repo, yumRootDepth: 2 };
    const s = memoryRepoStore(deep);
    await deploy(s, deep, `9/os/x86_64/${pkgs.get('alpha')!.file}`, pkgs.get('alpha')!.data);
    await deploy(s, deep, `9/updates/${pkgs.get('gamma')!.file}`, pkgs.get('gamma')!.data);
    // Not deep enough: stored, not listed.
    await deploy(s, deep, `9/${pkgs.get('delta')!.file}`, pkgs.get('delta')!.data);
    expect(repodata(s, '9/os').primary).toMatch(/<location href="x86_64\/alpha-1.0-1.noarch.rpm"\/>/);
    expect(repodata(s, '9/updates').primary).toMatch(/<location href="gamma-0.1-7.noarch.rpm"\/>/);
    expect(s.files.has('repodata/repomd.xml')).toBe(false);
    const comps = Buffer.from('<?xml version="1.0"?>\n<comps><group><id>core</id><name>Core</name></group></comps>\n');
    await s.store.write('9/os/comps.xml', comps);
    await rpmHandler.beforeDeploy!({ repo: deep, path: '9/os/comps.xml', content: comps, store: s.store });
    await rpmHandler.afterDeploy!({ repo: deep, path: '9/os/comps.xml', sha1: '', size: comps.length, user: 'admin', store: s.store });
    const modules = Buffer.from('---\ndocument: modulemd-defaults\nversion: 1\ndata:\n  module: m\n...\n');
    await s.store.write('9/os/modules.yaml', modules);
    await rpmHandler.afterDeploy!({ repo: deep, path: '9/os/modules.yaml', sha1: '', size: modules.length, user: 'admin', store: s.store });
    const data = repodata(s, '9/os');
    expect(data.group).toBe(comps.toString());
    expect(data.group_gz).toBe(comps.toString());
    expect(data.modules).toBe(modules.toString());
    expect(data.primary).toMatch(/alpha/);
    await remove(s, deep, '9/os/comps.xml');
    expect(repodata(s, '9/os').repomd).not.toMatch(/type="group"/);
  });
});
