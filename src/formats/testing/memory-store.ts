import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RepoSettings, RepoStore, StoreEntry } from '../format-handler.js';

/**
 * A RepoStore in memory that records the paths read and written: the seam of the formats'
 * handler unit tests (their HTTP and e2e suites run the real one).
 */
export function memoryRepoStore(repo: RepoSettings) {
  const files = new Map<string, { data: Buffer; modified: number }>();
  const reads: string[] = [];
  const writes: string[] = [];
  let clock = Date.parse('2026-12-01T00:00:00Z');
  const store: RepoStore = {
    repo,
    async read(path) {
      reads.push(path);
      return files.get(path)?.data;
    },
    async exists(path) {
      return files.has(path) || [...files.keys()].some((k) => k.startsWith(`${path}/`));
    },
    async stat(path) {
      const f = files.get(path);
      if (!f) return undefined;
      const h = (alg: string) => createHash(alg).update(f.data).digest('hex');
      return { sha1: h('sha1'), md5: h('md5'), sha256: h('sha256'), size: f.data.length, modified: f.modified };
    },
    async list(folder) {
      const prefix = folder === '' ? '' : `${folder}/`;
      const names = new Map<string, StoreEntry>();
      for (const [k, f] of files) {
        if (!k.startsWith(prefix)) continue;
        const rest = k.slice(prefix.length);
        const name = rest.split('/')[0];
        names.set(name, { name, folder: rest.includes('/'), modified: f.modified, size: f.data.length });
      }
      return [...names.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    },
    async write(path, data) {
      writes.push(path);
      files.set(path, { data, modified: (clock += 1000) });
    },
    async delete(path) {
      let gone = files.delete(path);
      for (const k of [...files.keys()]) if (k.startsWith(`${path}/`)) gone = files.delete(k) || gone;
      return gone;
    },
  };
  /** Writes every stored file below `dir` (to serve it as a file:// repository). */
  const dump = (dir: string) => {
    for (const [k, f] of files) {
      const to = join(dir, k);
      mkdirSync(dirname(to), { recursive: true });
      writeFileSync(to, f.data);
    }
  };
  return { store, files, reads, writes, dump };
}
