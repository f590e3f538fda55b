import type { FormatHandler, RepoStore } from '../format-handler.js';
import { classifyStored, compareVersions, crateFolder, cratePath, CRATE_FOLDER, INDEX_FOLDER, RECORD_FOLDER, recordFolder, storedIndexPath } from './names.js';
import type { IndexLine } from './publish.js';

/**
 * The Cargo format in the shared framework. A local repository keeps:
 * - `crates/{name}/{name}-{version}.crate`: the crate files (names in lower case);
 * - `.cargo/{name}/{version}.json`: one record per published version (its index line, as
 *   made at publish and changed by yank/unyank, and the description for search);
 * - `.index/{prefix}/{name}`: the crate's index file, made from its records whenever a crate
 *   file or a record of that crate changes. The framework runs `afterDeploy`/`afterDelete`
 *   under the repository's cluster lock, so two nodes never write one index file from
 *   different listings, and a change costs the versions of one crate, never the repository.
 * A remote repository caches the upstream's `config.json` and index files under `.index/`
 * and the crates it downloaded under `crates/`.
 */

/** A version record: the index line and what search shows. */
export interface VersionRecord {
  line: IndexLine;
  description?: string;
}

/** Writes (or deletes, when no version is left) the index file of crate `name` from its records. */
export async function regenerateIndex(store: RepoStore, name: string): Promise<void> {
  const lines: IndexLine[] = [];
  for (const entry of await store.list(recordFolder(name))) {
    if (entry.folder || !entry.name.endsWith('.json')) continue;
    const version = entry.name.slice(0, -'.json'.length);
    // A record whose crate is gone (or not stored yet, mid-publish) is not listed.
    if (!(await store.exists(cratePath(name, version)))) continue;
    const data = await store.read(`${recordFolder(name)}/${entry.name}`);
    if (!data) continue;
    try {
      lines.push((JSON.parse(data.toString('utf8')) as VersionRecord).line);
    } catch {
      // A record that is not JSON was not written by this format; it is left out.
    }
  }
  const path = storedIndexPath(name);
  if (lines.length === 0) {
    await store.delete(path);
    return;
  }
  lines.sort((a, b) => compareVersions(a.vers, b.vers));
  await store.write(path, Buffer.from(lines.map((l) => `${JSON.stringify(l)}\n`).join('')), 'text/plain');
}

export const cargoHandler: FormatHandler = {
  packageTypes: ['cargo'],

  classify(path) {
    const top = path.split('/', 1)[0];
    return top === INDEX_FOLDER || top === RECORD_FOLDER ? 'metadata' : 'artifact';
  },

  async afterDeploy(file) {
    if (file.repo.rclass !== 'local') return;
    const stored = classifyStored(file.path);
    if (stored.kind === 'crate' || stored.kind === 'record') await regenerateIndex(file.store, stored.name);
  },

  async afterDelete(repo, path, store) {
    if (repo.rclass !== 'local') return;
    if (path === CRATE_FOLDER || path === '') {
      // Every crate went: so do their records and index files.
      await store.delete(RECORD_FOLDER);
      await store.delete(INDEX_FOLDER);
      return;
    }
    const stored = classifyStored(path);
    if (stored.kind === 'crate') {
      await store.delete(`${recordFolder(stored.name)}/${stored.version}.json`);
      await regenerateIndex(store, stored.name);
    } else if (stored.kind === 'record') {
      await regenerateIndex(store, stored.name);
    } else if (stored.kind === 'crate-folder') {
      if (path === crateFolder(stored.name)) await store.delete(recordFolder(stored.name));
      await regenerateIndex(store, stored.name);
    }
  },
};
