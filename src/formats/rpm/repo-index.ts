/**
 * Keeps a local RPM repository's metadata up to date, one package at a time, through the
 * RepoStore the deploy service gives the handler (under the repository's cluster lock, see
 * services/format-deploy.ts).
 *
 * Records (under `.rpm/r/{root}/`): each package's three XML entries sit in one of 256 chunk
 * files (`chunks/{xx}.json`, by the hash of its location); `state.json` says which data files
 * are published and how long each chunk's gzip member is in them. A change reads and writes
 * one chunk, compresses that chunk's three members again, and copies every other member's
 * bytes from the published files (repodata-files.ts): the work is one chunk plus a copy and a
 * checksum of the files, never a pass over all the packages' records.
 *
 * Publication order: the new data files (named by their checksum, so they never replace a
 * file a client may be reading), then `repomd.xml`, then the state. The files of the
 * generation before the last are deleted then, so a client that read the previous repomd.xml
 * just before the switch still finds its files. A missing or unreadable state or data file
 * (or a deleted repomd.xml) makes the next change rebuild the files from every chunk.
 */
import type { RepoStore } from '../format-handler.js';
import { CHUNKS, chunkOf, chunkPath, GZIP_MIME, repomdPath, statePath, underRoot, XML_MIME, type ExtraKind } from './layout.js';
import type { PackageXml } from './package-xml.js';
import { closing, DATA_KINDS, dataHref, gzipMember, opening, openDigest, renderRepomd, type DataKind, type RepomdData } from './repodata-files.js';
import { sha256Hex } from '../../core/digests.js';

export interface PackageRecord extends PackageXml {
  pkgid: string;
  /** `name-[epoch:]version-release.arch`, for listings. */
  nevra: string;
}

interface ChunkRecord {
  packages: Record<string, PackageRecord>;
}

interface ChunkState {
  count: number;
  /** Length of the chunk's gzip member in each published data file. */
  members: Record<DataKind, number>;
}

interface Extra {
  /** The deployed file, relative to the root. */
  source: string;
  kind: ExtraKind;
  files: RepomdData[];
}

export interface RootState {
  revision: number;
  chunks: Record<string, ChunkState>;
  /** Length of the opening member in each data file (the closing one is made again). */
  heads: Record<DataKind, number>;
  files: Record<DataKind, RepomdData> | undefined;
  extras: Extra[];
  /** Data files of the previous generation, deleted at the next publication. */
  previous: string[];
  /**
   * Chunks whose records were about to change when this state was written: the next
   * publication makes them again from their records, so a change cut short between its
   * record and its data files is never left out for good.
   */
  dirty?: number[];
}

const emptyState = (): RootState => ({ revision: 0, chunks: {}, heads: { primary: 0, filelists: 0, other: 0 }, files: undefined, extras: [], previous: [] });

async function readJson<T>(store: RepoStore, path: string): Promise<T | undefined> {
  const data = await store.read(path);
  if (!data) return undefined;
  try {
    return JSON.parse(data.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

export function readState(store: RepoStore, root: string): Promise<RootState | undefined> {
  return readJson<RootState>(store, statePath(root));
}

async function readChunk(store: RepoStore, root: string, chunk: number): Promise<ChunkRecord> {
  return (await readJson<ChunkRecord>(store, chunkPath(root, chunk))) ?? { packages: {} };
}

async function writeChunk(store: RepoStore, root: string, chunk: number, record: ChunkRecord, state: RootState | undefined): Promise<void> {
  // Marked first (when there is a publication to mark), then changed.
  if (state?.files && !state.dirty?.includes(chunk)) {
    state.dirty = [...(state.dirty ?? []), chunk];
    await store.write(statePath(root), Buffer.from(JSON.stringify(state)), 'application/json');
  }
  if (Object.keys(record.packages).length === 0) await store.delete(chunkPath(root, chunk));
  else await store.write(chunkPath(root, chunk), Buffer.from(JSON.stringify(record)), 'application/json');
}

/** The three members of a chunk (its packages in location order). */
async function chunkMembers(record: ChunkRecord): Promise<Record<DataKind, Buffer>> {
  const hrefs = Object.keys(record.packages).sort();
  const out = {} as Record<DataKind, Buffer>;
  const made = await Promise.all(DATA_KINDS.map((kind) => gzipMember(hrefs.map((h) => record.packages[h][kind]).join(''))));
  DATA_KINDS.forEach((kind, i) => (out[kind] = made[i]));
  return out;
}

const FILE_NAMES: Record<DataKind, string> = { primary: 'primary.xml.gz', filelists: 'filelists.xml.gz', other: 'other.xml.gz' };

/**
 * Publishes the root's metadata with `changed` chunks made again from their records (all of
 * them when the published files cannot be reused).
 */
async function publish(store: RepoStore, root: string, before: RootState | undefined, changed: Map<number, ChunkRecord>): Promise<void> {
  let state = before ?? emptyState();
  // The published files, when the state describes them; else every chunk is made again.
  const old: Partial<Record<DataKind, Buffer>> = {};
  let reuse = before?.files !== undefined;
  if (reuse) {
    const read = await Promise.all(DATA_KINDS.map((kind) => store.read(underRoot(root, state.files![kind].href))));
    DATA_KINDS.forEach((kind, i) => {
      const data = read[i];
      if (!data || data.length !== state.files![kind].size) reuse = false;
      else old[kind] = data;
    });
  }
  if (!reuse) state = { ...state, chunks: {} };
  else {
    for (const c of state.dirty ?? []) if (!changed.has(c)) changed.set(c, await readChunk(store, root, c));
  }
  const chunks: Record<string, ChunkState> = {};
  const members: Record<DataKind, Buffer[]> = { primary: [], filelists: [], other: [] };
  const offsets: Record<DataKind, number> = { ...state.heads };
  // A rebuild reads every chunk, one at a time (only its compressed members are kept).
  const indexes = reuse ? new Set<number>([...Object.keys(state.chunks).map(Number), ...changed.keys()]) : new Set(Array.from({ length: CHUNKS }, (_, c) => c));
  for (const c of [...indexes].sort((a, b) => a - b)) {
    const previous = state.chunks[c];
    const record = reuse ? changed.get(c) : await readChunk(store, root, c);
    if (record === undefined) {
      // Unchanged: the member's bytes from the published file.
      for (const kind of DATA_KINDS) {
        const len = previous.members[kind];
        members[kind].push(old[kind]!.subarray(offsets[kind], offsets[kind] + len));
        offsets[kind] += len;
      }
      chunks[c] = previous;
      continue;
    }
    if (previous) for (const kind of DATA_KINDS) offsets[kind] += previous.members[kind];
    const count = Object.keys(record.packages).length;
    if (count === 0) continue;
    const made = await chunkMembers(record);
    for (const kind of DATA_KINDS) members[kind].push(made[kind]);
    chunks[c] = { count, members: { primary: made.primary.length, filelists: made.filelists.length, other: made.other.length } };
  }
  const total = Object.values(chunks).reduce((n, c) => n + c.count, 0);
  const timestamp = Math.floor(Date.now() / 1000);
  const files = {} as Record<DataKind, RepomdData>;
  const heads = {} as Record<DataKind, number>;
  // The three files at once: their compression, checksums and writes overlap.
  await Promise.all(
    DATA_KINDS.map(async (kind) => {
      const head = await gzipMember(opening(kind, total));
      const data = Buffer.concat([head, ...members[kind], await gzipMember(closing(kind))]);
      heads[kind] = head.length;
      const sha256 = sha256Hex(data);
      const same = state.files?.[kind]?.sha256 === sha256;
      if (same) {
        files[kind] = state.files![kind];
        return;
      }
      const [open] = await Promise.all([openDigest(data), store.write(underRoot(root, dataHref(sha256, FILE_NAMES[kind])), data, GZIP_MIME)]);
      files[kind] = { type: kind, href: dataHref(sha256, FILE_NAMES[kind]), sha256, size: data.length, openSha256: open.sha256, openSize: open.size, timestamp };
    }),
  );
  await finish(store, root, state, { ...state, chunks, heads, files });
}

/** Writes repomd.xml and the state, and deletes the files of the generation before the last. */
async function finish(store: RepoStore, root: string, before: RootState, next: RootState): Promise<void> {
  const current = new Set(allFiles(next).map((f) => f.href));
  const replaced = allFiles(before)
    .map((f) => f.href)
    .filter((h) => !current.has(h));
  const revision = Math.max(before.revision + 1, Math.floor(Date.now() / 1000));
  const state: RootState = { ...next, revision, previous: replaced, dirty: [] };
  await store.write(repomdPath(root), Buffer.from(renderRepomd(revision, allFiles(state)), 'utf8'), XML_MIME);
  await store.write(statePath(root), Buffer.from(JSON.stringify(state)), 'application/json');
  await Promise.all(before.previous.filter((href) => !current.has(href)).map((href) => store.delete(underRoot(root, href))));
}

function allFiles(state: RootState): RepomdData[] {
  const data = state.files ? DATA_KINDS.map((k) => state.files![k]) : [];
  return [...data, ...state.extras.flatMap((e) => e.files)];
}

/** Puts (or replaces) the package at `href` of `root` in the metadata. */
export async function putPackage(store: RepoStore, root: string, href: string, record: PackageRecord): Promise<void> {
  const c = chunkOf(href);
  const [chunk, state] = await Promise.all([readChunk(store, root, c), readState(store, root)]);
  chunk.packages[href] = record;
  await writeChunk(store, root, c, chunk, state);
  await publish(store, root, state, new Map([[c, chunk]]));
}

/** True when the metadata lists the package at `href` with the id `pkgid`. */
export async function listed(store: RepoStore, root: string, href: string, pkgid: string): Promise<boolean> {
  return (await readChunk(store, root, chunkOf(href))).packages[href]?.pkgid === pkgid;
}

/** Takes the package at `href` out of the metadata (nothing when it is not listed). */
export async function removePackage(store: RepoStore, root: string, href: string): Promise<void> {
  const c = chunkOf(href);
  const [chunk, state] = await Promise.all([readChunk(store, root, c), readState(store, root)]);
  if (!chunk.packages[href]) return;
  delete chunk.packages[href];
  await writeChunk(store, root, c, chunk, state);
  await publish(store, root, state, new Map([[c, chunk]]));
}

/** Takes every package below the folder `prefix` (relative to the root, '' for all) out of the metadata. */
export async function removeFolder(store: RepoStore, root: string, prefix: string): Promise<void> {
  const state = await readState(store, root);
  if (!state) return;
  const changed = new Map<number, ChunkRecord>();
  for (const key of Object.keys(state.chunks)) {
    const c = Number(key);
    const chunk = await readChunk(store, root, c);
    const gone = Object.keys(chunk.packages).filter((h) => prefix === '' || h.startsWith(`${prefix}/`));
    if (gone.length === 0) continue;
    for (const h of gone) delete chunk.packages[h];
    await writeChunk(store, root, c, chunk, state);
    changed.set(c, chunk);
  }
  if (changed.size > 0) await publish(store, root, state, changed);
}

/** Makes the data files again from every chunk (a repair, after repomd.xml was deleted). */
export async function rebuild(store: RepoStore, root: string): Promise<void> {
  const state = await readState(store, root);
  await publish(store, root, state ? { ...state, files: undefined } : undefined, new Map());
}

/** Names the group or modules file `source` (relative to the root) in repomd.xml, with copies in repodata/. */
export async function putExtra(store: RepoStore, root: string, source: string, kind: ExtraKind): Promise<void> {
  const data = await store.read(underRoot(root, source));
  if (!data) return;
  const state = (await readState(store, root)) ?? emptyState();
  const timestamp = Math.floor(Date.now() / 1000);
  const files: RepomdData[] = [];
  const add = async (type: string, name: string, body: Buffer, open?: Buffer) => {
    const sha256 = sha256Hex(body);
    const href = dataHref(sha256, name);
    await store.write(underRoot(root, href), body, open ? GZIP_MIME : XML_MIME);
    files.push({ type, href, sha256, size: body.length, timestamp, ...(open ? { openSha256: sha256Hex(open), openSize: open.length } : {}) });
  };
  const base = source.split('/').pop()!;
  if (kind === 'group') {
    await add('group', base, data);
    await add('group_gz', `${base}.gz`, await gzipMember(data), data);
  } else {
    await add('modules', `${base}.gz`, await gzipMember(data), data);
  }
  const extras = [...state.extras.filter((e) => e.source !== source && e.kind !== kind), { source, kind, files }];
  await finish(store, root, state, { ...state, extras });
}

/** Drops the group or modules file `source` from repomd.xml. */
export async function removeExtra(store: RepoStore, root: string, source: string): Promise<void> {
  const state = await readState(store, root);
  if (!state?.extras.some((e) => e.source === source || e.source.startsWith(`${source}/`) || source === '')) return;
  const extras = state.extras.filter((e) => !(e.source === source || e.source.startsWith(`${source}/`) || source === ''));
  await finish(store, root, state, { ...state, extras });
}
