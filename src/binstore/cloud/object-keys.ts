import { ArcaError } from '../../core/errors.js';
import { checkSha1, isSha1 } from '../guard/sha1-key.js';

/**
 * Object names of binaries in a bucket or container: `<path>/<sha1[0..n]>/<sha1>`, where n is
 * `rootFoldersNameLength` (0 to 5; 0 = no folder level, `<path>/<sha1>`) and an empty path
 * puts the folders at the root of the bucket.
 */
export class ObjectKeys {
  /** `<path>/` (or '' for the bucket root): every key of this store starts with it. */
  readonly prefix: string;

  constructor(
    path: string,
    readonly rootFoldersNameLength: number,
  ) {
    if (!Number.isInteger(rootFoldersNameLength) || rootFoldersNameLength < 0 || rootFoldersNameLength > 5) {
      throw new ArcaError('INVALID_CONFIG', `rootFoldersNameLength must be an integer from 0 to 5, not ${rootFoldersNameLength}`);
    }
    const trimmed = path.replace(/^\/+|\/+$/g, '');
    if (trimmed.split('/').some((p) => p === '..' || p === '.')) {
      throw new ArcaError('INVALID_CONFIG', `path must not contain '.' or '..' segments: '${path}'`);
    }
    this.prefix = trimmed === '' ? '' : `${trimmed}/`;
  }

  keyOf(sha1: string): string {
    checkSha1(sha1);
    const n = this.rootFoldersNameLength;
    return n === 0 ? `${this.prefix}${sha1}` : `${this.prefix}${sha1.slice(0, n)}/${sha1}`;
  }

  /** The SHA-1 a listed key stores, or undefined for keys that are not binaries of this layout. */
  sha1Of(key: string): string | undefined {
    if (!key.startsWith(this.prefix)) return undefined;
    const rest = key.slice(this.prefix.length);
    const n = this.rootFoldersNameLength;
    if (n === 0) return isSha1(rest) ? rest : undefined;
    const slash = rest.indexOf('/');
    if (slash !== n) return undefined;
    const sha1 = rest.slice(n + 1);
    return isSha1(sha1) && sha1.startsWith(rest.slice(0, n)) ? sha1 : undefined;
  }
}
