import { createHash } from 'node:crypto';
import { isArcaError } from '../core/errors.js';
import type { BinaryProvider } from './binary-provider.js';

export interface VerifyResult {
  sha1: string;
  /** ok: the stored bytes hash to their name; corrupt: they do not; missing: nothing stored. */
  status: 'ok' | 'corrupt' | 'missing';
  /** Bytes read (absent when missing). */
  size?: number;
  /** SHA-1 of the stored bytes when they are corrupt. */
  actualSha1?: string;
}

/**
 * Reads a stored binary through its provider and hashes it. Providers return the bytes
 * they hold without checking them (a read of a corrupt object succeeds); this is how
 * corruption is detected. Streams, so it works for binaries of any size.
 */
export async function verifyBinary(provider: BinaryProvider, sha1: string, signal?: AbortSignal): Promise<VerifyResult> {
  let stream;
  try {
    stream = await provider.read(sha1);
  } catch (err) {
    if (isArcaError(err, 'ITEM_NOT_FOUND')) return { sha1, status: 'missing' };
    throw err;
  }
  const hash = createHash('sha1');
  let size = 0;
  try {
    for await (const chunk of stream) {
      signal?.throwIfAborted();
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } finally {
    stream.destroy();
  }
  const actual = hash.digest('hex');
  return actual === sha1 ? { sha1, status: 'ok', size } : { sha1, status: 'corrupt', size, actualSha1: actual };
}
