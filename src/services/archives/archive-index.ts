import type { ContentStore } from '../../content/content-store.js';
import type { Clock } from '../../core/clock.js';
import type { Database } from '../../db/database.js';
import { ZipScanner } from '../../core/zip-scanner.js';

/**
 * The archive entry index (migration 0018) behind AQL `archive.entry.name`/`archive.entry.path`:
 * after a jar, war, ear, aar or zip is deployed, its binary's entry names are read (the local
 * headers, streamed from the binary store, never the whole file in memory) and stored once per
 * binary (sha1), so copies and moves share it and a binary indexed before is not read again.
 *
 * Off the deploy's critical path: a deploy only queues the sha1; one indexing runs at a time
 * per process. Bounded: at most `maxEntries` entries per binary (the rest are left out and the
 * binary is marked truncated), at most `maxMs` of reading per binary, at most `maxQueue`
 * binaries waiting (further ones are dropped, and indexed by their next deploy). A binary that
 * is not a readable zip is recorded with no entries. Entries go with their binary (the trigger
 * of migration 0018). The queue lives in the deploying process: binaries queued when it stops
 * are not indexed until deployed again.
 */
export interface ArchiveIndexLimits {
  maxEntries: number;
  maxMs: number;
  maxQueue: number;
}

export const DEFAULT_INDEX_LIMITS: ArchiveIndexLimits = { maxEntries: 50_000, maxMs: 30_000, maxQueue: 10_000 };

const INDEXED = /\.(jar|war|ear|aar|zip)$/i;
const MAX_PATH = 700;
const MAX_NAME = 255;
const INSERT_CHUNK = 500;

/** `a/b/C.class` → { path: 'a/b', name: 'C.class' }. */
export function splitEntry(full: string): { path: string; name: string } {
  const slash = full.lastIndexOf('/');
  return slash < 0 ? { path: '', name: full } : { path: full.slice(0, slash), name: full.slice(slash + 1) };
}

export const reversed = (s: string) => [...s].reverse().join('');

export class ArchiveIndexer {
  private readonly queue = new Set<string>();
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly database: Database,
    private readonly content: Pick<ContentStore, 'read'>,
    private readonly clock: Clock,
    private readonly limits: ArchiveIndexLimits = DEFAULT_INDEX_LIMITS,
    private readonly warn: (message: string) => void = () => {},
  ) {}

  /** True for the file names whose entries are indexed. */
  static indexes(name: string): boolean {
    return INDEXED.test(name);
  }

  /** Queues a deployed file's binary (when its name says it is a zip-like archive). */
  deployed(name: string, sha1: string | null): void {
    if (this.closed || !sha1 || !ArchiveIndexer.indexes(name)) return;
    if (this.queue.size >= this.limits.maxQueue && !this.queue.has(sha1)) return;
    this.queue.add(sha1);
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  /** Resolves once the queue is empty (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.queue.clear();
    await this.idle();
  }

  private async drain(): Promise<void> {
    for (const sha1 of this.queue) {
      this.queue.delete(sha1);
      if (this.closed) return;
      try {
        await this.index(sha1);
      } catch (err) {
        this.warn(`Archive index of binary ${sha1} failed: ${(err as Error).message}`);
      }
    }
  }

  /** Reads and stores the entries of one binary, unless it was indexed before. */
  async index(sha1: string): Promise<void> {
    const db = this.database.db;
    if (await db.selectFrom('archive_binaries').select('sha1').where('sha1', '=', sha1).executeTakeFirst()) return;
    const { entries, truncated } = await this.read(sha1);
    await db.transaction().execute(async (trx) => {
      // The binary may have been collected while it was read: then nothing is stored.
      if (!(await trx.selectFrom('binaries').select('sha1').where('sha1', '=', sha1).executeTakeFirst())) return;
      if (await trx.selectFrom('archive_binaries').select('sha1').where('sha1', '=', sha1).executeTakeFirst()) return;
      await trx.insertInto('archive_binaries').values({ sha1, entry_count: entries.length, truncated: truncated ? 1 : 0, indexed: this.clock.now() }).execute();
      for (let i = 0; i < entries.length; i += INSERT_CHUNK) {
        await trx
          .insertInto('archive_entries')
          .values(entries.slice(i, i + INSERT_CHUNK).map((e) => ({ sha1, entry_path: e.path, entry_name: e.name, name_rev: reversed(e.name) })))
          .execute();
      }
    });
  }

  private async read(sha1: string): Promise<{ entries: { path: string; name: string }[]; truncated: boolean }> {
    const { maxEntries, maxMs } = this.limits;
    const entries: { path: string; name: string }[] = [];
    let truncated = false;
    const scanner = new ZipScanner({
      keep: () => false,
      note: (full) => {
        if (full.endsWith('/')) return false;
        const e = splitEntry(full);
        if (e.path.length > MAX_PATH || e.name.length > MAX_NAME || e.name === '') return false;
        if (entries.length >= maxEntries) {
          truncated = true;
          return false;
        }
        entries.push(e);
        return false;
      },
    });
    const started = Date.now();
    const stream = await this.content.read(sha1);
    try {
      for await (const chunk of stream) {
        scanner.push(chunk as Buffer);
        if (truncated || Date.now() - started > maxMs) {
          truncated = true;
          break;
        }
      }
    } finally {
      stream.destroy();
    }
    // Not a zip (a text file named .zip): recorded with no entries, so it is not read again.
    if (!truncated && scanner.finish()) return { entries: [], truncated: false };
    return { entries, truncated };
  }
}

/** Entries shown per archive by AQL `.include("archive.entry")`. */
export const MAX_INCLUDED_ENTRIES = 1000;

/** The indexed entries of each binary in `sha1s` (at most MAX_INCLUDED_ENTRIES each), as AQL writes them. */
export async function archiveEntriesOf(database: Database, sha1s: string[]): Promise<Map<string, { 'entry.name': string; 'entry.path': string }[]>> {
  const out = new Map<string, { 'entry.name': string; 'entry.path': string }[]>();
  for (const sha1 of new Set(sha1s)) {
    const rows = await database.db
      .selectFrom('archive_entries')
      .select(['entry_path', 'entry_name'])
      .where('sha1', '=', sha1)
      .orderBy('id')
      .limit(MAX_INCLUDED_ENTRIES)
      .execute();
    if (rows.length > 0) out.set(sha1, rows.map((r) => ({ 'entry.name': r.entry_name, 'entry.path': r.entry_path === '' ? '.' : r.entry_path })));
  }
  return out;
}
