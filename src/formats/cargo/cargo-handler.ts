import type { FormatHandler, RepoStore } from '../format-handler.js';
import { classifyStored, compareVersions, crateFolder, cratePath, CRATE_FOLDER, INDEX_FOLDER, RECORD_FOLDER, recordFolder, recordPath, storedIndexPath } from './names.js';
import { parseIndexLines, type IndexLine } from './publish.js';

/**
 * The Cargo format in the shared framework. A local repository keeps:
 * - `crates/{name}/{name}-{version}.crate`: the crate files (names in lower case);
 * - `.cargo/{name}/{version}.json`: one record per published version (its index line, as
 *   made at publish and changed by yank/unyank, and the description for search);
 * - `.index/{prefix}/{name}`: the crate's index file. When a crate file or a record is stored
 *   or deleted, that version's line is put in or taken out (made again from all the crate's
 *   records only when a folder of it is deleted). The framework runs `afterDeploy` and
 *   `afterDelete` under the repository's cluster lock, so two nodes never write one index
 *   file from different reads, and a change costs one crate's index file, never the repository.
 * A remote repository caches the upstream's `config.json` and index files under `.index/`
 * and the crates it downloaded under `crates/`.
 */

/** A version record: the index line and what search shows. */
export interface VersionRecord {
  line: IndexLine;
  description?: string;
}

/** Writes the index file of crate `name`, or deletes it when no version is left. */
async function writeIndex(store: RepoStore, name: string, lines: IndexLine[]): Promise<void> {
  const path = storedIndexPath(name);
  if (lines.length === 0) {
    await store.delete(path);
    return;
  }
  lines.sort((a, b) => compareVersions(a.vers, b.vers));
  await store.write(path, Buffer.from(lines.map((l) => `${JSON.stringify(l)}\n`).join('')), 'text/plain');
}

async function readRecord(store: RepoStore, path: string): Promise<VersionRecord | undefined> {
  const data = await store.read(path);
  if (!data) return undefined;
  try {
    return JSON.parse(data.toString('utf8')) as VersionRecord;
  } catch {
    // A record that is not JSON was not written by this format; it is left out.
    return undefined;
  }
}

/**
 * The record of a version that the index lists: not when its crate is not stored yet
 * (mid-publish) or any more, nor when the stored crate is not the one the record's cksum
 * describes (replaced through the REST API behind the index's back: cargo would refuse it).
 */
async function listedRecord(store: RepoStore, name: string, version: string): Promise<VersionRecord | undefined> {
  const crate = await store.stat(cratePath(name, version));
  if (!crate) return undefined;
  const record = await readRecord(store, recordPath(name, version));
  return record?.line.cksum === crate.sha256 ? record : undefined;
}

/**
 * Brings one version's line of crate `name`'s index file up to date: the line of its record
 * when both the record and the crate are stored, no line otherwise. Reads the index file and
 * that one record, whatever the number of versions.
 */
async function updateVersion(store: RepoStore, name: string, version: string): Promise<void> {
  const current = await store.read(storedIndexPath(name));
  const all = current ? parseIndexLines(current.toString('utf8')) : [];
  const lines = all.filter((l) => l.vers !== version);
  const record = await listedRecord(store, name, version);
  if (record) lines.push(record.line);
  else if (lines.length === all.length) return;
  await writeIndex(store, name, lines);
}

/** Makes crate `name`'s index file again from all its records (after a folder of it was deleted). */
export async function regenerateIndex(store: RepoStore, name: string): Promise<void> {
  const lines: IndexLine[] = [];
  for (const entry of await store.list(recordFolder(name))) {
    if (entry.folder || !entry.name.endsWith('.json')) continue;
    const record = await listedRecord(store, name, entry.name.slice(0, -'.json'.length));
    if (record) lines.push(record.line);
  }
  await writeIndex(store, name, lines);
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
    if (stored.kind === 'crate' || stored.kind === 'record') await updateVersion(file.store, stored.name, stored.version);
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
      await store.delete(recordPath(stored.name, stored.version));
      await updateVersion(store, stored.name, stored.version);
    } else if (stored.kind === 'record') {
      await updateVersion(store, stored.name, stored.version);
    } else if (stored.kind === 'crate-folder') {
      if (path === crateFolder(stored.name)) await store.delete(recordFolder(stored.name));
      await regenerateIndex(store, stored.name);
    }
  },
};
