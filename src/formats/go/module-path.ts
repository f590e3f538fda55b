/**
 * Go module paths and versions as the module proxy protocol spells them
 * (golang.org/x/mod/module): the rules a module path must follow, the case escaping of
 * paths and versions in URLs and file names (`github.com/Azure` ↔ `github.com/!azure`),
 * semantic versions with the `v` prefix, pseudo-versions and `+incompatible`.
 */

/** Why a path or version is refused, or the value. */
export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

const fail = <T>(reason: string): Checked<T> => ({ ok: false, reason });

/** Characters of a module path element (letters, digits, `-._~`). */
const PATH_CHAR = /^[A-Za-z0-9._~-]$/;

/** Windows reserved names, refused as path elements as the go command does. */
const RESERVED = new Set(['CON', 'PRN', 'AUX', 'NUL', 'COM1', 'COM2', 'COM3', 'COM4', 'COM5', 'COM6', 'COM7', 'COM8', 'COM9', 'LPT1', 'LPT2', 'LPT3', 'LPT4', 'LPT5', 'LPT6', 'LPT7', 'LPT8', 'LPT9']);

/** Longest module path we take (the go command has no limit; a path this long is abuse). */
export const MAX_MODULE_PATH = 512;

/** Checks a module path (module.CheckPath): elements, a dot in the first one, no leading dash. */
export function checkModulePath(path: string): Checked<string> {
  if (path === '') return fail('the module path is empty');
  if (path.length > MAX_MODULE_PATH) return fail(`the module path is longer than ${MAX_MODULE_PATH} characters`);
  const elems = path.split('/');
  for (const elem of elems) {
    if (elem === '') return fail(`malformed module path '${path}': empty path element`);
    if (elem === '.' || elem === '..') return fail(`malformed module path '${path}': '${elem}' is not allowed`);
    for (const c of elem) if (!PATH_CHAR.test(c)) return fail(`malformed module path '${path}': invalid character '${c}'`);
    if (elem.startsWith('.') || elem.endsWith('.')) return fail(`malformed module path '${path}': leading or trailing dot in path element`);
    const base = elem.split('.')[0].toUpperCase();
    if (RESERVED.has(base)) return fail(`malformed module path '${path}': '${elem}' is a reserved file name`);
    if (/~[0-9]+$/.test(base)) return fail(`malformed module path '${path}': trailing tilde and digits in path element`);
  }
  const first = elems[0];
  if (!first.includes('.')) return fail(`malformed module path '${path}': missing dot in first path element`);
  if (first.startsWith('-')) return fail(`malformed module path '${path}': leading dash in first path element`);
  if (/[A-Z_~]/.test(first)) return fail(`malformed module path '${path}': invalid character in the host name`);
  const major = splitPathMajor(path);
  if (!major) return fail(`malformed module path '${path}': invalid major version suffix`);
  return { ok: true, value: path };
}

/** Escapes upper case as `!` and the lower-case letter (module.EscapePath / EscapeVersion). */
function escapeCase(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
}

/** Undoes `escapeCase`; undefined when the text is not a valid escaping (an upper case letter, a stray `!`). */
function unescapeCase(s: string): string | undefined {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c >= 'A' && c <= 'Z') return undefined;
    if (c !== '!') {
      out += c;
      continue;
    }
    const next = s[i + 1];
    if (next === undefined || next < 'a' || next > 'z') return undefined;
    out += next.toUpperCase();
    i++;
  }
  return out;
}

export function escapeModulePath(path: string): string {
  return escapeCase(path);
}

/** The module path of an escaped one, checked; a path with upper case or a bad `!` is refused. */
export function unescapeModulePath(escaped: string): Checked<string> {
  const path = unescapeCase(escaped);
  if (path === undefined) return fail(`invalid escaped module path '${escaped}'`);
  return checkModulePath(path);
}

export function escapeVersion(version: string): string {
  return escapeCase(version);
}

/** The version of an escaped one, checked as a canonical semantic version. */
export function unescapeVersion(escaped: string): Checked<string> {
  const version = unescapeCase(escaped);
  if (version === undefined) return fail(`invalid escaped version '${escaped}'`);
  return checkCanonicalVersion(version);
}

/** Text a client sent: `!`-escaped when it holds a `!`, else taken as it is (the JFrog CLI sends raw paths). */
export function modulePathFromUrl(text: string): Checked<string> {
  return text.includes('!') || !/[A-Z]/.test(text) ? unescapeModulePath(text) : checkModulePath(text);
}

export function versionFromUrl(text: string): Checked<string> {
  return text.includes('!') || !/[A-Z]/.test(text) ? unescapeVersion(text) : checkCanonicalVersion(text);
}

/** A parsed semantic version (`v1.2.3-pre+build`); `minor`/`patch` always present in canonical form. */
export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  prerelease: string[];
  build: string;
}

const SEMVER = /^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

export function parseSemVer(v: string): SemVer | undefined {
  const m = SEMVER.exec(v);
  if (!m) return undefined;
  const prerelease = m[4] ? m[4].split('.') : [];
  // Numeric identifiers have no leading zeros.
  if (prerelease.some((p) => /^[0-9]+$/.test(p) && p.length > 1 && p.startsWith('0'))) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), prerelease, build: m[5] ?? '' };
}

/**
 * A version the go command accepts as a module version: canonical semver (`vX.Y.Z`, no build
 * metadata) or with `+incompatible`, the only build suffix Go allows.
 */
export function checkCanonicalVersion(v: string): Checked<string> {
  const s = parseSemVer(v);
  if (!s) return fail(`'${v}' is not a canonical semantic version (vMAJOR.MINOR.PATCH)`);
  if (s.build !== '' && s.build !== 'incompatible') return fail(`'${v}' has build metadata other than +incompatible`);
  if (s.build === 'incompatible' && s.major < 2) return fail(`'${v}': +incompatible is only for major versions 2 and above`);
  return { ok: true, value: v };
}

const PSEUDO = /^v[0-9]+\.(0\.0-|\d+\.\d+-([^+]*\.)?0\.)\d{14}-[A-Za-z0-9]+(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

/** A pseudo-version (`v0.0.0-20191109021931-daa7c04131f5` and its two other forms). */
export function isPseudoVersion(v: string): boolean {
  return (v.match(/-/g)?.length ?? 0) >= 2 && parseSemVer(v) !== undefined && PSEUDO.test(v);
}

function compareIdentifiers(a: string, b: string): number {
  const an = /^[0-9]+$/.test(a);
  const bn = /^[0-9]+$/.test(b);
  if (an && bn) return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
  if (an) return -1;
  if (bn) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Semantic version order (build metadata ignored); invalid versions sort first. */
export function compareVersions(a: string, b: string): number {
  const x = parseSemVer(a);
  const y = parseSemVer(b);
  if (!x || !y) return x ? 1 : y ? -1 : 0;
  for (const k of ['major', 'minor', 'patch'] as const) if (x[k] !== y[k]) return x[k] - y[k];
  if (x.prerelease.length === 0 || y.prerelease.length === 0) return y.prerelease.length - x.prerelease.length;
  for (let i = 0; i < Math.min(x.prerelease.length, y.prerelease.length); i++) {
    const c = compareIdentifiers(x.prerelease[i], y.prerelease[i]);
    if (c !== 0) return c;
  }
  return x.prerelease.length - y.prerelease.length;
}

/**
 * The version `@latest` names among `versions`: the highest release, else the highest
 * pre-release, else the highest pseudo-version (what the go command itself would pick).
 */
export function latestOf(versions: readonly string[]): string | undefined {
  const rank = (v: string) => (isPseudoVersion(v) ? 0 : (parseSemVer(v)?.prerelease.length ?? 0) > 0 ? 1 : 2);
  let best: string | undefined;
  for (const v of versions) {
    if (!parseSemVer(v)) continue;
    if (best === undefined || rank(v) > rank(best) || (rank(v) === rank(best) && compareVersions(v, best) > 0)) best = v;
  }
  return best;
}

/**
 * The major version suffix of a module path (module.SplitPathVersion): `/vN` (N ≥ 2) or, for
 * gopkg.in, `.vN`; '' when there is none. Undefined when the suffix is malformed (`/v1`, `/v02`).
 */
export function splitPathMajor(path: string): { prefix: string; major: string } | undefined {
  if (path.startsWith('gopkg.in/')) {
    const m = /^(.*)\.(v(?:0|[1-9][0-9]*)(?:-unstable)?)$/.exec(path);
    return m ? { prefix: m[1], major: `.${m[2]}` } : undefined;
  }
  const m = /^(.*)\/(v[0-9]+)$/.exec(path);
  if (!m) return { prefix: path, major: '' };
  if (!/^v[1-9][0-9]*$/.test(m[2]) || m[2] === 'v1') return undefined;
  return { prefix: m[1], major: `/${m[2]}` };
}

/** Whether `version` may be a version of the module at `path` (module.CheckPathMajor). */
export function checkPathMajor(path: string, version: string): Checked<string> {
  const split = splitPathMajor(path);
  const s = parseSemVer(version);
  if (!split || !s) return fail(`'${version}' is not a valid version of '${path}'`);
  const { major } = split;
  if (path.startsWith('gopkg.in/')) {
    const want = major.slice(1).replace(/-unstable$/, '');
    const got = `v${s.major}`;
    if (got === want || (want === 'v0' && got === 'v1') || (want === 'v1' && got === 'v0')) return { ok: true, value: version };
    return fail(`version '${version}' does not match the module path's major version ${want}`);
  }
  if (s.build === 'incompatible') {
    if (major !== '') return fail(`version '${version}' is +incompatible but the module path '${path}' has a major version suffix`);
    return { ok: true, value: version };
  }
  if (major === '') {
    if (s.major >= 2) return fail(`version '${version}' needs the module path to end in /v${s.major} (or the version to be +incompatible)`);
    return { ok: true, value: version };
  }
  if (`/v${s.major}` !== major) return fail(`version '${version}' does not match the module path's major version ${major.slice(1)}`);
  return { ok: true, value: version };
}
