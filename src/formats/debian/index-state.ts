/**
 * What a Debian distribution's indexes are made of (package-index.ts keeps them): buckets of
 * stanzas stored as content-addressed blobs, generations of them, and the distribution's state
 * that names the current and previous generations and the Release text.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { sha1Hex } from '../../core/digests.js';
import { LruCache } from '../../core/lru-cache.js';
import type { RepoStore } from '../format-handler.js';
import { blobPath, fnv1a, statePath } from './layout.js';
import type { FileSums } from './release.js';

/** Buckets a Packages index is cut into (each a gzip member). */
export const BUCKETS = 64;
/** Generations kept readable by hash besides the current one. */
export const KEPT_GENERATIONS = 3;

export interface Bucket {
  /** sha1 of the stanza text (its blob). */
  text: string;
  /** sha1 of its gzip member (its blob). */
  gz: string;
  count: number;
}

export interface Generation {
  /** Bucket id (two hex digits) → bucket; listed in id order. */
  buckets: Record<string, Bucket>;
  packages: FileSums;
  gz: FileSums;
}

export interface ArchState {
  current: Generation;
  previous: Generation[];
}

export interface DistState {
  dist: string;
  /** Component → architecture → its indexes. */
  components: Record<string, Record<string, ArchState>>;
  /** The Release text naming the current generations. */
  release: string;
  /** When the Release was made (ISO). */
  date: string;
}

export interface PackageRecord {
  path: string;
  package: string;
  version: string;
  architecture: string;
  dists: string[];
  comps: string[];
  archs: string[];
  stanza: string;
}

export const EMPTY_GZ = gzipSync(Buffer.alloc(0));
export const EMPTY_SUMS = sumsOf([Buffer.alloc(0)]);
export const EMPTY_GZ_SUMS = sumsOf([EMPTY_GZ]);

export function sumsOf(parts: Iterable<Buffer>): FileSums {
  const md5 = createHash('md5');
  const sha1 = createHash('sha1');
  const sha256 = createHash('sha256');
  let size = 0;
  for (const p of parts) {
    md5.update(p);
    sha1.update(p);
    sha256.update(p);
    size += p.length;
  }
  return { size, md5: md5.digest('hex'), sha1: sha1.digest('hex'), sha256: sha256.digest('hex') };
}

/** The bucket a package name falls in (FNV-1a). */
export function bucketOf(name: string): string {
  return (fnv1a(name) % BUCKETS).toString(16).padStart(2, '0');
}

export function emptyGeneration(): Generation {
  return { buckets: {}, packages: EMPTY_SUMS, gz: EMPTY_GZ_SUMS };
}

/** Blob contents, immutable by their sha1 (kept across changes on this node). */
const blobs = new LruCache<Buffer>(96 * 1024 * 1024, (b) => b.length);

export async function readBlob(store: RepoStore, dist: string, sha1: string): Promise<Buffer> {
  const key = `${store.repo.key}\0${dist}\0${sha1}`;
  const hit = blobs.get(key);
  if (hit) return hit;
  const data = await store.read(blobPath(dist, sha1));
  if (!data) throw new Error(`The Debian index blob ${sha1} of '${store.repo.key}' (${dist}) is missing`);
  blobs.set(key, data);
  return data;
}

export async function writeBlob(store: RepoStore, dist: string, data: Buffer): Promise<string> {
  const sha1 = sha1Hex(data);
  if (!(await store.stat(blobPath(dist, sha1)))) await store.write(blobPath(dist, sha1), data, 'application/octet-stream');
  blobs.set(`${store.repo.key}\0${dist}\0${sha1}`, data);
  return sha1;
}

export async function readState(store: RepoStore, dist: string): Promise<DistState | undefined> {
  const data = await store.read(statePath(dist));
  if (!data) return undefined;
  try {
    return JSON.parse(data.toString('utf8')) as DistState;
  } catch {
    return undefined;
  }
}
