/**
 * Where an RPM repository keeps what. Packages go anywhere (`Packages/x.rpm`, `x.rpm`); with
 * the seed's `yumRootDepth` N (default 0) the metadata of a package is generated in the folder
 * made of the first N segments of its path (its "root"), e.g. N = 2 puts `7/os/x86_64/a.rpm`'s
 * metadata in `7/os/repodata/` with the location `x86_64/a.rpm`. Below each root:
 * - `repodata/repomd.xml` and the data files it names (`repodata/{sha256}-primary.xml.gz`…),
 *   generated; `repodata/repomd.xml.asc` is made when read, by the repository's key;
 * - group and module files deployed in the root folder (`comps.xml`, `modules.yaml`) are
 *   copied into repodata/ and named in repomd.xml.
 * The per-package records behind the metadata are kept in `.rpm/` at the repository root
 * (see repo-index.ts).
 */
import { sha256Hex } from '../../core/digests.js';

export const REPODATA = 'repodata';
export const REPOMD = 'repomd.xml';
export const STATE_FOLDER = '.rpm';

export const RPM_MIME = 'application/x-rpm';
export const XML_MIME = 'application/xml';
export const GZIP_MIME = 'application/gzip';

/** Largest package accepted (its content is read to check the header before it is stored). */
export const MAX_RPM_BYTES = 512 * 1024 * 1024;
/** Largest group (comps) or modules file deployed. */
export const MAX_EXTRA_BYTES = 32 * 1024 * 1024;

/** A repository's `yumRootDepth` (0 to 16; anything else reads as 0). */
export function rootDepth(repo: { [field: string]: unknown }): number {
  const d = Number(repo.yumRootDepth ?? 0);
  return Number.isInteger(d) && d >= 0 && d <= 16 ? d : 0;
}

/** A path's metadata root and its location below that root; undefined when the path is not deep enough. */
export function splitRoot(path: string, depth: number): { root: string; href: string } | undefined {
  const segments = path.split('/');
  if (segments.length <= depth) return undefined;
  return { root: segments.slice(0, depth).join('/'), href: segments.slice(depth).join('/') };
}

export function underRoot(root: string, path: string): string {
  return root === '' ? path : `${root}/${path}`;
}

export function repomdPath(root: string): string {
  return underRoot(root, `${REPODATA}/${REPOMD}`);
}

/** The folder of a root's records: `.rpm/r` for the repository root, `.rpm/r/{root}` otherwise. */
export function stateFolder(root: string): string {
  return root === '' ? `${STATE_FOLDER}/r` : `${STATE_FOLDER}/r/${root}`;
}

export function statePath(root: string): string {
  return `${stateFolder(root)}/state.json`;
}

/** Packages are spread over this many chunks by the hash of their location. */
export const CHUNKS = 256;

export function chunkOf(href: string): number {
  return parseInt(sha256Hex(href).slice(0, 2), 16) % CHUNKS;
}

export function chunkPath(root: string, chunk: number): string {
  return `${stateFolder(root)}/chunks/${chunk.toString(16).padStart(2, '0')}.json`;
}

export function isPackagePath(path: string): boolean {
  return path.endsWith('.rpm') && !isGenerated(path);
}

/** True for what only the format writes: the records and everything in a `repodata` folder. */
export function isGenerated(path: string): boolean {
  if (path === STATE_FOLDER || path.startsWith(`${STATE_FOLDER}/`)) return true;
  return path.split('/').includes(REPODATA);
}

export type ExtraKind = 'group' | 'modules';

/** A group file (`comps.xml`, `foo-comps.xml`) or a modules file (`modules.yaml`) that repomd.xml names. */
export function extraKind(name: string): ExtraKind | undefined {
  if (/(^|[-_.])comps[^/]*\.xml$/.test(name) || name === 'comps.xml') return 'group';
  if (/(^|[-_.])modules\.yaml$/.test(name)) return 'modules';
  return undefined;
}

export const SIGNATURE = `${REPOMD}.asc`;
export const PUBLIC_KEY = `${REPOMD}.key`;

/** A path in a `repodata` folder: the root it belongs to and the file's name. */
export function repodataFile(path: string): { root: string; name: string } | undefined {
  const segments = path.split('/');
  if (segments.length < 2 || segments[segments.length - 2] !== REPODATA) return undefined;
  return { root: segments.slice(0, -2).join('/'), name: segments[segments.length - 1] };
}

export function isRpmType(packageType: string): boolean {
  const t = packageType.toLowerCase();
  return t === 'rpm' || t === 'yum';
}
