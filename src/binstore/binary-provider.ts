import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Checksums } from '../core/digests.js';

export interface BinaryInfo extends Checksums {
  size: number;
}

/** Inclusive byte range, as HTTP ranges are written. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Bytes written to a provider's staging area with their checksums computed on the way.
 * Nothing is visible in the store until `commit`; `discard` removes the staged bytes.
 */
export interface StagedBinary extends BinaryInfo {
  commit(): Promise<void>;
  discard(): Promise<void>;
}

export interface StageOptions {
  signal?: AbortSignal;
  /** Refuse (and discard) data longer than this many bytes. */
  maxSize?: number;
  /**
   * false: skip the MD5 (the staged binary's `md5` is MD5_PENDING and the content store's
   * backfill computes it after the upload). For uploads whose clients never ask for an MD5
   * (registry blobs): it is the costliest of the three digests.
   */
  md5?: boolean;
}

/**
 * One storage back end for content-addressed binaries, keyed by SHA-1. Every provider runs
 * the shared suite in `binstore/testing/conformance.ts`. The chain builder wraps each one in
 * the guard (`guard/guarded-provider.ts`): keys are checked, errors typed and stamped with the
 * provider, and operations measured there, not in the provider.
 */
export interface BinaryProvider extends ProviderMaintenance {
  readonly type: string;
  /** Streams `source` into staging while computing MD5 (unless `options.md5` is false), SHA-1 and SHA-256 in the same pass. */
  stage(source: AsyncIterable<Uint8Array>, options?: StageOptions): Promise<StagedBinary>;
  exists(sha1: string): Promise<boolean>;
  /** Stored size of a binary, or undefined when it is absent. */
  size(sha1: string): Promise<number | undefined>;
  /** A stream of the whole binary or of one inclusive range; throws ITEM_NOT_FOUND when absent. */
  read(sha1: string, range?: ByteRange): Promise<Readable>;
  /** Reads a small binary into memory in one call (for the small-file fast path). */
  readBuffer(sha1: string): Promise<Buffer>;
  /**
   * Optional: an open handle on a locally stored binary, so large downloads can be sent with
   * reused buffers. Throws ITEM_NOT_FOUND when absent. Providers without local files omit it.
   */
  openFile?(sha1: string): Promise<FileHandle>;
  /**
   * Optional: a time-limited URL from which a client can download the whole binary directly
   * (a presigned object-store URL), or undefined when this binary should be served through
   * the node (presigning off, or `size` below the provider's redirect threshold).
   */
  downloadUrl?(sha1: string, size?: number): Promise<string | undefined>;
  /** Removes a binary; true when something was removed. */
  delete(sha1: string): Promise<boolean>;
  /** Every stored SHA-1 with its modification time, for garbage collection of orphans. */
  list(): AsyncIterable<{ sha1: string; mtimeMs: number }>;
  /** Throws when the store cannot be written (used by ping). */
  check(): Promise<void>;
  close?(): Promise<void>;
}

/**
 * Optional maintenance hooks of composite providers (sharding, eventual, cache). Wrappers
 * delegate them to their child; the scrub and balancing cluster tasks call them on the root.
 */
export interface ProviderMaintenance {
  /** Restores redundancy (copies missing copies, removes surplus ones) and drains queues. */
  balance?(signal?: AbortSignal): Promise<MaintenanceResult>;
  /** Verifies every stored copy's SHA-1 and repairs a corrupt or missing copy from a good one. */
  scrub?(signal?: AbortSignal): Promise<MaintenanceResult>;
}

/** Counts and bytes reported by scrub, balancing and the eventual queue. */
export interface MaintenanceResult {
  checked?: number;
  bytesChecked?: number;
  corrupt?: number;
  missing?: number;
  repaired?: number;
  bytesRepaired?: number;
  copied?: number;
  bytesCopied?: number;
  removed?: number;
  unrecoverable?: number;
}
