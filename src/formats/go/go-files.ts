import { checkPathMajor, escapeModulePath, escapeVersion, unescapeModulePath, unescapeVersion, type Checked } from './module-path.js';

/**
 * Where a Go repository keeps its files: the module proxy layout itself, escaped
 * (`github.com/!azure/sdk/@v/v1.2.3.zip`), so a repository's tree is also a valid static
 * GOPROXY and upper and lower case never collide on a case-insensitive database collation.
 * A remote repository caches the upstream's answers at the same paths, with `@v/list` and
 * `@latest` beside them (metadata, re-checked after the retrieval cache period).
 */

/** The three files of a module version. */
export type GoFileExt = 'zip' | 'mod' | 'info';
export const GO_FILE_EXTS: readonly GoFileExt[] = ['zip', 'mod', 'info'];

export interface GoFile {
  module: string;
  version: string;
  ext: GoFileExt;
}

/** The folder of a module's versions: `{escaped module}/@v`. */
export function versionsFolder(module: string): string {
  return `${escapeModulePath(module)}/@v`;
}

export function filePath(module: string, version: string, ext: GoFileExt): string {
  return `${versionsFolder(module)}/${escapeVersion(version)}.${ext}`;
}

export function listPath(module: string): string {
  return `${versionsFolder(module)}/list`;
}

export function latestPath(module: string): string {
  return `${escapeModulePath(module)}/@latest`;
}

/** The version and kind of a file name in `@v/` (`v1.2.3.zip`); undefined for other names. */
export function parseVersionFileName(name: string): { version: string; ext: GoFileExt } | undefined {
  const dot = name.lastIndexOf('.');
  const ext = name.slice(dot + 1) as GoFileExt;
  if (dot <= 0 || !GO_FILE_EXTS.includes(ext)) return undefined;
  const v = unescapeVersion(name.slice(0, dot));
  return v.ok ? { version: v.value, ext } : undefined;
}

/** A stored file path of a module version, checked (escaping, version, major version suffix). */
export function parseFilePath(path: string): Checked<GoFile> {
  const at = path.lastIndexOf('/@v/');
  if (at <= 0) return { ok: false, reason: `'${path}' is not a Go module file ({module}/@v/{version}.zip, .mod or .info)` };
  const mod = unescapeModulePath(path.slice(0, at));
  if (!mod.ok) return mod;
  const name = path.slice(at + 4);
  const dot = name.lastIndexOf('.');
  const ext = name.slice(dot + 1) as GoFileExt;
  if (dot <= 0 || !GO_FILE_EXTS.includes(ext)) return { ok: false, reason: `'${name}' is not a Go module file name ({version}.zip, .mod or .info)` };
  const version = unescapeVersion(name.slice(0, dot));
  if (!version.ok) return version;
  const major = checkPathMajor(mod.value, version.value);
  if (!major.ok) return major;
  return { ok: true, value: { module: mod.value, version: version.value, ext } };
}

/** Longest go.mod we read (the go command's own limit, modfetch.MaxGoMod). */
export const MAX_GO_MOD = 16 << 20;
/** Longest .info file we take. */
export const MAX_INFO = 64 << 10;

/**
 * The module path a go.mod declares (its `module` directive, quoted or not, comments
 * ignored); undefined when it has none.
 */
export function goModModulePath(goMod: Buffer | string): string | undefined {
  const text = typeof goMod === 'string' ? goMod : goMod.toString('utf8');
  let inBlock = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (line === '') continue;
    if (inBlock) {
      if (line === ')') {
        inBlock = false;
        continue;
      }
      return unquote(line);
    }
    const m = /^module(?:\s+|(?=\())(.*)$/.exec(line);
    if (!m) continue;
    const rest = m[1].trim();
    if (rest === '(') {
      inBlock = true;
      continue;
    }
    return unquote(rest);
  }
  return undefined;
}

function unquote(s: string): string | undefined {
  if (s.startsWith('"') || s.startsWith('`')) {
    const q = s[0];
    const end = s.indexOf(q, 1);
    return end > 0 ? s.slice(1, end) : undefined;
  }
  return s.split(/\s+/)[0] || undefined;
}

/** The go.mod the go command makes up for a module without one (as a `+incompatible` version). */
export function synthesizedGoMod(module: string): Buffer {
  return Buffer.from(`module ${module}\n`);
}

/** A `.info` file: the version and its commit time (RFC 3339). */
export interface VersionInfo {
  Version: string;
  Time: string;
}

/** Checks a deployed `.info` against the version its path names. */
export function checkInfo(data: Buffer, version: string): Checked<VersionInfo> {
  let doc: unknown;
  try {
    doc = JSON.parse(data.toString('utf8'));
  } catch {
    return { ok: false, reason: 'the .info file is not JSON' };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { ok: false, reason: 'the .info file is not a JSON object' };
  const { Version, Time } = doc as Record<string, unknown>;
  if (Version !== version) return { ok: false, reason: `the .info file names version '${String(Version)}', the path '${version}'` };
  if (Time !== undefined && (typeof Time !== 'string' || Number.isNaN(Date.parse(Time)))) return { ok: false, reason: 'the .info file has a Time that is not an RFC 3339 time' };
  return { ok: true, value: { Version, Time: typeof Time === 'string' ? Time : '' } };
}

/** The `.info` of a version deployed without one: its time is when its files were stored. */
export function generatedInfo(version: string, time: number): Buffer {
  const info: VersionInfo = { Version: version, Time: new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  return Buffer.from(JSON.stringify(info));
}
