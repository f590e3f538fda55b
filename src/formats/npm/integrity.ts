/**
 * Subresource-integrity strings as npm writes them (`sha512-<base64>`, several separated by
 * spaces) and the legacy hex `shasum`: checking a tarball against both.
 */
import { createHash } from 'node:crypto';
import { ArcaError } from '../../core/errors.js';

/** Algorithms npm and ssri know, weakest first (ssri checks the strongest one present). */
const ALGORITHMS = ['sha1', 'sha256', 'sha384', 'sha512'] as const;
type Algorithm = (typeof ALGORITHMS)[number];

export interface IntegrityEntry {
  algorithm: Algorithm;
  digest: string;
}

/** The recognised entries of an integrity string; unknown algorithms and options are left out. */
export function parseIntegrity(value: string): IntegrityEntry[] {
  const out: IntegrityEntry[] = [];
  for (const token of value.trim().split(/\s+/)) {
    const m = /^([a-z0-9]+)-([A-Za-z0-9+/]+={0,2})(\?.*)?$/.exec(token);
    if (m && (ALGORITHMS as readonly string[]).includes(m[1])) out.push({ algorithm: m[1] as Algorithm, digest: m[2] });
  }
  return out;
}

export function integrityOf(data: Buffer, algorithm: Algorithm = 'sha512'): string {
  return `${algorithm}-${createHash(algorithm).update(data).digest('base64')}`;
}

export function shasumOf(data: Buffer): string {
  return createHash('sha1').update(data).digest('hex');
}

/** A tarball's digests, base64 (as integrity strings write them), one per algorithm npm knows. */
export type TarballDigests = Record<Algorithm, string>;

/** Every digest of a tarball in memory (tests, generic deploys). */
export function digestsOf(data: Buffer): TarballDigests {
  const out = {} as TarballDigests;
  for (const a of ALGORITHMS) out[a] = createHash(a).update(data).digest('base64');
  return out;
}

/**
 * Checks a tarball's digests against the integrity and shasum its publisher declared. Returns
 * the values to record (the declared ones, or computed ones when none were declared).
 */
export function checkTarball(digests: TarballDigests, declared: { integrity?: unknown; shasum?: unknown }, what: string): { integrity: string; shasum: string } {
  const shasum = Buffer.from(digests.sha1, 'base64').toString('hex');
  if (declared.shasum !== undefined) {
    if (typeof declared.shasum !== 'string' || declared.shasum.toLowerCase() !== shasum) {
      throw new ArcaError('BAD_REQUEST', `Shasum mismatch for ${what}: the package declares ${String(declared.shasum)}, the tarball's sha1 is ${shasum}`);
    }
  }
  if (declared.integrity === undefined) return { integrity: `sha512-${digests.sha512}`, shasum };
  if (typeof declared.integrity !== 'string') throw new ArcaError('BAD_REQUEST', `Invalid integrity for ${what}: not a string`);
  const entries = parseIntegrity(declared.integrity);
  if (entries.length === 0) throw new ArcaError('BAD_REQUEST', `Invalid integrity for ${what}: no sha1/sha256/sha384/sha512 entry in '${declared.integrity}'`);
  const strongest = ALGORITHMS.filter((a) => entries.some((e) => e.algorithm === a)).pop()!;
  const actual = digests[strongest];
  if (!entries.some((e) => e.algorithm === strongest && e.digest === actual)) {
    throw new ArcaError('BAD_REQUEST', `Integrity mismatch for ${what}: the package declares ${declared.integrity}, the tarball's ${strongest} is ${strongest}-${actual}`);
  }
  return { integrity: declared.integrity, shasum };
}
