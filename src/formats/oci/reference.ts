/**
 * The grammar of names, tags and digests from the OCI Distribution Specification v1.1
 * ("Pulling manifests") and the OCI Image Specification ("Digests").
 */
import { OciError } from './oci-errors.js';

/** One path component of a repository name: `[a-z0-9]+((\.|_|__|[-]+)[a-z0-9]+)*`. */
const NAME_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
/** `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}` */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
/** `algorithm ":" encoded`; algorithm `[a-z0-9]+([+._-][a-z0-9]+)*`, encoded `[a-zA-Z0-9=_-]+`. */
const DIGEST = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

/** Longest repository name (the `/v2/<name>` part); distribution uses 255 for the whole name. */
export const MAX_NAME_LENGTH = 255;

/** Digest algorithms this registry computes and verifies, with their hex lengths. */
export const DIGEST_ALGORITHMS = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof DIGEST_ALGORITHMS;

export interface Digest {
  algorithm: DigestAlgorithm;
  hex: string;
  /** `algorithm:hex`, the canonical form. */
  text: string;
}

export function isValidName(name: string): boolean {
  if (name === '' || name.length > MAX_NAME_LENGTH) return false;
  return name.split('/').every((c) => NAME_COMPONENT.test(c));
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

/** True for anything shaped like a digest (`alg:encoded`), supported or not. */
export function looksLikeDigest(value: string): boolean {
  return DIGEST.test(value);
}

/**
 * Parses a digest this registry can verify (sha256 or sha512, lower-case hex). A string of
 * the digest grammar with another algorithm is UNSUPPORTED; anything else DIGEST_INVALID.
 */
export function parseDigest(value: string | undefined): Digest {
  if (value === undefined || value === '') throw new OciError('DIGEST_INVALID', 'A digest is required');
  const m = DIGEST.exec(value);
  if (!m) throw new OciError('DIGEST_INVALID', `'${value}' is not a digest (algorithm:hex)`, { detail: { digest: value } });
  const algorithm = m[1] as DigestAlgorithm;
  const length = DIGEST_ALGORITHMS[algorithm];
  if (length === undefined) {
    throw new OciError('DIGEST_INVALID', `Digest algorithm '${m[1]}' is not supported (sha256, sha512)`, { detail: { digest: value } });
  }
  if (m[2].length !== length || !/^[a-f0-9]+$/.test(m[2])) {
    throw new OciError('DIGEST_INVALID', `'${value}' is not a valid ${algorithm} digest (${length} lower-case hex digits)`, { detail: { digest: value } });
  }
  return { algorithm, hex: m[2], text: value };
}

/** A manifest reference: a tag, or a digest. */
export type ManifestReference = { kind: 'tag'; tag: string } | { kind: 'digest'; digest: Digest };

/** A reference a manifest is pushed to: MANIFEST_INVALID for a bad tag, DIGEST_INVALID for a bad digest. */
export function parseReference(value: string): ManifestReference {
  if (value.includes(':')) return { kind: 'digest', digest: parseDigest(value) };
  if (!isValidTag(value)) throw new OciError('MANIFEST_INVALID', `'${value}' is not a valid tag`, { detail: { tag: value } });
  return { kind: 'tag', tag: value };
}

/**
 * A reference a manifest is looked up by (GET, HEAD, DELETE): undefined when it cannot name
 * any stored manifest (neither a valid tag nor a digest this registry verifies). Such a
 * manifest is simply not found: the spec's 404 MANIFEST_UNKNOWN, answered after the
 * caller's permission is checked like for any other reference.
 */
export function lookupReference(value: string): ManifestReference | undefined {
  try {
    return parseReference(value);
  } catch (err) {
    if (err instanceof OciError) return undefined;
    throw err;
  }
}

/** Splits a `/v2/` name into the Arca repository key (first component) and the image below it. */
export function splitName(name: string): { repoKey: string; image: string } {
  const slash = name.indexOf('/');
  if (slash <= 0 || slash === name.length - 1) {
    throw new OciError('NAME_INVALID', `'${name}' must be <repository-key>/<image>: the first component names the Arca repository`, {
      detail: { name },
    });
  }
  return { repoKey: name.slice(0, slash), image: name.slice(slash + 1) };
}
