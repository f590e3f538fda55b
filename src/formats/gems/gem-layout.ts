/**
 * Where a gem repository keeps things, which are also the URL paths below
 * `/artifactory/api/gems/{repoKey}/` (a remote repository caches the upstream's files at the
 * same paths): `gems/{full}.gem`, `quick/Marshal.4.8/{full}.gemspec.rz`, `versions` and
 * `info/{name}`. `names` and the `*specs.4.8.gz` files of local and virtual repositories are
 * made from `versions` when asked for; a remote caches its upstream's.
 */

export const VERSIONS_PATH = 'versions';
export const NAMES_PATH = 'names';
export const QUICK_FOLDER = 'quick/Marshal.4.8';
export const SPECS_FILES = { 'specs.4.8.gz': 'specs', 'latest_specs.4.8.gz': 'latest_specs', 'prerelease_specs.4.8.gz': 'prerelease_specs' } as const;

export const gemPath = (full: string) => `gems/${full}.gem`;
export const quickPath = (full: string) => `${QUICK_FOLDER}/${full}.gemspec.rz`;
export const infoPath = (name: string) => `info/${name}`;

/** The full name (`name-version[-platform]`) of `gems/{full}.gem`, or undefined for another path. */
export function fullNameOfGemPath(path: string): string | undefined {
  const m = /^gems\/([^/]+)\.gem$/.exec(path);
  return m ? m[1] : undefined;
}

/**
 * The ways to read a full name as `name-version[-platform]`: a version starts with a digit
 * after a `-` and runs to the next `-`. A name may hold `-` and digits, so there may be more
 * than one; the index says which one exists.
 */
export function fullNameCandidates(full: string): { name: string; key: string }[] {
  const out: { name: string; key: string }[] = [];
  for (let i = full.indexOf('-'); i > 0; i = full.indexOf('-', i + 1)) {
    const rest = full.slice(i + 1);
    if (!/^[0-9]/.test(rest)) continue;
    out.push({ name: full.slice(0, i), key: rest });
  }
  return out;
}

/** True for files the format writes itself (never deployed by a client). */
export function isIndexPath(path: string): boolean {
  return path === VERSIONS_PATH || path === NAMES_PATH || path.startsWith('info/') || path.startsWith('quick/') || path in SPECS_FILES;
}
