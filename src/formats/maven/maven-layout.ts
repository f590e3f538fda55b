/**
 * The Maven 2 standard repository layout:
 * `{groupId with / for .}/{artifactId}/{baseVersion}/{artifactId}-{version}[-{classifier}].{ext}`,
 * where a SNAPSHOT's file version is either `X-SNAPSHOT` or a unique
 * `X-{yyyyMMdd.HHmmss}-{buildNumber}`.
 */

export const METADATA_FILE = 'maven-metadata.xml';

export interface MavenArtifactPath {
  groupId: string;
  /** The group folders as they are in the path (`org/example`): where the artifact folder is. */
  groupPath: string;
  artifactId: string;
  /** The version folder (`1.0`, `1.0-SNAPSHOT`). */
  baseVersion: string;
  /** The version in the file name (`1.0`, `1.0-SNAPSHOT`, `1.0-20240101.120000-3`). */
  version: string;
  classifier: string;
  extension: string;
  snapshot: boolean;
  /** Unique snapshots only: `yyyyMMdd.HHmmss` and the build number. */
  timestamp?: string;
  buildNumber?: number;
}


/** Parses an artifact path of the standard layout; undefined for paths outside it (and for metadata). */
export function parseArtifactPath(path: string): MavenArtifactPath | undefined {
  const segs = path.split('/');
  if (segs.length < 4) return undefined;
  const file = segs[segs.length - 1];
  const baseVersion = segs[segs.length - 2];
  const artifactId = segs[segs.length - 3];
  const groupPath = segs.slice(0, -3).join('/');
  const groupId = segs.slice(0, -3).join('.');
  if (file === METADATA_FILE || !file.startsWith(`${artifactId}-`)) return undefined;
  const rest = file.slice(artifactId.length + 1);
  const snapshot = baseVersion.endsWith('-SNAPSHOT');
  let version: string | undefined;
  let timestamp: string | undefined;
  let buildNumber: number | undefined;
  if (rest.startsWith(baseVersion) && /^[-.]/.test(rest.slice(baseVersion.length))) {
    version = baseVersion;
  } else if (snapshot) {
    const stem = baseVersion.slice(0, -'-SNAPSHOT'.length);
    const m = new RegExp(`^${escapeRegExp(stem)}-(\\d{8}\\.\\d{6})-(\\d+)(?=[-.])`).exec(rest);
    if (m) {
      version = `${stem}-${m[1]}-${m[2]}`;
      timestamp = m[1];
      buildNumber = Number(m[2]);
    }
  }
  if (version === undefined) return undefined;
  const tail = rest.slice(version.length);
  let classifier = '';
  let extension: string;
  if (tail.startsWith('-')) {
    const dot = tail.indexOf('.');
    if (dot < 0) return undefined;
    classifier = tail.slice(1, dot);
    extension = tail.slice(dot + 1);
    if (classifier === '') return undefined;
  } else {
    extension = tail.slice(1);
  }
  if (extension === '') return undefined;
  return { groupId, groupPath, artifactId, baseVersion, version, classifier, extension, snapshot, timestamp, buildNumber };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** What a `maven-metadata.xml` path describes: an artifact (its versions) or one SNAPSHOT version. */
export type MetadataLocation =
  | { level: 'artifact'; folder: string }
  | { level: 'version'; folder: string; baseVersion: string }
  | { level: 'other'; folder: string };

export function metadataLocation(path: string): MetadataLocation | undefined {
  if (path !== METADATA_FILE && !path.endsWith(`/${METADATA_FILE}`)) return undefined;
  const folder = path === METADATA_FILE ? '' : path.slice(0, -METADATA_FILE.length - 1);
  const last = folder.slice(folder.lastIndexOf('/') + 1);
  if (last.endsWith('-SNAPSHOT') && folder.includes('/')) return { level: 'version', folder, baseVersion: last };
  if (folder.split('/').length >= 2) return { level: 'artifact', folder };
  return { level: 'other', folder };
}

/**
 * The artifact folder (`g/a`) and the version folder (`g/a/1.0`) of an artifact path: the
 * folders the file is in, whatever dots its group folders hold (rebuilding them from the
 * groupId would turn a folder `.x` into `/x`, outside the repository).
 */
export function foldersOf(p: MavenArtifactPath): { artifactFolder: string; versionFolder: string } {
  const artifactFolder = `${p.groupPath}/${p.artifactId}`;
  return { artifactFolder, versionFolder: `${artifactFolder}/${p.baseVersion}` };
}

/** A unique snapshot's timestamp as `yyyyMMdd.HHmmss` (UTC). */
export function snapshotTimestamp(ms: number): string {
  const d = new Date(ms).toISOString();
  return `${d.slice(0, 4)}${d.slice(5, 7)}${d.slice(8, 10)}.${d.slice(11, 13)}${d.slice(14, 16)}${d.slice(17, 19)}`;
}

/** `lastUpdated` of maven-metadata.xml: `yyyyMMddHHmmss` (UTC). */
export function metadataTimestamp(ms: number): string {
  return snapshotTimestamp(ms).replace('.', '');
}

