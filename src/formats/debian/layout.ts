/**
 * Where a Debian repository keeps what.
 *
 * - Packages (`.deb`) anywhere outside the reserved folders, by convention under `pool/`;
 *   their `Filename` in the indexes is their path in the repository.
 * - `.debian/records/{shard}.json`: the records of the indexed packages (where each is listed),
 *   256 shards by a hash of the package's path, so a delete knows what to take out and an
 *   import writes 256 small files, not one per package.
 * - `.debian/blobs/{dist}/{sha1}`: content-addressed pieces of the `Packages` indexes (one
 *   bucket of stanzas, and its gzip member), shared by the generations that name them.
 * - `.debian/dists/{dist}.json`: the distribution's state: for each component and
 *   architecture the buckets of the current `Packages` (and of the last few, for by-hash),
 *   their checksums, and the `Release` text that names them. Writing it is the one step that
 *   publishes a change; every `dists/` file is served from it (service/debian-service.ts).
 */
import { ArcaError } from '../../core/errors.js';

export const METADATA_FOLDER = '.debian';
export const RECORDS_FOLDER = `${METADATA_FOLDER}/records`;

/** Shards the package records are kept in. */
export const RECORD_SHARDS = 256;

/** FNV-1a of a string. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The records shard holding the package stored at `path`. */
export function recordShardPath(path: string): string {
  return shardPath(fnv1a(path) % RECORD_SHARDS);
}

export function shardPath(shard: number): string {
  return `${RECORDS_FOLDER}/${shard.toString(16).padStart(2, '0')}.json`;
}

export function blobPath(dist: string, sha1: string): string {
  return `${METADATA_FOLDER}/blobs/${dist}/${sha1}`;
}

export function statePath(dist: string): string {
  return `${METADATA_FOLDER}/dists/${dist}.json`;
}

/** True for files only the format writes (and the `dists/` tree it serves). */
export function isGenerated(path: string): boolean {
  return path === METADATA_FOLDER || path.startsWith(`${METADATA_FOLDER}/`) || path === 'dists' || path.startsWith('dists/');
}

export function isPackagePath(path: string): boolean {
  return path.endsWith('.deb') && !isGenerated(path);
}

/** Distribution and component names: one path segment of letters, digits and `._+-`. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._+~-]{0,63}$/;

export function checkName(kind: 'distribution' | 'component', name: string): void {
  if (!NAME.test(name)) throw new ArcaError('BAD_REQUEST', `'${name}' is not a valid ${kind} name (letters, digits and . _ + ~ -, one segment)`);
}

/** A `dists/` path as apt asks for it. */
export type DistsPath =
  | { kind: 'release'; dist: string; file: 'Release' | 'InRelease' | 'Release.gpg' }
  | { kind: 'packages'; dist: string; comp: string; arch: string; file: 'Packages' | 'Packages.gz' }
  | { kind: 'by-hash'; dist: string; comp: string; arch: string; algorithm: 'MD5Sum' | 'SHA1' | 'SHA256'; hash: string };

/** Parses `dists/{dist}/…`; undefined for other paths (or `dists/` files Arca does not make). */
export function parseDistsPath(path: string): DistsPath | undefined {
  const s = path.split('/');
  if (s[0] !== 'dists' || s.length < 3) return undefined;
  const dist = s[1];
  if (s.length === 3) {
    if (s[2] === 'Release' || s[2] === 'InRelease' || s[2] === 'Release.gpg') return { kind: 'release', dist, file: s[2] };
    return undefined;
  }
  // dists/{dist}/{comp…}/binary-{arch}/Packages[.gz] or …/binary-{arch}/by-hash/{alg}/{hash}
  const binaryAt = s.findIndex((x, i) => i >= 3 && x.startsWith('binary-'));
  if (binaryAt < 0) return undefined;
  const comp = s.slice(2, binaryAt).join('/');
  const arch = s[binaryAt].slice('binary-'.length);
  const rest = s.slice(binaryAt + 1);
  if (rest.length === 1 && (rest[0] === 'Packages' || rest[0] === 'Packages.gz')) return { kind: 'packages', dist, comp, arch, file: rest[0] };
  if (rest.length === 3 && rest[0] === 'by-hash' && (rest[1] === 'MD5Sum' || rest[1] === 'SHA1' || rest[1] === 'SHA256') && /^[0-9a-f]{32,64}$/.test(rest[2])) {
    return { kind: 'by-hash', dist, comp, arch, algorithm: rest[1], hash: rest[2] };
  }
  return undefined;
}
