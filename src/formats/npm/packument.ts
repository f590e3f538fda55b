/**
 * The package document ("packument") Arca keeps per npm package, and the two forms clients
 * read: full (`application/json`) and abbreviated (`application/vnd.npm.install-v1+json`).
 *
 * The stored document is a full packument whose `dist.tarball` values are repository-relative
 * paths (`pkg/-/pkg-1.0.0.tgz`); they become absolute URLs only when served, under the URL
 * base of the request, so a change of host name or custom URL base needs no rewrite.
 */
import { createHash } from 'node:crypto';
import { highestVersion } from './semver.js';

export const ABBREVIATED_TYPE = 'application/vnd.npm.install-v1+json';

export interface Dist {
  tarball: string;
  shasum: string;
  integrity?: string;
  [field: string]: unknown;
}

export interface VersionManifest {
  name: string;
  version: string;
  dist: Dist;
  deprecated?: string;
  [field: string]: unknown;
}

export interface Person {
  name: string;
  email?: string;
}

/**
 * A person as the npm registry records maintainers and `_npmUser`: a name and an e-mail,
 * always (its validate_doc_update refuses a maintainer without one). `npm view` prints
 * `name <email>` whenever the e-mail is not empty, and formats a missing one as
 * `<undefined>`; `npm owner ls` prints `name <email>` unconditionally. A user whose e-mail
 * Arca does not know gets the empty string, which both print without a made-up address.
 */
export function personOf(p: { name: string; email?: string | null }): Person & { email: string } {
  return { name: p.name, email: typeof p.email === 'string' ? p.email : '' };
}

const isPerson = (v: unknown): v is Person => v !== null && typeof v === 'object' && typeof (v as Person).name === 'string';

/** `_npmUser` and `maintainers` of a version as the registry serves them (documents stored before e-mails were kept have none). */
function withPersons(v: VersionManifest): VersionManifest {
  const out: VersionManifest = { ...v };
  if (isPerson(v._npmUser)) out._npmUser = personOf(v._npmUser);
  if (Array.isArray(v.maintainers)) out.maintainers = v.maintainers.map((m: unknown) => (isPerson(m) ? personOf(m) : m));
  return out;
}

export interface PackageDocument {
  _id: string;
  name: string;
  /** `{n}-{hash}`: n counts the changes; clients send it back in `/-rev/{rev}` URLs. */
  _rev: string;
  'dist-tags': Record<string, string>;
  versions: Record<string, VersionManifest>;
  /** `created`, `modified` and one ISO timestamp per version. */
  time: Record<string, string>;
  maintainers?: Person[];
  [field: string]: unknown;
}

/** Fields a version object keeps in the abbreviated form (npm registry docs, plus what npm reads). */
const ABBREVIATED_VERSION_FIELDS = [
  'name',
  'version',
  'deprecated',
  'dependencies',
  'optionalDependencies',
  'devDependencies',
  'bundleDependencies',
  'peerDependencies',
  'peerDependenciesMeta',
  'acceptDependencies',
  'bin',
  'directories',
  'dist',
  'engines',
  'cpu',
  'os',
  'libc',
  'funding',
  '_hasShrinkwrap',
  'hasInstallScript',
] as const;

/** Fields copied to the top level from the latest version (npm registry docs). */
const HOISTED_FIELDS = ['author', 'bugs', 'contributors', 'description', 'homepage', 'keywords', 'license', 'repository', 'readme', 'readmeFilename'] as const;

/**
 * `record[key]` when `key` is the record's own entry. Versions and dist-tags are looked up by
 * names from requests: `constructor` or `__proto__` must not reach Object's prototype.
 */
export function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** True for a tarball value that is a repository-relative path rather than a URL. */
export function isRelativeTarball(tarball: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(tarball);
}

function withTarballUrl(v: VersionManifest, registryUrl: string): VersionManifest {
  if (!v.dist || typeof v.dist.tarball !== 'string' || !isRelativeTarball(v.dist.tarball)) return v;
  return { ...v, dist: { ...v.dist, tarball: registryUrl + v.dist.tarball } };
}

/** The next revision of a document: the counter plus a hash of the new content. */
export function nextRevision(doc: Omit<PackageDocument, '_rev'> & { _rev?: string }): string {
  const n = doc._rev ? Number.parseInt(doc._rev, 10) || 0 : 0;
  const { _rev: _ignored, ...content } = doc;
  void _ignored;
  return `${n + 1}-${createHash('sha1').update(JSON.stringify(content)).digest('hex').slice(0, 32)}`;
}

/** The version `latest` points at, or the highest one when the tag is missing. */
export function latestVersion(doc: PackageDocument): string | undefined {
  const tagged = doc['dist-tags'].latest;
  if (tagged && own(doc.versions, tagged)) return tagged;
  return highestVersion(Object.keys(doc.versions));
}

/**
 * The full packument as served: tarball URLs made absolute under `registryUrl` (ending in
 * `/`), hoisted fields taken from the latest version, every maintainer and `_npmUser` with
 * an e-mail (`personOf`).
 */
export function renderFull(doc: PackageDocument, registryUrl: string): Record<string, unknown> {
  const versions: Record<string, VersionManifest> = {};
  for (const [v, m] of Object.entries(doc.versions)) versions[v] = withPersons(withTarballUrl(m, registryUrl));
  const out: Record<string, unknown> = { ...doc, versions };
  if (Array.isArray(doc.maintainers)) out.maintainers = doc.maintainers.map((m) => (isPerson(m) ? personOf(m) : m));
  const latest = latestVersion(doc);
  if (latest) {
    for (const f of HOISTED_FIELDS) if (doc.versions[latest][f] !== undefined && out[f] === undefined) out[f] = doc.versions[latest][f];
  }
  return out;
}

/** The abbreviated ("corgi") packument npm asks for when installing. */
export function renderAbbreviated(doc: PackageDocument, registryUrl: string): Record<string, unknown> {
  const versions: Record<string, Record<string, unknown>> = {};
  for (const [v, m] of Object.entries(doc.versions)) {
    const full = withTarballUrl(m, registryUrl);
    const small: Record<string, unknown> = {};
    for (const f of ABBREVIATED_VERSION_FIELDS) if (full[f] !== undefined) small[f] = full[f];
    versions[v] = small;
  }
  return { name: doc.name, modified: doc.time.modified, 'dist-tags': doc['dist-tags'], versions };
}

/** Whether an Accept header asks for the abbreviated form (npm sends it with q=1.0 first). */
export function wantsAbbreviated(accept: string | undefined): boolean {
  if (!accept) return false;
  let best = { abbreviated: -1, json: -1 };
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().split(';').map((s) => s.trim());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q)) continue;
    if (type.toLowerCase() === ABBREVIATED_TYPE) best = { ...best, abbreviated: Math.max(best.abbreviated, q) };
    else if (type.toLowerCase() === 'application/json') best = { ...best, json: Math.max(best.json, q) };
  }
  return best.abbreviated > 0 && best.abbreviated >= best.json;
}
