import { ArcaError } from '../../core/errors.js';

/**
 * The one definition of a binary's key: a SHA-1 checksum in 40 lower-case hex characters and
 * nothing else, so no caller input ever becomes a path or object name that reaches further.
 * The guard (`guarded-provider.ts`) checks every key before a provider sees it; listings use
 * `isSha1` to tell binaries from other files.
 */
const SHA1 = /^[0-9a-f]{40}$/;

export function isSha1(name: string): boolean {
  return SHA1.test(name);
}

/** Throws BAD_REQUEST unless `key` is a SHA-1 checksum. */
export function checkSha1(key: string): void {
  if (typeof key !== 'string' || !SHA1.test(key)) throw new ArcaError('BAD_REQUEST', `Not a SHA-1 checksum: '${String(key)}'`);
}
