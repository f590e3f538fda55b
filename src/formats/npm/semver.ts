/**
 * The parts of Semantic Versioning 2.0.0 a registry needs: is this a version, which of two
 * versions is higher, and may this string be a dist-tag. Range matching stays in the client.
 */

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  prerelease: (string | number)[];
  build: string[];
}

const NUM = '0|[1-9]\\d*';
const PRE_ID = `(?:${NUM}|\\d*[A-Za-z-][0-9A-Za-z-]*)`;
const VERSION = new RegExp(
  `^(${NUM})\\.(${NUM})\\.(${NUM})(?:-(${PRE_ID}(?:\\.${PRE_ID})*))?(?:\\+([0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*))?$`,
);
const MAX_LENGTH = 256;

/** Parses a strict SemVer 2.0.0 version (no leading 'v' or '='); undefined when it is not one. */
export function parseSemver(version: string): SemVer | undefined {
  if (typeof version !== 'string' || version.length > MAX_LENGTH) return undefined;
  const m = VERSION.exec(version);
  if (!m) return undefined;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const patch = Number(m[3]);
  if (![major, minor, patch].every(Number.isSafeInteger)) return undefined;
  const prerelease = m[4] ? m[4].split('.').map((id) => (/^\d+$/.test(id) ? Number(id) : id)) : [];
  return { major, minor, patch, prerelease, build: m[5] ? m[5].split('.') : [] };
}

export function isValidVersion(version: string): boolean {
  return parseSemver(version) !== undefined;
}

function compareIds(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Precedence order of two valid versions (build metadata ignored); invalid ones sort first. */
export function compareVersions(a: string, b: string): number {
  const x = parseSemver(a);
  const y = parseSemver(b);
  if (!x || !y) return x ? 1 : y ? -1 : a < b ? -1 : a > b ? 1 : 0;
  const core = x.major - y.major || x.minor - y.minor || x.patch - y.patch;
  if (core !== 0) return Math.sign(core);
  // A release is higher than any of its prereleases.
  if (x.prerelease.length === 0) return y.prerelease.length === 0 ? 0 : 1;
  if (y.prerelease.length === 0) return -1;
  for (let i = 0; i < Math.max(x.prerelease.length, y.prerelease.length); i++) {
    if (i >= x.prerelease.length) return -1;
    if (i >= y.prerelease.length) return 1;
    const c = compareIds(x.prerelease[i], y.prerelease[i]);
    if (c !== 0) return Math.sign(c);
  }
  return 0;
}

/** The highest version of a list, preferring releases over prereleases; undefined when empty. */
export function highestVersion(versions: string[]): string | undefined {
  const releases = versions.filter((v) => parseSemver(v)?.prerelease.length === 0);
  const pool = releases.length > 0 ? releases : versions;
  return [...pool].sort(compareVersions).pop();
}

/**
 * Why a string cannot be a dist-tag, or undefined when it can. npm refuses tags that are
 * valid semver ranges (`1.x`, `^2`, `*`, `v1`), since `pkg@tag` would be ambiguous.
 */
export function distTagProblem(tag: string): string | undefined {
  if (typeof tag !== 'string' || tag === '') return 'a dist-tag cannot be empty';
  if (tag.length > 128) return 'a dist-tag is at most 128 characters';
  // Stored as a key of the document's dist-tags object, where this name is the prototype.
  if (tag === '__proto__') return "'__proto__' cannot be a dist-tag";
  // What encodeURIComponent leaves as it is (which throws on a lone surrogate, so it is not asked).
  if (!/^[A-Za-z0-9\-_.~!*'()]+$/.test(tag)) return `dist-tag '${tag}' must be URL-safe (letters, digits and -._~!*'())`;
  if (/^[v=]?(\d+|[xX*])([.+-]|$)/.test(tag) || /[<>^~|]/.test(tag)) return `dist-tag '${tag}' looks like a version or a semver range`;
  return undefined;
}
