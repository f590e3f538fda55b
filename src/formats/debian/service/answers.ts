import { ArcaError } from '../../../core/errors.js';
import type { DistsPath } from '../layout.js';
import { sumsOf } from '../index-state.js';
import type { StreamedContent } from '../../format-handler.js';
import type { FileSums } from '../release.js';

/** A `dists/` file as a read answers it: parts streamed one after another, its checksums known first. */
export type DistsAnswer = StreamedContent;

export const TEXT = 'text/plain; charset=utf-8';

export function bytesAnswer(data: Buffer, modified: number, type: string): DistsAnswer {
  return { kind: 'stream', parts: async function* () { yield data; }, sums: sumsOf([data]), modified, type };
}

export function notFound(repo: string, path: string): ArcaError {
  return new ArcaError('ITEM_NOT_FOUND', `Could not find resource '${repo}/${path}'`);
}

export function pathOf(p: DistsPath): string {
  if (p.kind === 'release') return `dists/${p.dist}/${p.file}`;
  if (p.kind === 'packages') return `dists/${p.dist}/${p.comp}/binary-${p.arch}/${p.file}`;
  return `dists/${p.dist}/${p.comp}/binary-${p.arch}/by-hash/${p.algorithm}/${p.hash}`;
}

export function hashOf(s: FileSums, alg: 'MD5Sum' | 'SHA1' | 'SHA256'): string {
  return alg === 'MD5Sum' ? s.md5 : alg === 'SHA1' ? s.sha1 : s.sha256;
}
