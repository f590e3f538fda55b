import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { chartTgz, provOf, sha256Of } from '../../../test/helpers/helm-charts.js';
import { memoryRepoStore } from '../testing/memory-store.js';
import { helmHandler } from './helm-handler.js';
import type { IndexEntry } from './index-yaml.js';

const repo = { key: 'helm-local', rclass: 'local', packageType: 'helm' };

const memoryStore = () => memoryRepoStore(repo);

async function deploy(s: ReturnType<typeof memoryStore>, path: string, data: Buffer) {
  await helmHandler.beforeDeploy!({ repo, path, content: data, store: s.store });
  await s.store.write(path, data);
  await helmHandler.afterDeploy!({ repo, path, sha1: '', size: data.length, user: 'admin', store: s.store });
}

async function remove(s: ReturnType<typeof memoryStore>, path: string) {
  await s.store.delete(path);
  await helmHandler.afterDelete!(repo, path, s.store);
}

function indexOf(s: ReturnType<typeof memoryStore>) {
  return parse(s.files.get('index.yaml')!.data.toString('utf8')) as { apiVersion: string; entries: Record<string, IndexEntry[]>; generated: string };
}

describe('the Helm handler', () => {
  it('maintains index.yaml per chart: a deploy reads only its own archive and fragment', async () => {
    const s = memoryStore();
    const web1 = chartTgz({ name: 'web', version: '1.0.0', appVersion: '1.25' });
    await deploy(s, 'web-1.0.0.tgz', web1);
    for (let i = 0; i < 5; i++) await deploy(s, `db${i}-0.${i}.0.tgz`, chartTgz({ name: `db${i}`, version: `0.${i}.0` }));
    s.reads.length = 0;
    const web2 = chartTgz({ name: 'web', version: '1.1.0', extra: { keywords: ['http'], maintainers: [{ name: 'Ann' }] } });
    await deploy(s, 'web-1.1.0.tgz', web2);
    // The new archive, web's fragment and the index text: no other chart's archive or fragment.
    expect(new Set(s.reads)).toEqual(new Set(['web-1.1.0.tgz', '.helm/entries/web.json', 'index.yaml']));

    const index = indexOf(s);
    expect(index.apiVersion).toBe('v1');
    expect(Object.keys(index.entries)).toEqual(['db0', 'db1', 'db2', 'db3', 'db4', 'web']);
    expect(index.entries.web.map((e) => e.version)).toEqual(['1.1.0', '1.0.0']);
    expect(index.entries.web[1]).toMatchObject({ name: 'web', version: '1.0.0', appVersion: '1.25', apiVersion: 'v2', type: 'application', digest: sha256Of(web1), urls: ['web-1.0.0.tgz'] });
    expect(index.entries.web[0]).toMatchObject({ keywords: ['http'], maintainers: [{ name: 'Ann' }], digest: sha256Of(web2) });
    expect(Date.parse(index.entries.web[0].created as string)).toBeGreaterThan(0);
  });

  it('refuses a chart under another name, a version already elsewhere, and generated paths', async () => {
    const s = memoryStore();
    const tgz = chartTgz({ name: 'web', version: '1.0.0' });
    await expect(helmHandler.beforeDeploy!({ repo, path: 'web-2.0.0.tgz', content: tgz, store: s.store })).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/web-1\.0\.0\.tgz/) });
    await deploy(s, 'web-1.0.0.tgz', tgz);
    await expect(helmHandler.beforeDeploy!({ repo, path: 'sub/web-1.0.0.tgz', content: tgz, store: s.store })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(helmHandler.beforeDeploy!({ repo, path: 'web-1.0.0.tgz', content: chartTgz({ name: 'web', version: '1.0.0', variant: 2 }), store: s.store })).resolves.toBeUndefined();
    for (const path of ['index.yaml', '.helm/entries/web.json']) {
      await expect(helmHandler.beforeDeploy!({ repo, path, content: Buffer.from('x'), store: s.store })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
    await expect(helmHandler.beforeDeploy!({ repo, path: 'web-1.0.0.tgz', content: Buffer.from('not a chart'), store: s.store })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(helmHandler.beforeDeploy!({ repo, path: 'web-1.0.0.tgz', content: undefined, store: s.store })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const prov = provOf('web', '1.0.0', tgz);
    await expect(helmHandler.beforeDeploy!({ repo, path: 'web-1.0.0.tgz.prov', content: prov, store: s.store })).resolves.toBeUndefined();
    await expect(helmHandler.beforeDeploy!({ repo, path: 'db-1.0.0.tgz.prov', content: prov, store: s.store })).rejects.toMatchObject({ message: expect.stringMatching(/web-1\.0\.0\.tgz\.prov/) });
    await expect(helmHandler.beforeDeploy!({ repo, path: 'web-1.0.0.tgz.prov', content: Buffer.from('unsigned'), store: s.store })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('takes deleted charts out of the index, with their provenance files', async () => {
    const s = memoryStore();
    await deploy(s, 'web-1.0.0.tgz', chartTgz({ name: 'web', version: '1.0.0' }));
    await deploy(s, 'web-1.1.0.tgz', chartTgz({ name: 'web', version: '1.1.0' }));
    await deploy(s, 'sub/db-1.0.0-2.0.0.tgz', chartTgz({ name: 'db', version: '1.0.0-2.0.0' }));
    await s.store.write('web-1.1.0.tgz.prov', Buffer.from('prov'));
    expect(indexOf(s).entries.db[0].urls).toEqual(['sub/db-1.0.0-2.0.0.tgz']);

    await remove(s, 'web-1.1.0.tgz');
    expect(s.files.has('web-1.1.0.tgz.prov')).toBe(false);
    expect(indexOf(s).entries.web.map((e) => e.version)).toEqual(['1.0.0']);

    await s.store.write('notes/README.md', Buffer.from('hello'));
    s.reads.length = 0;
    await remove(s, 'notes');
    // No chart URL starts with notes/: the index text tells so, no fragment is read.
    expect(s.reads).toEqual(['index.yaml']);

    await remove(s, 'sub');
    expect(Object.keys(indexOf(s).entries)).toEqual(['web']);
    await remove(s, 'web-1.0.0.tgz');
    expect(indexOf(s).entries).toEqual({});
    expect(s.files.has('.helm/entries/web.json')).toBe(false);
  });

  it('rebuilds a deleted index from the fragments, never from the archives', async () => {
    const s = memoryStore();
    await deploy(s, 'a-1.0.0.tgz', chartTgz({ name: 'a', version: '1.0.0' }));
    await deploy(s, 'b-1.0.0.tgz', chartTgz({ name: 'b', version: '1.0.0' }));
    s.reads.length = 0;
    await remove(s, 'index.yaml');
    expect(s.reads.some((p) => p.endsWith('.tgz'))).toBe(false);
    expect(Object.keys(indexOf(s).entries)).toEqual(['a', 'b']);
  });

  it('after a replication, indexes a chart the replicated index does not list yet, and only then', async () => {
    const s = memoryStore();
    const tgz = chartTgz({ name: 'web', version: '1.0.0' });
    await s.store.write('web-1.0.0.tgz', tgz);
    const change = { repo, path: 'web-1.0.0.tgz', deleted: false, user: 'admin', store: s.store };
    await helmHandler.afterReplication!(change);
    expect(indexOf(s).entries.web[0].digest).toBe(sha256Of(tgz));
    const written = s.files.get('index.yaml')!.modified;
    await helmHandler.afterReplication!(change);
    expect(s.files.get('index.yaml')!.modified).toBe(written);
    await s.store.delete('web-1.0.0.tgz');
    await helmHandler.afterReplication!({ ...change, deleted: true });
    expect(indexOf(s).entries).toEqual({});
  });

  it('merges the index copies of virtual members, first copy winning per version', () => {
    const copy = (repoKey: string, text: string) => ({ repoKey, data: Buffer.from(text), modified: Date.parse('2026-01-01T00:00:00Z') });
    const merged = helmHandler.mergeMetadata!('index.yaml', [
      copy('a', 'apiVersion: v1\nentries:\n  web:\n  - {name: web, version: 1.0.0, description: first, urls: [web-1.0.0.tgz]}\n'),
      copy('b', 'apiVersion: v1\nentries:\n  web:\n  - {name: web, version: 1.0.0, description: second, urls: [x]}\n  - {name: web, version: 2.0.0, urls: [web-2.0.0.tgz]}\n'),
      copy('c', 'not yaml: [\n'),
    ]);
    const doc = parse(merged.toString('utf8')) as { entries: Record<string, IndexEntry[]> };
    expect(doc.entries.web.map((e) => [e.version, e.description ?? null])).toEqual([
      ['2.0.0', null],
      ['1.0.0', 'first'],
    ]);
  });
});
