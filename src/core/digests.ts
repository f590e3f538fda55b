import { createHash, type Hash } from 'node:crypto';

export interface Checksums {
  sha1: string;
  sha256: string;
  md5: string;
}

export type ChecksumAlgorithm = keyof Checksums;

export const CHECKSUM_HEX_LENGTH: Record<ChecksumAlgorithm, number> = { md5: 32, sha1: 40, sha256: 64 };

/**
 * The MD5 of a binary staged without it (`StageOptions.md5: false`, as registry blobs are):
 * the content store's MD5 backfill computes it in the background, and until then readers
 * treat it as unknown.
 */
export const MD5_PENDING = '';

/** Computes MD5 (unless told not to), SHA-1 and SHA-256 in one pass over the data. */
export class DigestSet {
  private readonly md5: Hash | undefined;
  private readonly sha1: Hash = createHash('sha1');
  private readonly sha256: Hash = createHash('sha256');
  size = 0;

  constructor(withMd5 = true) {
    this.md5 = withMd5 ? createHash('md5') : undefined;
  }

  update(chunk: Uint8Array): void {
    this.md5?.update(chunk);
    this.sha1.update(chunk);
    this.sha256.update(chunk);
    this.size += chunk.length;
  }

  digest(): Checksums & { size: number } {
    return {
      md5: this.md5 ? this.md5.digest('hex') : MD5_PENDING,
      sha1: this.sha1.digest('hex'),
      sha256: this.sha256.digest('hex'),
      size: this.size,
    };
  }
}

export function checksumsOf(data: Uint8Array): Checksums & { size: number } {
  const set = new DigestSet();
  set.update(data);
  return set.digest();
}

/** Classifies a bare hex checksum by its length, as the generic `X-Checksum` header needs. */
export function classifyChecksum(value: string): ChecksumAlgorithm | undefined {
  const v = value.trim().toLowerCase();
  if (!/^[0-9a-f]+$/.test(v)) return undefined;
  for (const [alg, len] of Object.entries(CHECKSUM_HEX_LENGTH)) {
    if (v.length === len) return alg as ChecksumAlgorithm;
  }
  return undefined;
}

export function isChecksum(alg: ChecksumAlgorithm, value: string): boolean {
  return value.length === CHECKSUM_HEX_LENGTH[alg] && /^[0-9a-f]+$/.test(value);
}

export function sha1Hex(data: string | Uint8Array): string {
  return createHash('sha1').update(data).digest('hex');
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
