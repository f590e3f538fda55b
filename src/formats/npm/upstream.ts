/**
 * Packuments from elsewhere: an upstream registry's document (proxied by a remote
 * repository) turned into a stored-form document whose tarballs point back at Arca, and the
 * documents of a virtual repository's members merged into one.
 */
import { ArcaError } from '../../core/errors.js';
import { escapeName, parsePackageName, tarballPath, versionOfTarball } from './names.js';
import { isRelativeTarball, own, type PackageDocument, type VersionManifest } from './packument.js';
import { compareVersions, parseSemver } from './semver.js';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * An upstream packument in stored form: every version's `dist.tarball` becomes the
 * repository-relative Artifactory path (`pkg/-/pkg-1.0.0.tgz`), so it is served under the
 * Arca registry URL. Versions without a usable `dist` or with an invalid version are left out.
 */
export function fromUpstream(raw: unknown, name: string): PackageDocument {
  if (!isObject(raw) || !isObject(raw.versions)) throw new ArcaError('UPSTREAM_FAILED', `The upstream packument of ${name} is not a package document`);
  if (raw.name !== undefined && raw.name !== name) throw new ArcaError('UPSTREAM_FAILED', `The upstream answered with another package for '${name}'`);
  const versions: Record<string, VersionManifest> = {};
  for (const [v, m] of Object.entries(raw.versions)) {
    if (!isObject(m) || !isObject(m.dist) || typeof m.dist.tarball !== 'string' || !parseSemver(v)) continue;
    versions[v] = { ...(m as VersionManifest), dist: { ...(m.dist as VersionManifest['dist']), tarball: tarballPath(name, v) } };
  }
  const tags: Record<string, string> = {};
  if (isObject(raw['dist-tags'])) for (const [t, v] of Object.entries(raw['dist-tags'])) if (typeof v === 'string' && own(versions, v)) tags[t] = v;
  const time: Record<string, string> = {};
  if (isObject(raw.time)) for (const [k, v] of Object.entries(raw.time)) if (typeof v === 'string') time[k] = v;
  time.modified ??= new Date(0).toISOString();
  return { ...(raw as object), _id: name, name, _rev: typeof raw._rev === 'string' ? raw._rev : '1-upstream', 'dist-tags': tags, versions, time } as PackageDocument;
}

/**
 * The URL path (below the remote's URL, percent-encoded) of a version's tarball: taken from
 * the upstream packument when its tarball URL lies under the remote's URL, else the
 * registry's standard `{escaped name}/-/{base}-{version}.tgz`.
 */
export function upstreamTarballPath(raw: unknown, name: string, version: string, remoteUrl: string): string {
  const fallback = `${escapeName(name)}/-/${parsePackageName(name).base}-${version}.tgz`;
  if (!isObject(raw) || !isObject(raw.versions)) return fallback;
  const m = raw.versions[version];
  const tarball = isObject(m) && isObject(m.dist) ? m.dist.tarball : undefined;
  if (typeof tarball !== 'string' || isRelativeTarball(tarball)) return fallback;
  let url: URL;
  let base: URL;
  try {
    url = new URL(tarball);
    base = new URL(remoteUrl.endsWith('/') ? remoteUrl : `${remoteUrl}/`);
  } catch {
    return fallback;
  }
  // Registries write http:// tarball URLs even behind https (npm does the same); match on host and path.
  if (url.host !== base.host || !url.pathname.startsWith(base.pathname)) return fallback;
  return url.pathname.slice(base.pathname.length) + url.search;
}

/** The version a tarball file of a package names, checked against the document. */
export function versionForTarball(doc: PackageDocument | undefined, name: string, file: string): string | undefined {
  const v = versionOfTarball(parsePackageName(name), file);
  if (v === undefined) return undefined;
  return doc && !doc.versions[v] ? undefined : v;
}

/**
 * Merges the documents of a virtual repository's members, in resolution order: a version
 * comes from the first member that has it; each dist-tag from the first member that sets
 * it, except `latest`, which is the highest of the members' `latest` versions.
 */
export function mergeDocuments(name: string, docs: PackageDocument[]): PackageDocument {
  if (docs.length === 1) return docs[0];
  const versions: Record<string, VersionManifest> = {};
  const time: Record<string, string> = {};
  const tags: Record<string, string> = {};
  const latest: string[] = [];
  for (const d of docs) {
    for (const [v, m] of Object.entries(d.versions)) {
      if (versions[v]) continue;
      versions[v] = m;
      if (d.time[v]) time[v] = d.time[v];
    }
    for (const [t, v] of Object.entries(d['dist-tags'])) {
      if (t === 'latest') latest.push(v);
      else tags[t] ??= v;
    }
    if (d.time.created && (!time.created || d.time.created < time.created)) time.created = d.time.created;
    if (d.time.modified && (!time.modified || d.time.modified > time.modified)) time.modified = d.time.modified;
  }
  const top = latest.sort(compareVersions).pop();
  if (top) tags.latest = top;
  const revs = docs.map((d) => d._rev).join('|');
  return { ...docs[0], _id: name, name, _rev: `1-merged-${revs.length}`, 'dist-tags': tags, versions, time };
}
