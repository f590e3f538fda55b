import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RepoStore, StoreEntry } from '../format-handler.js';
import { cargoHandler, type VersionRecord } from './cargo-handler.js';
import { cratePath, recordPath, storedIndexPath } from './names.js';
import type { IndexLine } from './publish.js';

/** A repository's files in memory, counting what the handler reads and lists. */
function memoryStore() {
  const files = new Map<string, Buffer>();
  const seen = { reads: [] as string[], lists: 0 };
  const store: RepoStore = {
    repo: { key: 'mem', rclass: 'local', packageType: 'cargo' },
    async read(path) {
      seen.reads.push(path);
      return files.get(path);
    },
    async exists(path) {
      return files.has(path) || [...files.keys()].some((k) => k.startsWith(`${path}/`));
    },
    async stat(path) {
      const data = files.get(path);
      return data && { sha1: '', md5: '', sha256: createHash('sha256').update(data).digest('hex'), size: data.length, modified: 0 };
    },
    async list(folder): Promise<StoreEntry[]> {
      seen.lists++;
      const names = new Set<string>();
      for (const k of files.keys()) if (k.startsWith(`${folder}/`)) names.add(k.slice(folder.length + 1).split('/')[0]);
      return [...names].sort().map((name) => ({ name, folder: files.get(`${folder}/${name}`) === undefined, modified: 0, size: 0 }));
    },
    async write(path, data) {
      files.set(path, data);
    },
    async delete(path) {
      let any = files.delete(path);
      for (const k of [...files.keys()]) if (k.startsWith(`${path}/`)) any = files.delete(k) || any;
      return any;
    },
  };
  return { store, files, seen };
}

const CRATE = Buffer.from('crate');
const line = (vers: string, yanked = false): IndexLine => ({ name: 'Demo', vers, deps: [], cksum: createHash('sha256').update(CRATE).digest('hex'), features: {}, yanked, links: null, v: 1 });

async function put(m: ReturnType<typeof memoryStore>, path: string, data: Buffer) {
  m.files.set(path, data);
  await cargoHandler.afterDeploy!({ repo: m.store.repo, path, sha1: '', size: data.length, user: 'u', store: m.store });
}
const publish = async (m: ReturnType<typeof memoryStore>, vers: string, yanked = false) => {
  await put(m, cratePath('Demo', vers), CRATE);
  await put(m, recordPath('Demo', vers), Buffer.from(JSON.stringify({ line: line(vers, yanked) } satisfies VersionRecord)));
};
const indexOf = (m: ReturnType<typeof memoryStore>) =>
  (m.files.get(storedIndexPath('demo'))?.toString('utf8') ?? '')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as IndexLine);

describe('cargo index maintenance', () => {
  it('lists a version once its crate and record are both stored, in version order', async () => {
    const m = memoryStore();
    await put(m, cratePath('Demo', '1.10.0'), CRATE);
    expect(m.files.has(storedIndexPath('demo'))).toBe(false);
    await put(m, recordPath('Demo', '1.10.0'), Buffer.from(JSON.stringify({ line: line('1.10.0') })));
    await publish(m, '1.9.0');
    await publish(m, '2.0.0-rc.1');
    expect(indexOf(m).map((l) => l.vers)).toEqual(['1.9.0', '1.10.0', '2.0.0-rc.1']);
  });

  it('changes one line per change, reading the index file and one record, never listing the crate', async () => {
    const m = memoryStore();
    for (const v of ['1.0.0', '1.1.0', '1.2.0']) await publish(m, v);
    m.seen.reads.length = 0;
    m.seen.lists = 0;
    await put(m, recordPath('Demo', '1.1.0'), Buffer.from(JSON.stringify({ line: line('1.1.0', true) })));
    expect(indexOf(m).map((l) => [l.vers, l.yanked])).toEqual([['1.0.0', false], ['1.1.0', true], ['1.2.0', false]]);
    expect(m.seen.lists).toBe(0);
    expect(m.seen.reads.sort()).toEqual([recordPath('Demo', '1.1.0'), storedIndexPath('demo')].sort());
  });

  it('leaves out a version whose crate was replaced behind the index\'s back', async () => {
    const m = memoryStore();
    await publish(m, '1.0.0');
    await publish(m, '1.1.0');
    await put(m, cratePath('Demo', '1.0.0'), Buffer.from('another crate'));
    expect(indexOf(m).map((l) => l.vers)).toEqual(['1.1.0']);
  });

  it('takes a deleted crate out with its record, and the index file with the last version', async () => {
    const m = memoryStore();
    await publish(m, '1.0.0');
    await publish(m, '1.1.0');
    m.files.delete(cratePath('Demo', '1.0.0'));
    await cargoHandler.afterDelete!(m.store.repo, cratePath('Demo', '1.0.0'), m.store);
    expect(m.files.has(recordPath('Demo', '1.0.0'))).toBe(false);
    expect(indexOf(m).map((l) => l.vers)).toEqual(['1.1.0']);
    m.files.delete(cratePath('Demo', '1.1.0'));
    await cargoHandler.afterDelete!(m.store.repo, cratePath('Demo', '1.1.0'), m.store);
    expect(m.files.has(storedIndexPath('demo'))).toBe(false);
  });

  it('makes the index file again from the records after a crate folder is deleted', async () => {
    const m = memoryStore();
    await publish(m, '1.0.0');
    for (const k of [...m.files.keys()]) if (k.startsWith('crates/demo/')) m.files.delete(k);
    await cargoHandler.afterDelete!(m.store.repo, 'crates/demo', m.store);
    expect(m.files.has(storedIndexPath('demo'))).toBe(false);
    expect(m.files.has(recordPath('Demo', '1.0.0'))).toBe(false);
  });

  it('classifies index files and records as metadata, crates as artifacts', () => {
    expect(cargoHandler.classify('.index/3/f/foo')).toBe('metadata');
    expect(cargoHandler.classify('.cargo/foo/1.0.0.json')).toBe('metadata');
    expect(cargoHandler.classify('crates/foo/foo-1.0.0.crate')).toBe('artifact');
  });
});
