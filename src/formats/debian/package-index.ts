/**
 * Keeps a local Debian repository's indexes, one package at a time, through the RepoStore the
 * deploy service gives the handler (under the repository's cluster lock, see
 * services/format-deploy.ts).
 *
 * Each `Packages` index is cut into buckets by package name (a hash of it), and each bucket is
 * kept as its stanza text and that text's gzip member, both stored content-addressed
 * (layout.ts). `Packages` is the buckets' texts one after another and `Packages.gz` their gzip
 * members one after another (a multi-member gzip file, which apt and gzip read as one). A
 * change rewrites the one bucket that holds the package, then streams over the buckets once to
 * checksum the whole files for `Release`: its cost is one bucket's gzip and one pass of
 * hashing, never a rebuild. The distribution's state file, naming every bucket and the Release
 * text, is written last: that one write publishes the change, so a `Release` and the
 * `Packages` it names always come from one state. The previous generations stay readable by
 * hash (`Acquire-By-Hash`), so apt never sees a Release that disagrees with its Packages.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { sha1Hex } from '../../core/digests.js';
import type { RepoStore } from '../format-handler.js';
import { bucketOf, EMPTY_GZ_SUMS, EMPTY_SUMS, emptyGeneration, KEPT_GENERATIONS, readBlob, readState, writeBlob, type Bucket, type DistState, type Generation, type PackageRecord } from './index-state.js';
import { blobPath, RECORD_SHARDS, recordShardPath, shardPath, statePath } from './layout.js';
import { renderRelease, type FileSums } from './release.js';

export { EMPTY_GZ, readBlob, readState, sumsOf, type DistState, type Generation, type PackageRecord } from './index-state.js';

const gzip = promisify(gzipCb);

/** Where a stored package is listed (its stanza is in the buckets). */
export type RecordMeta = Omit<PackageRecord, 'stanza'>;

type Shard = Record<string, RecordMeta>;

async function readShard(store: RepoStore, shardFile: string): Promise<Shard> {
  const data = await store.read(shardFile);
  if (!data) return {};
  try {
    return JSON.parse(data.toString('utf8')) as Shard;
  } catch {
    return {};
  }
}

async function writeShard(store: RepoStore, shardFile: string, shard: Shard): Promise<void> {
  if (Object.keys(shard).length === 0) await store.delete(shardFile);
  else await store.write(shardFile, Buffer.from(JSON.stringify(shard)), 'application/json');
}

export async function readRecord(store: RepoStore, path: string): Promise<RecordMeta | undefined> {
  return (await readShard(store, recordShardPath(path)))[path];
}

function metaOf(record: PackageRecord): RecordMeta {
  const { stanza: _stanza, ...meta } = record;
  return meta;
}

/** The stanzas of a bucket's text. */
function stanzasOf(text: string): string[] {
  return text === '' ? [] : text.replace(/\n+$/, '').split('\n\n');
}

function stanzaField(stanza: string, name: string): string {
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(stanza);
  return m ? m[1] : '';
}

/** A stanza with its identity (package, version, architecture) and its place in a bucket. */
interface Entry {
  stanza: string;
  id: string;
  sort: string;
}

function entryOf(stanza: string): Entry {
  const [pkg, version, arch, filename] = ['Package', 'Version', 'Architecture', 'Filename'].map((f) => stanzaField(stanza, f));
  return { stanza, id: `${pkg}\0${version}\0${arch}`, sort: `${pkg}\0${version}\0${filename}` };
}

/** One change to a distribution's indexes. */
interface Edit {
  comp: string;
  /** Architectures to list under (for an `all` package: `all`, every architecture of the component, and these). */
  archs: string[];
  independent: boolean;
  name: string;
  path: string;
  /** The stanza to list; undefined takes the package out. */
  stanza?: string;
}

/** The files of every generation (for the blobs that fall out of use). */
function blobsOf(state: DistState | undefined): Set<string> {
  const out = new Set<string>();
  for (const archs of Object.values(state?.components ?? {})) {
    for (const a of Object.values(archs)) {
      for (const g of [a.current, ...a.previous]) for (const b of Object.values(g.buckets)) out.add(b.text).add(b.gz);
    }
  }
  return out;
}

function sameBuckets(a: Record<string, Bucket>, b: Record<string, Bucket>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k]?.text === a[k].text && b[k]?.gz === a[k].gz);
}

/** Streams over a generation's buckets once: the sums of Packages and of Packages.gz. */
async function sumGeneration(store: RepoStore, dist: string, buckets: Record<string, Bucket>): Promise<{ packages: FileSums; gz: FileSums }> {
  const ids = Object.keys(buckets).sort();
  if (ids.length === 0) return { packages: EMPTY_SUMS, gz: EMPTY_GZ_SUMS };
  // Hashes are folded bucket by bucket (the blobs are read one at a time, or come from the cache).
  const hText = [createHash('md5'), createHash('sha1'), createHash('sha256')];
  const hGz = [createHash('md5'), createHash('sha1'), createHash('sha256')];
  let sizeText = 0;
  let sizeGz = 0;
  for (const id of ids) {
    const t = await readBlob(store, dist, buckets[id].text);
    const z = await readBlob(store, dist, buckets[id].gz);
    for (const h of hText) h.update(t);
    for (const h of hGz) h.update(z);
    sizeText += t.length;
    sizeGz += z.length;
  }
  const [m1, s1, s256] = hText.map((h) => h.digest('hex'));
  const [m2, t1, t256] = hGz.map((h) => h.digest('hex'));
  return { packages: { size: sizeText, md5: m1, sha1: s1, sha256: s256 }, gz: { size: sizeGz, md5: m2, sha1: t1, sha256: t256 } };
}

function render(state: DistState, origin: string, date: Date): string {
  const comps = Object.keys(state.components).sort();
  const archs = new Set<string>();
  const files: Array<[string, FileSums]> = [];
  for (const c of comps) {
    for (const a of Object.keys(state.components[c]).sort()) {
      archs.add(a);
      const g = state.components[c][a].current;
      files.push([`${c}/binary-${a}/Packages`, g.packages], [`${c}/binary-${a}/Packages.gz`, g.gz]);
    }
  }
  const list = [...archs].sort((x, y) => (x === 'all' ? 1 : y === 'all' ? -1 : x < y ? -1 : x > y ? 1 : 0));
  return renderRelease({ dist: state.dist, origin, label: origin, date, files, components: comps, architectures: list });
}

/** Applies edits to one distribution and publishes the result (blobs first, the state last). */
async function updateDist(store: RepoStore, dist: string, edits: Edit[]): Promise<void> {
  const before = await readState(store, dist);
  const state: DistState = before ? (JSON.parse(JSON.stringify(before)) as DistState) : { dist, components: {}, release: '', date: '' };
  // Working buckets: `${comp}\0${arch}\0${id}` → Filename → stanza (with its identity and sort key).
  const working = new Map<string, Map<string, Entry>>();
  const touched = new Set<string>();
  const bucketEntries = async (comp: string, arch: string, id: string): Promise<Map<string, Entry>> => {
    const key = `${comp}\0${arch}\0${id}`;
    let entries = working.get(key);
    if (!entries) {
      entries = new Map();
      const b = state.components[comp][arch].current.buckets[id];
      if (b) for (const s of stanzasOf((await readBlob(store, dist, b.text)).toString('utf8'))) entries.set(stanzaField(s, 'Filename'), entryOf(s));
      working.set(key, entries);
    }
    return entries;
  };
  for (const e of edits) {
    const comp = (state.components[e.comp] ??= {});
    let archs = e.independent ? [...new Set(['all', ...Object.keys(comp), ...e.archs])] : e.archs;
    if (e.stanza === undefined) archs = archs.filter((a) => comp[a] !== undefined);
    const added = e.stanza === undefined ? undefined : entryOf(e.stanza);
    for (const a of archs) {
      if (!comp[a]) {
        // A new architecture starts with the component's architecture-independent packages.
        const all = comp.all?.current;
        comp[a] = { current: { ...emptyGeneration(), buckets: a !== 'all' && all ? { ...all.buckets } : {} }, previous: [] };
        touched.add(`${e.comp}\0${a}`);
      }
      const entries = await bucketEntries(e.comp, a, bucketOf(e.name));
      entries.delete(e.path);
      if (added) {
        // One file per package, version and architecture in a distribution: the latest deploy wins.
        for (const [filename, x] of entries) if (x.id === added.id) entries.delete(filename);
        entries.set(e.path, added);
      }
      touched.add(`${e.comp}\0${a}`);
    }
  }
  // Write the changed buckets (text and gzip member) as new blobs.
  const next = new Map<string, Record<string, Bucket>>();
  for (const [key, entries] of working) {
    const [comp, arch, id] = key.split('\0');
    const list = [...entries.values()].sort((x, y) => (x.sort < y.sort ? -1 : x.sort > y.sort ? 1 : 0)).map((x) => x.stanza);
    const ca = `${comp}\0${arch}`;
    let buckets = next.get(ca);
    if (!buckets) {
      buckets = { ...state.components[comp][arch].current.buckets };
      next.set(ca, buckets);
    }
    if (list.length === 0) {
      delete buckets[id];
      continue;
    }
    const text = Buffer.from(`${list.join('\n\n')}\n\n`, 'utf8');
    const old = buckets[id];
    const textSha = sha1Hex(text);
    if (old && old.text === textSha) continue;
    const member = await gzip(text, { level: 6 });
    buckets[id] = { text: await writeBlob(store, dist, text), gz: await writeBlob(store, dist, member), count: list.length };
  }
  for (const ca of touched) {
    const [comp, arch] = ca.split('\0');
    const s = state.components[comp][arch];
    const buckets = next.get(ca) ?? s.current.buckets;
    const unchanged = before?.components[comp]?.[arch] !== undefined && sameBuckets(buckets, s.current.buckets);
    const sums = unchanged ? { packages: s.current.packages, gz: s.current.gz } : await sumGeneration(store, dist, buckets);
    const gen: Generation = { buckets, packages: sums.packages, gz: sums.gz };
    const existed = before?.components[comp]?.[arch] !== undefined;
    // An unchanged Packages keeps its history; a changed one pushes the current generation back.
    if (!existed || gen.packages.sha256 !== s.current.packages.sha256) s.previous = existed ? [s.current, ...s.previous].slice(0, KEPT_GENERATIONS) : [];
    s.current = gen;
  }
  const date = new Date();
  state.date = date.toISOString();
  state.release = render(state, store.repo.key, date);
  await store.write(statePath(dist), Buffer.from(JSON.stringify(state)), 'application/json');
  // Blobs no generation names any more.
  const kept = blobsOf(state);
  for (const sha1 of blobsOf(before)) if (!kept.has(sha1)) await store.delete(blobPath(dist, sha1));
}

/** Lists the package stored at `record.path` (replacing what an earlier file there listed). */
export async function addPackage(store: RepoStore, record: PackageRecord): Promise<void> {
  const shardFile = recordShardPath(record.path);
  const shard = await readShard(store, shardFile);
  const previous = shard[record.path];
  shard[record.path] = metaOf(record);
  await writeShard(store, shardFile, shard);
  const dists = new Set([...record.dists, ...(previous?.dists ?? [])]);
  for (const dist of [...dists].sort()) {
    const edits: Edit[] = [];
    if (previous?.dists.includes(dist)) {
      for (const comp of previous.comps) edits.push({ comp, archs: previous.archs, independent: previous.architecture === 'all', name: previous.package, path: previous.path });
    }
    if (record.dists.includes(dist)) {
      for (const comp of record.comps) edits.push({ comp, archs: record.archs, independent: record.architecture === 'all', name: record.package, path: record.path, stanza: record.stanza });
    }
    await updateDist(store, dist, edits);
  }
}

/**
 * Lists many packages at once (an import): every record is written, then each distribution
 * is updated once with all of its edits (each bucket is rewritten once, the sums made once).
 */
export async function addPackages(store: RepoStore, records: PackageRecord[]): Promise<void> {
  const byDist = new Map<string, Edit[]>();
  const edit = (dist: string, e: Edit) => {
    const list = byDist.get(dist);
    if (list) list.push(e);
    else byDist.set(dist, [e]);
  };
  const shards = new Map<string, Shard>();
  for (const record of records) {
    const shardFile = recordShardPath(record.path);
    let shard = shards.get(shardFile);
    if (!shard) {
      shard = await readShard(store, shardFile);
      shards.set(shardFile, shard);
    }
    const previous = shard[record.path];
    shard[record.path] = metaOf(record);
    for (const dist of previous?.dists ?? []) {
      for (const comp of previous!.comps) edit(dist, { comp, archs: previous!.archs, independent: previous!.architecture === 'all', name: previous!.package, path: previous!.path });
    }
    for (const dist of record.dists) {
      for (const comp of record.comps) edit(dist, { comp, archs: record.archs, independent: record.architecture === 'all', name: record.package, path: record.path, stanza: record.stanza });
    }
  }
  for (const [shardFile, shard] of shards) await writeShard(store, shardFile, shard);
  for (const [dist, edits] of [...byDist].sort(([a], [b]) => (a < b ? -1 : 1))) await updateDist(store, dist, edits);
}

/** The packages listed by `records` leave every index that listed them. */
async function unlist(store: RepoStore, records: RecordMeta[]): Promise<void> {
  const byDist = new Map<string, Edit[]>();
  for (const r of records) {
    for (const dist of r.dists) {
      const edits = byDist.get(dist) ?? [];
      for (const comp of r.comps) edits.push({ comp, archs: r.archs, independent: r.architecture === 'all', name: r.package, path: r.path });
      byDist.set(dist, edits);
    }
  }
  for (const [dist, edits] of byDist) await updateDist(store, dist, edits);
}

/** The package that was at `path` leaves every index that listed it. */
export async function removePackage(store: RepoStore, path: string): Promise<void> {
  const shardFile = recordShardPath(path);
  const shard = await readShard(store, shardFile);
  const record = shard[path];
  if (!record) return;
  await unlist(store, [record]);
  delete shard[path];
  await writeShard(store, shardFile, shard);
}

/** After a folder was deleted (`''`: everything): every package that was below it leaves the indexes (reads every records shard). */
export async function removeFolder(store: RepoStore, folder: string): Promise<void> {
  const prefix = folder === '' ? '' : `${folder}/`;
  for (let i = 0; i < RECORD_SHARDS; i++) {
    const shardFile = shardPath(i);
    const shard = await readShard(store, shardFile);
    const below = Object.values(shard).filter((r) => r.path.startsWith(prefix));
    if (below.length === 0) continue;
    await unlist(store, below);
    for (const r of below) delete shard[r.path];
    await writeShard(store, shardFile, shard);
  }
}
