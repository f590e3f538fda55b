import { ArcaError } from './errors.js';
import { checkPropertyKey, checkPropertyValue, valuesOf } from './properties.js';

/** Longest repository-relative path we accept, in characters. */
export const MAX_PATH_LENGTH = 1024;
/** Longest single path segment, in UTF-8 bytes (what most file systems allow). */
export const MAX_SEGMENT_BYTES = 255;
export const REPO_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export type MatrixParams = Record<string, string[]>;

export interface RepoPath {
  repoKey: string;
  /** Repository-relative path without leading or trailing slash; '' is the root. */
  path: string;
  /** True when the request path ended with '/' (a folder request). */
  folder: boolean;
  matrix: MatrixParams;
}

function invalid(message: string): ArcaError {
  return new ArcaError('INVALID_PATH', message);
}

function decodeSegment(raw: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw invalid(`Invalid percent-encoding in path segment '${raw}'`);
  }
  return decoded;
}

/** Validates one decoded path segment; throws INVALID_PATH on traversal or bad characters. */
export function checkSegment(seg: string): void {
  if (seg === '.' || seg === '..') throw invalid(`Path traversal is not allowed: '${seg}'`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(seg)) throw invalid('Control characters are not allowed in paths');
  if (seg.includes('\\')) throw invalid('Backslashes are not allowed in paths');
  if (seg.includes('/')) throw invalid('Encoded slashes are not allowed in path segments');
  if (Buffer.byteLength(seg) > MAX_SEGMENT_BYTES) throw invalid(`Path segment longer than ${MAX_SEGMENT_BYTES} bytes`);
}

/**
 * A matrix parameter's key or value, form-decoded as Artifactory reads it: `+` is a space. The
 * JFrog CLI writes props with Go's QueryEscape (`a b` as `a+b`, a plus as `%2B`).
 */
function decodeMatrixPart(raw: string): string {
  return decodeSegment(raw.replace(/\+/g, ' '));
}

/** Adds one `key=value` matrix parameter; a key or value that cannot be a property is refused (BAD_REQUEST). */
function addMatrix(target: MatrixParams, raw: string, commaLists: boolean): void {
  if (raw === '') return;
  const eq = raw.indexOf('=');
  const key = decodeMatrixPart(eq < 0 ? raw : raw.slice(0, eq)).trim();
  if (key === '') return;
  const rawValue = eq < 0 ? '' : raw.slice(eq + 1);
  const values = valuesOf(target, checkPropertyKey(key));
  for (const v of commaLists ? rawValue.split(',') : [rawValue]) values.push(checkPropertyValue(decodeMatrixPart(v)));
}

/**
 * Parses the raw (still percent-encoded) part of a URL after the context path:
 * `repo;k=v/some/path/file.jar;k2=v2`. Matrix parameters may follow any segment. With
 * `commaLists` (the replication wire protocol) `k=v1,v2` is two values, each percent-encoded.
 */
export function parseRepoPath(rawPath: string, options: { commaLists?: boolean } = {}): RepoPath {
  const q = rawPath.indexOf('?');
  const pathOnly = q >= 0 ? rawPath.slice(0, q) : rawPath;
  if (pathOnly.includes('\\') || /%5c/i.test(pathOnly)) throw invalid('Backslashes are not allowed in paths');
  if (/%00/.test(pathOnly) || pathOnly.includes('\u0000')) throw invalid('NUL bytes are not allowed in paths');
  if (pathOnly.length > MAX_PATH_LENGTH * 3 + 128) throw invalid(`Path longer than ${MAX_PATH_LENGTH} characters`);
  const folder = pathOnly.endsWith('/');
  const rawSegments = pathOnly.split('/').filter((s) => s !== '');
  if (rawSegments.length === 0) throw invalid('Missing repository key');
  const matrix: MatrixParams = {};
  const segments: string[] = [];
  for (const rawSeg of rawSegments) {
    const parts = rawSeg.split(';');
    for (const p of parts.slice(1)) addMatrix(matrix, p, options.commaLists === true);
    if (parts[0] === '') continue;
    const seg = decodeSegment(parts[0]);
    checkSegment(seg);
    segments.push(seg);
  }
  const repoKey = segments.shift();
  if (repoKey === undefined) throw invalid('Missing repository key');
  const path = segments.join('/');
  if (path.length > MAX_PATH_LENGTH) throw invalid(`Path longer than ${MAX_PATH_LENGTH} characters`);
  return { repoKey, path, folder, matrix };
}

/** Normalises an already-decoded repository-relative path given in a query or JSON body. */
export function normalizeRelPath(path: string): string {
  if (path.includes('\\')) throw invalid('Backslashes are not allowed in paths');
  const segs = path.split('/').filter((s) => s !== '');
  segs.forEach(checkSegment);
  const joined = segs.join('/');
  if (joined.length > MAX_PATH_LENGTH) throw invalid(`Path longer than ${MAX_PATH_LENGTH} characters`);
  return joined;
}

/**
 * Throws INVALID_PATH unless `path` is a canonical path below a repository root — what
 * normalizeRelPath returns, not the root itself. The item store checks every path it writes
 * with this, so a name a format builds from request text can never leave its repository.
 */
export function checkItemPath(path: string): void {
  if (path === '' || normalizeRelPath(path) !== path) throw invalid(`'${path.slice(0, 200)}' is not a valid path below a repository root`);
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

export function nameOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

/** All ancestor folders of a path, outermost first, excluding the root. */
export function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  let i = path.indexOf('/');
  while (i >= 0) {
    out.push(path.slice(0, i));
    i = path.indexOf('/', i + 1);
  }
  return out;
}

/** Percent-encodes each segment of a relative path for use in a URL. */
export function encodePath(path: string): string {
  return path
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}
