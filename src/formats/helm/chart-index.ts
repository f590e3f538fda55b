/**
 * Keeps a local repository's index up to date, one chart at a time, through the RepoStore
 * the deploy service gives the handler (under the repository's cluster lock, see
 * services/format-deploy.ts). A deploy reads the one archive just stored, the chart's
 * fragment and the stored index text, and writes the fragment and the index with that
 * chart's block replaced; no other archive or fragment is read. Only a repair (no readable
 * index, or a folder deleted) reads every fragment, and never an archive.
 */
import { ArcaError } from '../../core/errors.js';
import { sha256Hex } from '../../core/digests.js';
import { nameOf } from '../../core/paths.js';
import type { RepoStore } from '../format-handler.js';
import { readChartArchive } from './chart-archive.js';
import { chartFileCandidates, chartFileName, type ChartMetadata } from './chart-metadata.js';
import { entryOf, fragmentBytes, parseFragment, renderBlock, renderIndex, sortEntries, spliceIndex, type ChartFragment, type IndexEntry } from './index-yaml.js';
import { chartUrl, ENTRIES_FOLDER, fragmentPath, INDEX_MIME, INDEX_PATH } from './layout.js';

export async function readFragment(store: RepoStore, name: string): Promise<ChartFragment | undefined> {
  const data = await store.read(fragmentPath(name));
  if (!data) return undefined;
  try {
    return parseFragment(data);
  } catch {
    return undefined;
  }
}

/** The index rebuilt from every fragment (a repair: the stored index is missing or not ours). */
async function rebuild(store: RepoStore, generated: string): Promise<string> {
  const blocks: Array<[string, string]> = [];
  for (const e of await store.list(ENTRIES_FOLDER)) {
    if (e.folder || !e.name.endsWith('.json')) continue;
    const fragment = await readFragment(store, e.name.slice(0, -5));
    if (fragment && fragment.entries.length > 0) blocks.push([fragment.name, renderBlock(fragment.name, fragment.entries)]);
  }
  return renderIndex(blocks, generated);
}

async function writeIndex(store: RepoStore, text: string): Promise<void> {
  await store.write(INDEX_PATH, Buffer.from(text, 'utf8'), INDEX_MIME);
}

/** Rewrites the index from the fragments. */
export async function reindex(store: RepoStore): Promise<void> {
  await writeIndex(store, await rebuild(store, new Date().toISOString()));
}

/** Applies `change` to chart `name`'s entries, then writes its fragment and its block of the index. */
async function updateChart(store: RepoStore, name: string, change: (entries: IndexEntry[]) => IndexEntry[]): Promise<void> {
  const before = (await readFragment(store, name))?.entries ?? [];
  const entries = sortEntries(change(before));
  if (entries.length === before.length && entries.every((e, i) => e === before[i])) return;
  if (entries.length === 0) await store.delete(fragmentPath(name));
  else await store.write(fragmentPath(name), fragmentBytes({ name, entries }), 'application/json');
  const generated = new Date().toISOString();
  const previous = await store.read(INDEX_PATH);
  const spliced = previous ? spliceIndex(previous.toString('utf8'), name, entries.length > 0 ? renderBlock(name, entries) : undefined, generated) : undefined;
  await writeIndex(store, spliced ?? (await rebuild(store, generated)));
}

/**
 * Refuses a chart whose version is already in the repository at another path (one index
 * entry per version; ChartMuseum and Helm know a version by name alone).
 */
export async function checkNotElsewhere(store: RepoStore, path: string, md: ChartMetadata): Promise<void> {
  const fragment = await readFragment(store, md.name);
  const other = fragment?.entries.find((e) => e.version === md.version && !e.urls.includes(chartUrl(path)));
  if (other) throw new ArcaError('CONFLICT', `Chart ${md.name} ${md.version} is already in this repository at '${other.urls[0]}'`);
}

/** The chart archive stored at `path` joins the index (unless it is gone, or named otherwise than its chart). */
export async function addChart(store: RepoStore, path: string): Promise<void> {
  const data = await store.read(path);
  if (!data) return;
  const { metadata } = await readChartArchive(data);
  if (nameOf(path) !== chartFileName(metadata.name, metadata.version)) return;
  const stat = await store.stat(path);
  const url = chartUrl(path);
  const entry = entryOf(metadata, {
    url,
    digest: stat?.sha256 || sha256Hex(data),
    created: new Date(stat?.modified ?? Date.now()).toISOString(),
  });
  await updateChart(store, metadata.name, (list) => [...list.filter((e) => e.version !== metadata.version && !e.urls.includes(url)), entry]);
}

/** True when the index lists the chart at `path` with the digest `sha256` (nothing to do after a replication). */
export async function listed(store: RepoStore, path: string, sha256: string): Promise<boolean> {
  const url = chartUrl(path);
  for (const { name } of chartFileCandidates(nameOf(path))) {
    if ((await readFragment(store, name))?.entries.some((e) => e.urls.includes(url) && e.digest === sha256)) return true;
  }
  return false;
}

/** The chart archive that was at `path` leaves the index (its provenance file goes with it). */
export async function removeChart(store: RepoStore, path: string): Promise<void> {
  const url = chartUrl(path);
  for (const { name } of chartFileCandidates(nameOf(path))) {
    const fragment = await readFragment(store, name);
    if (fragment?.entries.some((e) => e.urls.includes(url))) await updateChart(store, name, (list) => list.filter((e) => !e.urls.includes(url)));
  }
  await store.delete(`${path}.prov`);
}

/** After a folder (or another file) was deleted: every chart that was below it leaves the index (reads every fragment when the index names charts below it). */
export async function removeFolder(store: RepoStore, folder: string): Promise<void> {
  const prefix = `${chartUrl(folder)}/`;
  // Most deletes are of other files: when no URL in the index starts so, no chart was below.
  const index = await store.read(INDEX_PATH);
  if (index && !index.toString('utf8').includes(prefix)) return;
  for (const e of await store.list(ENTRIES_FOLDER)) {
    if (e.folder || !e.name.endsWith('.json')) continue;
    const name = e.name.slice(0, -5);
    const fragment = await readFragment(store, name);
    if (fragment?.entries.some((x) => x.urls.some((u) => u.startsWith(prefix)))) {
      await updateChart(store, name, (list) => list.filter((x) => !x.urls.some((u) => u.startsWith(prefix))));
    }
  }
}
