/**
 * npm package names: validation (scoped and unscoped), the URL forms clients send, and the
 * storage layout of tarballs and metadata inside a repository.
 *
 * Layout (as Artifactory lays out npm repositories):
 *   `{name}/-/{name}-{version}.tgz`   the tarball (`@scope/pkg/-/@scope/pkg-1.0.0.tgz` when scoped)
 *   `.npm/{name}/package.json`        the package document (see packument.ts)
 */
import { ArcaError } from '../../core/errors.js';
import { MAX_SEGMENT_BYTES } from '../../core/paths.js';
import { parseSemver } from './semver.js';

export const MAX_NAME_LENGTH = 214;
/** Folder holding one package document per package. */
export const METADATA_FOLDER = '.npm';

export interface PackageName {
  /** `@scope/pkg` or `pkg`. */
  name: string;
  /** `scope` without the `@`, when scoped. */
  scope?: string;
  /** The part after the scope (the whole name when unscoped). */
  base: string;
}

function bad(message: string): ArcaError {
  return new ArcaError('BAD_REQUEST', message);
}

const BLACKLIST = new Set(['node_modules', 'favicon.ico']);
// Characters npm accepts in a name part: what encodeURIComponent leaves alone, minus the
// "special characters" npm refuses for new packages (~'!()*).
const PART = /^[A-Za-z0-9._-]+$/;

function checkPart(part: string, what: string, full: string): void {
  if (part === '') throw bad(`Invalid package name '${full}': the ${what} is empty`);
  if (!PART.test(part)) throw bad(`Invalid package name '${full}': the ${what} may hold only letters, digits, '.', '_' and '-'`);
  if (part.startsWith('.') || part.startsWith('_')) throw bad(`Invalid package name '${full}': the ${what} cannot start with '.' or '_'`);
}

/** Validates a package name; throws BAD_REQUEST with the reason. */
export function parsePackageName(name: string): PackageName {
  if (typeof name !== 'string' || name === '') throw bad('Invalid package name: the name is empty');
  if (name.length > MAX_NAME_LENGTH) throw bad(`Invalid package name '${name.slice(0, 40)}…': longer than ${MAX_NAME_LENGTH} characters`);
  if (name.trim() !== name) throw bad(`Invalid package name '${name}': leading or trailing spaces`);
  if (name.startsWith('@')) {
    const slash = name.indexOf('/');
    if (slash < 0) throw bad(`Invalid package name '${name}': a scoped name is '@scope/name'`);
    const scope = name.slice(1, slash);
    const base = name.slice(slash + 1);
    checkPart(scope, 'scope', name);
    checkPart(base, 'name after the scope', name);
    return { name, scope, base };
  }
  checkPart(name, 'name', name);
  if (BLACKLIST.has(name.toLowerCase())) throw bad(`Invalid package name '${name}': the name is reserved`);
  return { name, base: name };
}

/** `@scope%2fpkg` for scoped names (the form npm puts in URLs), else the name. */
export function escapeName(name: string): string {
  return name.startsWith('@') ? `@${encodeURIComponent(name.slice(1))}` : encodeURIComponent(name);
}

export function tarballFileName(name: string, version: string): string {
  return `${name}-${version}.tgz`;
}

/** Repository-relative path of a version's tarball. */
export function tarballPath(name: string, version: string): string {
  return `${name}/-/${tarballFileName(name, version)}`;
}

/** Repository-relative path of a package's document. */
export function documentPath(name: string): string {
  return `${METADATA_FOLDER}/${name}/package.json`;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw bad(`Invalid percent-encoding in '${segment}'`);
  }
}

export interface PackageRequestPath {
  name: string;
  /** The decoded segments after the package name (`['-', 'pkg-1.0.0.tgz']`, `['-rev', '3-ab']`, `['1.0.0']`). */
  rest: string[];
}

/**
 * Splits a registry path (after `/api/npm/{repo}/`, still percent-encoded, no query) into the
 * package name and what follows. Accepts `pkg/…`, `@scope%2fpkg/…` and `@scope/pkg/…`.
 */
export function splitPackagePath(rawPath: string): PackageRequestPath {
  const segments = rawPath.split('/').filter((s) => s !== '');
  if (segments.length === 0) throw bad('Missing package name');
  const first = decode(segments[0]);
  let name: string;
  let restRaw: string[];
  if (first.startsWith('@') && !first.includes('/')) {
    if (segments.length < 2) throw bad(`Invalid package name '${first}': a scoped name is '@scope/name'`);
    name = `${first}/${decode(segments[1])}`;
    restRaw = segments.slice(2);
  } else {
    name = first;
    restRaw = segments.slice(1);
  }
  parsePackageName(name);
  return { name, rest: restRaw.map(decode) };
}

/**
 * The version a tarball file name stands for, or undefined when the name is not
 * `{name}-{version}.tgz` with a semantic version. Both `@scope/pkg-1.0.0.tgz` (the form npm
 * publishes) and `pkg-1.0.0.tgz` (the form the public registry serves for scoped packages)
 * are accepted. Only a valid version whose file name fits a path segment (never a `/`, `..`
 * or a backslash) reaches a storage path.
 */
export function versionOfTarball(pkg: PackageName, file: string): string | undefined {
  if (!file.endsWith('.tgz')) return undefined;
  const stem = file.slice(0, -4);
  for (const prefix of [`${pkg.name}-`, `${pkg.base}-`]) {
    const version = stem.slice(prefix.length);
    if (stem.startsWith(prefix) && parseSemver(version) && tarballFileName(pkg.base, version).length <= MAX_SEGMENT_BYTES) return version;
  }
  return undefined;
}
