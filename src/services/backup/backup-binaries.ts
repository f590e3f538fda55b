import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'kysely';
import type { ContentStore } from '../../content/content-store.js';
import { ArcaError, isArcaError } from '../../core/errors.js';
import type { Db } from '../../db/items.js';
import { findInChain } from './backup-chain.js';
import { LineFile, lines } from './backup-files.js';
import { binaryPath, FILES, type BackupCounts, type BinaryRecord, type Manifest, type ManifestFile } from './backup-format.js';

/**
 * The binaries of a backup. While the metadata is read (in its snapshot), the binaries the
 * exported items reference are written to a work file in the backup directory, a page at a
 * time; once the snapshot is over, that file is read back and each binary copied (or linked,
 * or skipped when an incremental's chain holds it), a few at a time. Nothing here holds more
 * than a page of binaries in memory, whatever the size of the repository.
 */

/** The work file: the candidate binaries, one JSON record a line, removed before the backup is complete. */
export const TODO_FILE = '.binaries-todo.jsonl';
const PAGE = 1000;
/** Binaries copied at once (the copies are file system calls on libuv's thread pool). */
const PARALLEL = 8;
/** Binaries at most this big are read and written in one call each, not streamed. */
const WHOLE_READ_LIMIT = 1 << 20;

type Counts = BackupCounts & { linkedBinaries: number; presentBinaries: number };

/** One page of the binaries some item references, after `last` in SHA-1 order (exported for the plan test). */
export function referencedBinariesPage(db: Db, last: string) {
  return (
    db
      .selectFrom('binaries')
      .select(['sha1', 'sha256', 'md5', 'size'])
      .where('sha1', '>', last)
      // The bound inside too: a merge join then starts both indexes at the page, not at the beginning.
      .where(({ exists, selectFrom }) => exists(selectFrom('items').select(sql`1`.as('one')).whereRef('items.sha1', '=', 'binaries.sha1').where('items.sha1', '>', last)))
      .orderBy('sha1')
      .limit(PAGE)
  );
}

/**
 * Full backup: every binary some item references, in SHA-1 order, walking the binaries' primary
 * key and `items_sha1` from the page on (a page per query; the cost follows the binaries).
 */
export async function writeReferencedBinaries(db: Db, todo: LineFile, signal?: AbortSignal): Promise<void> {
  for (let last = ''; ; ) {
    signal?.throwIfAborted();
    const rows = await referencedBinariesPage(db, last).execute();
    if (rows.length === 0) break;
    for (const b of rows) await todo.line({ ...b, size: Number(b.size) } satisfies BinaryRecord);
    last = rows[rows.length - 1].sha1;
  }
}

/** Throws when some of these SHA-1s (of one page of items) have no binaries row. */
export async function checkBinaryRows(db: Db, sha1s: Set<string>): Promise<void> {
  if (sha1s.size === 0) return;
  const wanted = [...sha1s];
  const found = new Set<string>();
  for (let i = 0; i < wanted.length; i += 500) {
    const rows = await db.selectFrom('binaries').select('sha1').where('sha1', 'in', wanted.slice(i, i + 500)).execute();
    for (const r of rows) found.add(r.sha1);
  }
  const missing = wanted.filter((s) => !found.has(s));
  if (missing.length > 0) throw new ArcaError('INTERNAL', `Items reference binaries with no database row: ${missing.slice(0, 5).join(', ')}`);
}

/** Incremental backup: the rows of the binaries the changed files reference (few: they follow the change), in SHA-1 order. */
export async function writeBinaryRows(db: Db, referenced: Set<string>, todo: LineFile): Promise<void> {
  const sha1s = [...referenced].sort();
  await checkBinaryRows(db, referenced);
  for (let i = 0; i < sha1s.length; i += 500) {
    const rows = await db.selectFrom('binaries').select(['sha1', 'sha256', 'md5', 'size']).where('sha1', 'in', sha1s.slice(i, i + 500)).orderBy('sha1').execute();
    for (const b of rows) await todo.line({ ...b, size: Number(b.size) } satisfies BinaryRecord);
  }
}

function checked(b: BinaryRecord, sha1: string, sha256: string, size: number): void {
  if (sha1 !== b.sha1 || sha256 !== b.sha256 || size !== b.size) {
    throw new ArcaError('CHECKSUM_MISMATCH', `Binary ${b.sha1} in the binary store is corrupt (read sha1 ${sha1}, ${size} bytes)`);
  }
}

function missing(err: unknown, b: BinaryRecord): unknown {
  return isArcaError(err, 'ITEM_NOT_FOUND') ? new ArcaError('INTERNAL', `Binary ${b.sha1} is missing from the binary store; the backup cannot be complete`) : err;
}

/** Copies one binary out of the store, checking its SHA-1 and SHA-256 on the way. */
async function copyBinary(content: ContentStore, b: BinaryRecord, target: string): Promise<void> {
  if (b.size <= WHOLE_READ_LIMIT) {
    // Small: one read, one write (most artifacts; a stream costs more than the bytes here).
    const data = await content.provider.readBuffer(b.sha1).catch((err: unknown) => Promise.reject(missing(err, b)));
    checked(b, createHash('sha1').update(data).digest('hex'), createHash('sha256').update(data).digest('hex'), data.length);
    await writeFile(target, data, { flag: 'wx' });
    return;
  }
  const sha1 = createHash('sha1');
  const sha256 = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      sha1.update(chunk);
      sha256.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const source = await content.read(b.sha1).catch((err: unknown) => Promise.reject(missing(err, b)));
  await pipeline(source, tap, createWriteStream(target, { flags: 'wx' }));
  checked(b, sha1.digest('hex'), sha256.digest('hex'), size);
}

export interface CopyOptions {
  content: ContentStore;
  /** The backup directory (where the chain's backups are). */
  dir: string;
  /** The new backup's partial directory. */
  root: string;
  chain: Manifest[];
  incremental: boolean;
  counts: Counts;
  signal?: AbortSignal;
}

/**
 * Copies the binaries listed in the work file into `root/binaries/`, writes `binaries.jsonl`
 * and appends each copied binary's line to the checksum list `sums`. A full backup hard-links
 * what the previous chain holds when the file system allows; an incremental one skips it.
 */
export async function copyBinaries(o: CopyOptions, sums: LineFile): Promise<ManifestFile> {
  const list = new LineFile(o.root, FILES.binaries);
  const shards = new Set<string>();
  const one = async (b: BinaryRecord): Promise<boolean> => {
    const old = await findInChain(o.dir, o.chain, b);
    if (old && o.incremental) {
      o.counts.presentBinaries++;
      return false;
    }
    const target = join(o.root, binaryPath(b.sha1));
    const shard = dirname(target);
    if (!shards.has(shard)) {
      await mkdir(shard, { recursive: true });
      shards.add(shard);
    }
    const linked = old !== undefined && (await link(old, target).then(() => true, () => false));
    if (linked) o.counts.linkedBinaries++;
    else await copyBinary(o.content, b, target);
    return true;
  };
  const flush = async (page: BinaryRecord[]) => {
    o.signal?.throwIfAborted();
    const kept: boolean[] = new Array(page.length);
    let next = 0;
    const worker = async () => {
      while (next < page.length) {
        const k = next++;
        kept[k] = await one(page[k]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, page.length) }, worker));
    // In the work file's (SHA-1) order, whatever order the copies finished in.
    for (let k = 0; k < page.length; k++) {
      if (!kept[k]) continue;
      const b = page[k];
      await list.line(b);
      await sums.raw(`${b.sha256}  ${binaryPath(b.sha1)}\n`);
      o.counts.binaries++;
      o.counts.bytes += b.size;
    }
  };
  let file: ManifestFile | undefined;
  try {
    let page: BinaryRecord[] = [];
    for await (const b of lines<BinaryRecord>(join(o.root, TODO_FILE))) {
      page.push(b);
      if (page.length >= PAGE) {
        await flush(page);
        page = [];
      }
    }
    if (page.length > 0) await flush(page);
  } finally {
    file = await list.close();
  }
  return file;
}
