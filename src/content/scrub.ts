import { createHash } from 'node:crypto';
import type { BinaryProvider, MaintenanceResult } from '../binstore/binary-provider.js';
import { ArcaError } from '../core/errors.js';
import type { Database } from '../db/database.js';

/** What a scrub reports: counts and bytes, plus the first problem binaries by SHA-1. */
export interface ScrubReport {
  /** Binaries the database knows (the store must hold every one). */
  binaries: number;
  checked: number;
  bytesChecked: number;
  corrupt: number;
  missing: number;
  repaired: number;
  bytesRepaired: number;
  /** Corrupt or missing binaries no copy could restore: their items cannot be downloaded. */
  unrecoverable: number;
  /** Up to `maxListed` SHA-1s of unrecoverable binaries. */
  problems: string[];
}

export interface ScrubOptions {
  signal?: AbortSignal;
  /** Rows read per page from the binaries table. */
  pageSize?: number;
  maxListed?: number;
}

/** Hashes a stored binary; undefined when it is absent. */
export async function storedSha1(provider: BinaryProvider, sha1: string): Promise<{ sha1: string; size: number } | undefined> {
  let stream;
  try {
    stream = await provider.read(sha1);
  } catch (err) {
    if (err instanceof ArcaError && err.code === 'ITEM_NOT_FOUND') return undefined;
    throw err;
  }
  const hash = createHash('sha1');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha1: hash.digest('hex'), size };
}

function add(report: ScrubReport, r: MaintenanceResult): void {
  report.repaired += r.repaired ?? 0;
  report.bytesRepaired += r.bytesRepaired ?? 0;
  report.checked += r.checked ?? 0;
  report.bytesChecked += r.bytesChecked ?? 0;
  report.corrupt += r.corrupt ?? 0;
  report.missing += r.missing ?? 0;
}

/**
 * Verifies the binary store against the database, while nodes keep serving.
 *
 * A provider that keeps several copies (sharding, cluster-file-system) verifies every copy's
 * SHA-1 itself and repairs a corrupt or missing copy from a good one (`provider.scrub`);
 * afterwards every binary the database references must still be readable. A provider with
 * one copy is verified here by hashing each binary: what is wrong cannot be repaired and is
 * reported as unrecoverable with its SHA-1.
 */
export async function scrubStore(database: Database, provider: BinaryProvider, options: ScrubOptions = {}): Promise<ScrubReport> {
  const pageSize = options.pageSize ?? 500;
  const maxListed = options.maxListed ?? 100;
  const report: ScrubReport = { binaries: 0, checked: 0, bytesChecked: 0, corrupt: 0, missing: 0, repaired: 0, bytesRepaired: 0, unrecoverable: 0, problems: [] };
  const selfVerifying = typeof provider.scrub === 'function';
  if (selfVerifying) add(report, await provider.scrub!(options.signal));
  const problem = (sha1: string) => {
    report.unrecoverable++;
    if (report.problems.length < maxListed) report.problems.push(sha1);
  };
  let after = '';
  for (;;) {
    options.signal?.throwIfAborted();
    const rows = await database.db
      .selectFrom('binaries')
      .select(['sha1', 'size'])
      .where('size', '>=', 0)
      .where('sha1', '>', after)
      .orderBy('sha1')
      .limit(pageSize)
      .execute();
    if (rows.length === 0) break;
    after = rows[rows.length - 1].sha1;
    for (const row of rows) {
      options.signal?.throwIfAborted();
      report.binaries++;
      if (selfVerifying) {
        // Copies were hashed by the provider; what it could not restore is missing now.
        if (!(await provider.exists(row.sha1))) {
          report.missing++;
          problem(row.sha1);
        }
        continue;
      }
      const found = await storedSha1(provider, row.sha1);
      if (!found) {
        report.missing++;
        problem(row.sha1);
        continue;
      }
      report.checked++;
      report.bytesChecked += found.size;
      if (found.sha1 !== row.sha1 || found.size !== Number(row.size)) {
        report.corrupt++;
        problem(row.sha1);
      }
    }
  }
  return report;
}
