import { ArcaError } from '../../core/errors.js';
import { compareVersions, isSnapshotVersion, sortVersions } from './maven-version.js';
import { child, children, escapeXml, parseXml, text } from './maven-xml.js';

/** One `<snapshotVersion>`: the newest file of a classifier and extension in a SNAPSHOT folder. */
export interface SnapshotVersion {
  classifier: string;
  extension: string;
  value: string;
  /** `yyyyMMddHHmmss`. */
  updated: string;
}

export interface MavenPlugin {
  name?: string;
  prefix: string;
  artifactId: string;
}

/** The content of a `maven-metadata.xml` (artifact, SNAPSHOT version or plugin-group level). */
export interface MavenMetadata {
  groupId?: string;
  artifactId?: string;
  version?: string;
  versioning?: {
    latest?: string;
    release?: string;
    versions: string[];
    /** `yyyyMMddHHmmss`. */
    lastUpdated?: string;
    snapshot?: { timestamp?: string; buildNumber?: number; localCopy?: boolean };
    snapshotVersions: SnapshotVersion[];
  };
  plugins: MavenPlugin[];
}

/** Parses maven-metadata.xml; malformed XML or a document that is not `<metadata>` → BAD_REQUEST. */
export function parseMetadata(data: Buffer | string): MavenMetadata {
  const doc = parseXml(data, 'maven-metadata.xml');
  const root = child(doc, 'metadata') ?? (doc.metadata === '' ? {} : undefined);
  if (!root) throw new ArcaError('BAD_REQUEST', 'Malformed maven-metadata.xml: the root element must be <metadata>');
  const v = child(root, 'versioning');
  const snap = child(v, 'snapshot');
  const buildNumber = text(snap, 'buildNumber');
  if (buildNumber !== undefined && !/^\d+$/.test(buildNumber)) {
    throw new ArcaError('BAD_REQUEST', `Malformed maven-metadata.xml: buildNumber '${buildNumber}' is not a number`);
  }
  return {
    groupId: text(root, 'groupId'),
    artifactId: text(root, 'artifactId'),
    version: text(root, 'version'),
    versioning:
      v || root.versioning === ''
        ? {
            latest: text(v, 'latest'),
            release: text(v, 'release'),
            versions: children(child(v, 'versions'), 'version').map((x) => String(x).trim()).filter((x) => x !== ''),
            lastUpdated: text(v, 'lastUpdated'),
            snapshot: snap
              ? { timestamp: text(snap, 'timestamp'), buildNumber: buildNumber === undefined ? undefined : Number(buildNumber), localCopy: text(snap, 'localCopy') === 'true' || undefined }
              : undefined,
            snapshotVersions: children(child(v, 'snapshotVersions'), 'snapshotVersion').map((s) => ({
              classifier: text(s, 'classifier') ?? '',
              extension: text(s, 'extension') ?? '',
              value: text(s, 'value') ?? '',
              updated: text(s, 'updated') ?? '',
            })),
          }
        : undefined,
    plugins: children(child(root, 'plugins'), 'plugin').map((p) => ({ name: text(p, 'name'), prefix: text(p, 'prefix') ?? '', artifactId: text(p, 'artifactId') ?? '' })),
  };
}

const el = (indent: string, name: string, value: string | number | undefined) =>
  value === undefined || value === '' ? '' : `${indent}<${name}>${escapeXml(String(value))}</${name}>\n`;

/** Writes maven-metadata.xml as Maven itself lays it out. */
export function renderMetadata(m: MavenMetadata): string {
  let out = '<?xml version="1.0" encoding="UTF-8"?>\n<metadata>\n';
  out += el('  ', 'groupId', m.groupId) + el('  ', 'artifactId', m.artifactId) + el('  ', 'version', m.version);
  const v = m.versioning;
  if (v) {
    out += '  <versioning>\n';
    out += el('    ', 'latest', v.latest) + el('    ', 'release', v.release);
    if (v.snapshot) {
      out += '    <snapshot>\n';
      out += el('      ', 'timestamp', v.snapshot.timestamp) + el('      ', 'buildNumber', v.snapshot.buildNumber);
      if (v.snapshot.localCopy) out += el('      ', 'localCopy', 'true');
      out += '    </snapshot>\n';
    }
    if (v.versions.length > 0) out += `    <versions>\n${v.versions.map((x) => el('      ', 'version', x)).join('')}    </versions>\n`;
    out += el('    ', 'lastUpdated', v.lastUpdated);
    if (v.snapshotVersions.length > 0) {
      out += '    <snapshotVersions>\n';
      for (const s of v.snapshotVersions) {
        out += '      <snapshotVersion>\n';
        out += el('        ', 'classifier', s.classifier) + el('        ', 'extension', s.extension) + el('        ', 'value', s.value) + el('        ', 'updated', s.updated);
        out += '      </snapshotVersion>\n';
      }
      out += '    </snapshotVersions>\n';
    }
    out += '  </versioning>\n';
  }
  if (m.plugins.length > 0) {
    out += '  <plugins>\n';
    for (const p of m.plugins) out += `    <plugin>\n${el('      ', 'name', p.name)}${el('      ', 'prefix', p.prefix)}${el('      ', 'artifactId', p.artifactId)}    </plugin>\n`;
    out += '  </plugins>\n';
  }
  return `${out}</metadata>\n`;
}

/** `latest` and `release` of a version list (newest overall, newest non-SNAPSHOT). */
export function latestAndRelease(versions: string[]): { latest?: string; release?: string } {
  const sorted = sortVersions(versions);
  return { latest: sorted.at(-1), release: sorted.filter((x) => !isSnapshotVersion(x)).at(-1) };
}

const maxBy = <T>(items: T[], key: (t: T) => string): T | undefined => items.reduce<T | undefined>((best, t) => (best === undefined || key(t) > key(best) ? t : best), undefined);

/**
 * Merges the metadata of one path found in several repositories (a virtual repository):
 * the union of versions with `latest`/`release` recomputed, the newest `lastUpdated`, the
 * newest SNAPSHOT build (with the newest file per classifier and extension) and the union of
 * plugins. Identity fields come from the first copy that has them.
 */
export function mergeMetadata(copies: MavenMetadata[]): MavenMetadata {
  const first = <K extends 'groupId' | 'artifactId' | 'version'>(k: K) => copies.find((c) => c[k])?.[k];
  const withVersioning = copies.filter((c) => c.versioning);
  const plugins = new Map<string, MavenPlugin>();
  for (const c of copies) for (const p of c.plugins) if (!plugins.has(p.prefix)) plugins.set(p.prefix, p);
  const merged: MavenMetadata = { groupId: first('groupId'), artifactId: first('artifactId'), version: first('version'), plugins: [...plugins.values()] };
  if (withVersioning.length === 0) return merged;
  const versions = sortVersions(new Set(withVersioning.flatMap((c) => c.versioning!.versions)));
  const computed = latestAndRelease(versions);
  const newestOf = (k: 'latest' | 'release') =>
    withVersioning.map((c) => c.versioning![k]).filter((x): x is string => !!x).sort(compareVersions).at(-1);
  const snapshots = withVersioning.filter((c) => c.versioning!.snapshot);
  const newestSnap = maxBy(snapshots, (c) => `${c.versioning!.snapshot!.timestamp ?? ''}-${String(c.versioning!.snapshot!.buildNumber ?? 0).padStart(9, '0')}`);
  const files = new Map<string, SnapshotVersion>();
  for (const c of withVersioning) {
    for (const s of c.versioning!.snapshotVersions) {
      const k = `${s.classifier}\u0000${s.extension}`;
      const had = files.get(k);
      if (!had || s.updated > had.updated) files.set(k, s);
    }
  }
  merged.versioning = {
    latest: pickNewest(computed.latest, newestOf('latest')),
    release: pickNewest(computed.release, newestOf('release')),
    versions,
    lastUpdated: withVersioning.map((c) => c.versioning!.lastUpdated ?? '').sort().at(-1) || undefined,
    snapshot: newestSnap?.versioning!.snapshot,
    snapshotVersions: [...files.values()],
  };
  return merged;
}

function pickNewest(a: string | undefined, b: string | undefined): string | undefined {
  if (!a) return b;
  if (!b) return a;
  return compareVersions(a, b) >= 0 ? a : b;
}
