import type { RepoStore } from '../format-handler.js';
import { METADATA_FILE, metadataTimestamp, parseArtifactPath, type MavenArtifactPath } from './maven-layout.js';
import { latestAndRelease, parseMetadata, renderMetadata, type MavenMetadata, type SnapshotVersion } from './maven-metadata.js';
import { sortVersions } from './maven-version.js';

const CHECKSUM_SUFFIX = /\.(md5|sha1|sha256|sha512|asc)$/;

/** One generation at a time per folder in this process, so concurrent deploys do not lose versions. */
const running = new Map<string, Promise<void>>();

export function serialized(key: string, work: () => Promise<void>): Promise<void> {
  const previous = running.get(key) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(work);
  const tail = next.finally(() => {
    if (running.get(key) === tail) running.delete(key);
  });
  running.set(key, tail);
  return next;
}

/** The artifacts (layout files, not checksums or signatures) directly in a version folder. */
async function artifactsIn(store: RepoStore, versionFolder: string): Promise<{ p: MavenArtifactPath; name: string; modified: number }[]> {
  const out = [];
  for (const e of await store.list(versionFolder)) {
    if (e.folder || e.name === METADATA_FILE || CHECKSUM_SUFFIX.test(e.name)) continue;
    const p = parseArtifactPath(`${versionFolder}/${e.name}`);
    if (p) out.push({ p, name: e.name, modified: e.modified });
  }
  return out;
}

/**
 * Writes a generated metadata file. With `onlyIfChanged` (after a replication, which sends the
 * source's own copy) a stored file that says the same but for its `lastUpdated` is kept.
 */
async function writeMetadata(store: RepoStore, path: string, meta: MavenMetadata, onlyIfChanged: boolean): Promise<void> {
  if (onlyIfChanged) {
    const stored = await store.read(path);
    let lastUpdated: string | undefined;
    try {
      lastUpdated = stored ? parseMetadata(stored).versioning?.lastUpdated : undefined;
    } catch {
      lastUpdated = undefined;
    }
    if (stored && lastUpdated && renderMetadata({ ...meta, versioning: { ...meta.versioning!, lastUpdated } }) === stored.toString('utf8')) return;
  }
  await store.write(path, Buffer.from(renderMetadata(meta)), 'application/xml');
}

const buildKey = (p: MavenArtifactPath) => `${p.timestamp}-${String(p.buildNumber).padStart(9, '0')}`;

/**
 * Regenerates `{artifactFolder}/maven-metadata.xml` from the version folders that hold
 * artifacts (removes it when none is left).
 */
export async function updateArtifactMetadata(store: RepoStore, artifactFolder: string, now: number, onlyIfChanged = false): Promise<void> {
  const path = `${artifactFolder}/${METADATA_FILE}`;
  const versions: string[] = [];
  for (const e of await store.list(artifactFolder)) {
    if (e.folder && (await artifactsIn(store, `${artifactFolder}/${e.name}`)).length > 0) versions.push(e.name);
  }
  if (versions.length === 0) {
    await store.delete(path);
    return;
  }
  const sorted = sortVersions(versions);
  const segs = artifactFolder.split('/');
  await writeMetadata(store, path, {
    groupId: segs.slice(0, -1).join('.'),
    artifactId: segs[segs.length - 1],
    versioning: { ...latestAndRelease(sorted), versions: sorted, lastUpdated: metadataTimestamp(now), snapshotVersions: [] },
    plugins: [],
  }, onlyIfChanged);
}

/**
 * Regenerates a SNAPSHOT folder's `maven-metadata.xml`: the newest unique build as
 * `<snapshot>` and the newest file per classifier and extension as `<snapshotVersions>`.
 */
export async function updateSnapshotMetadata(store: RepoStore, versionFolder: string, now: number, onlyIfChanged = false): Promise<void> {
  const path = `${versionFolder}/${METADATA_FILE}`;
  const files = await artifactsIn(store, versionFolder);
  if (files.length === 0) {
    await store.delete(path);
    return;
  }
  const unique = files.filter((f) => f.p.timestamp);
  const newest = unique.reduce<(typeof unique)[number] | undefined>((best, f) => (!best || buildKey(f.p) > buildKey(best.p) ? f : best), undefined);
  const byKind = new Map<string, SnapshotVersion & { rank: string }>();
  for (const f of files) {
    const rank = f.p.timestamp ? `1-${buildKey(f.p)}` : `0-${f.modified}`;
    const updated = f.p.timestamp ? f.p.timestamp.replace('.', '') : metadataTimestamp(f.modified);
    const k = `${f.p.classifier}\u0000${f.p.extension}`;
    const had = byKind.get(k);
    if (!had || rank > had.rank) byKind.set(k, { classifier: f.p.classifier, extension: f.p.extension, value: f.p.version, updated, rank });
  }
  const first = files[0].p;
  await writeMetadata(store, path, {
    groupId: first.groupId,
    artifactId: first.artifactId,
    version: first.baseVersion,
    versioning: {
      snapshot: newest ? { timestamp: newest.p.timestamp, buildNumber: newest.p.buildNumber } : { localCopy: true },
      versions: [],
      lastUpdated: metadataTimestamp(now),
      snapshotVersions: [...byKind.values()]
        .sort((a, b) => (a.extension + a.classifier < b.extension + b.classifier ? -1 : 1))
        .map(({ rank: _rank, ...s }) => s),
    },
    plugins: [],
  }, onlyIfChanged);
}

/**
 * Keeps the newest `max` unique builds of a SNAPSHOT folder and deletes the files (with
 * their checksum and signature files) of older builds. Returns how many files went.
 */
export async function pruneSnapshots(store: RepoStore, versionFolder: string, max: number): Promise<number> {
  if (max <= 0) return 0;
  const entries = await store.list(versionFolder);
  const buildOf = new Map<string, string>();
  for (const e of entries) {
    if (e.folder) continue;
    const p = parseArtifactPath(`${versionFolder}/${e.name.replace(CHECKSUM_SUFFIX, '')}`);
    if (p?.timestamp) buildOf.set(e.name, buildKey(p));
  }
  const builds = [...new Set(buildOf.values())].sort().reverse();
  const keep = new Set(builds.slice(0, max));
  let removed = 0;
  for (const [name, build] of buildOf) {
    if (!keep.has(build) && (await store.delete(`${versionFolder}/${name}`))) removed++;
  }
  return removed;
}
