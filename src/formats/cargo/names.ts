/**
 * Crate names, versions and where they live: the sparse index's prefix layout, the stored
 * crate files and the per-version records the index files are made from.
 */

/** Longest crate name crates.io accepts; cargo itself refuses longer ones too. */
export const MAX_NAME_LENGTH = 64;

const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** Names Windows reserves for devices: a crate with one could not be unpacked there. */
const RESERVED = new Set(['nul', 'con', 'prn', 'aux', 'com1', 'com2', 'com3', 'com4', 'com5', 'com6', 'com7', 'com8', 'com9', 'lpt1', 'lpt2', 'lpt3', 'lpt4', 'lpt5', 'lpt6', 'lpt7', 'lpt8', 'lpt9']);

/** Why `name` cannot be a crate name, or undefined when it can. */
export function crateNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name === '') return 'the crate name is empty';
  if (name.length > MAX_NAME_LENGTH) return `the crate name is longer than ${MAX_NAME_LENGTH} characters`;
  if (!NAME.test(name)) return `'${name}' is not a crate name: it must start with an ASCII letter and hold only ASCII letters, digits, '-' and '_'`;
  if (RESERVED.has(name.toLowerCase())) return `'${name}' is a reserved name`;
  return undefined;
}

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  pre: (string | number)[];
}

const NUM = '0|[1-9]\\d*';
const PRE_ID = `(?:${NUM}|\\d*[A-Za-z-][0-9A-Za-z-]*)`;
const BUILD_ID = '[0-9A-Za-z-]+';
const VERSION = new RegExp(`^(${NUM})\\.(${NUM})\\.(${NUM})(?:-(${PRE_ID}(?:\\.${PRE_ID})*))?(?:\\+(${BUILD_ID}(?:\\.${BUILD_ID})*))?$`);

/** A SemVer 2.0.0 version as cargo writes them (build metadata allowed); undefined when it is not one. */
export function parseVersion(version: unknown): SemVer | undefined {
  if (typeof version !== 'string' || version.length > 128) return undefined;
  const m = VERSION.exec(version);
  if (!m) return undefined;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (![major, minor, patch].every(Number.isSafeInteger)) return undefined;
  const pre = m[4] ? m[4].split('.').map((id) => (/^\d+$/.test(id) ? Number(id) : id)) : [];
  return { major, minor, patch, pre };
}

/** SemVer precedence (build metadata ignored); unparsable versions sort last, by text. */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (!x || !y) return x ? -1 : y ? 1 : a < b ? -1 : a > b ? 1 : 0;
  const d = x.major - y.major || x.minor - y.minor || x.patch - y.patch;
  if (d !== 0) return d;
  if (x.pre.length === 0 || y.pre.length === 0) return y.pre.length - x.pre.length;
  for (let i = 0; i < Math.min(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i];
    const q = y.pre[i];
    if (p === q) continue;
    if (typeof p === 'number' && typeof q === 'number') return p - q;
    if (typeof p === 'number') return -1;
    if (typeof q === 'number') return 1;
    return p < q ? -1 : 1;
  }
  return x.pre.length - y.pre.length;
}

/**
 * The index file of a crate below the index root, as the sparse protocol lays them out:
 * `1/{n}`, `2/{n}`, `3/{first letter}/{n}`, else `{first two}/{next two}/{n}`, lower case.
 */
export function indexPath(name: string): string {
  const n = name.toLowerCase();
  if (n.length === 1) return `1/${n}`;
  if (n.length === 2) return `2/${n}`;
  if (n.length === 3) return `3/${n[0]}/${n}`;
  return `${n.slice(0, 2)}/${n.slice(2, 4)}/${n}`;
}

/** The crate (lower case) an index path names, or undefined when the path is not laid out as `indexPath` lays it. */
export function crateOfIndexPath(path: string): string | undefined {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (crateNameProblem(name) !== undefined || name !== name.toLowerCase()) return undefined;
  return indexPath(name) === path ? name : undefined;
}

/** Where a repository keeps the generated index files (a remote: the upstream's, as fetched). */
export const INDEX_FOLDER = '.index';
/** Where a local repository keeps one record per published version, the source of its index files. */
export const RECORD_FOLDER = '.cargo';
/** Where crate files are stored. */
export const CRATE_FOLDER = 'crates';

export const storedIndexPath = (name: string) => `${INDEX_FOLDER}/${indexPath(name)}`;
export const crateFolder = (name: string) => `${CRATE_FOLDER}/${name.toLowerCase()}`;
export const cratePath = (name: string, version: string) => `${crateFolder(name)}/${name.toLowerCase()}-${version}.crate`;
export const recordFolder = (name: string) => `${RECORD_FOLDER}/${name.toLowerCase()}`;
export const recordPath = (name: string, version: string) => `${recordFolder(name)}/${version}.json`;

/** What a stored path is to the format: a crate file, a version record, or something else. */
export type StoredPath =
  | { kind: 'crate'; name: string; version: string }
  | { kind: 'record'; name: string; version: string }
  | { kind: 'crate-folder'; name: string }
  | { kind: 'other' };

export function classifyStored(path: string): StoredPath {
  const parts = path.split('/');
  if (parts[0] === CRATE_FOLDER && parts.length === 2 && crateNameProblem(parts[1]) === undefined) return { kind: 'crate-folder', name: parts[1] };
  if ((parts[0] === CRATE_FOLDER || parts[0] === RECORD_FOLDER) && parts.length === 3) {
    const name = parts[1];
    if (crateNameProblem(name) !== undefined || name !== name.toLowerCase()) return { kind: 'other' };
    const file = parts[2];
    if (parts[0] === CRATE_FOLDER) {
      const prefix = `${name}-`;
      if (!file.startsWith(prefix) || !file.endsWith('.crate')) return { kind: 'other' };
      const version = file.slice(prefix.length, -'.crate'.length);
      return parseVersion(version) ? { kind: 'crate', name, version } : { kind: 'other' };
    }
    if (!file.endsWith('.json')) return { kind: 'other' };
    const version = file.slice(0, -'.json'.length);
    return parseVersion(version) ? { kind: 'record', name, version } : { kind: 'other' };
  }
  if (parts[0] === RECORD_FOLDER && parts.length === 2 && crateNameProblem(parts[1]) === undefined) return { kind: 'crate-folder', name: parts[1] };
  return { kind: 'other' };
}
