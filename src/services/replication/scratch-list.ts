import { rmSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { tempName } from '../../binstore/temp-files.js';
import type { ListedFile } from './file-list-parser.js';

/**
 * A file list of the other side (a push target's, a pull upstream's) in a scratch SQLite
 * database on disk, keyed by path, for the length of one run: a catalogue of any size is
 * compared with the source page by page, never held in memory. The file is removed at close.
 */
export class ScratchList {
  readonly file: string;
  private readonly db: BetterSqlite3.Database;
  private readonly lookup: BetterSqlite3.Statement<[string], { sha1: string | null }>;
  private readonly mark: BetterSqlite3.Statement<[string]>;
  count = 0;

  constructor(dir: string) {
    // A temp name of this process: the temp-file sweep removes it if the process dies mid-run.
    this.file = join(dir, tempName('replication-'));
    this.db = new BetterSqlite3(this.file);
    this.db.pragma('journal_mode = OFF');
    this.db.pragma('synchronous = OFF');
    this.db.exec('CREATE TABLE t (path TEXT PRIMARY KEY, sha1 TEXT, seen INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID');
    this.lookup = this.db.prepare('SELECT sha1 FROM t WHERE path = ?');
    this.mark = this.db.prepare('UPDATE t SET seen = 1 WHERE path = ?');
  }

  /** Stores every file of `list` (folders are skipped), in transactions of a few thousand rows. */
  async load(list: AsyncIterable<ListedFile>): Promise<number> {
    const insert = this.db.prepare('INSERT OR REPLACE INTO t (path, sha1) VALUES (?, ?)');
    const insertMany = this.db.transaction((rows: [string, string | null][]) => {
      for (const r of rows) insert.run(r[0], r[1]);
    });
    let batch: [string, string | null][] = [];
    for await (const f of list) {
      if (f.folder) continue;
      batch.push([f.uri.replace(/^\/+/, ''), typeof f.sha1 === 'string' ? f.sha1 : null]);
      this.count++;
      if (batch.length >= 2000) {
        insertMany(batch);
        batch = [];
      }
    }
    insertMany(batch);
    return this.count;
  }

  /** The listed file at `path` (marked seen), or undefined. */
  take(path: string): { sha1: string | null } | undefined {
    const row = this.lookup.get(path);
    if (row) this.mark.run(path);
    return row;
  }

  /** Listed paths never taken, in path order. Use no other method while iterating. */
  *unseen(): IterableIterator<string> {
    for (const r of this.db.prepare<[], { path: string }>('SELECT path FROM t WHERE seen = 0 ORDER BY path').iterate()) yield r.path;
  }

  /** Every listed file in path order, a page at a time (other methods may be used between pages). */
  *pages(limit = 1000): IterableIterator<{ path: string; sha1: string | null }[]> {
    const next = this.db.prepare<[string, number], { path: string; sha1: string | null }>('SELECT path, sha1 FROM t WHERE path > ? ORDER BY path LIMIT ?');
    let after = '';
    for (;;) {
      const rows = next.all(after, limit);
      if (rows.length > 0) yield rows;
      if (rows.length < limit) return;
      after = rows[rows.length - 1]!.path;
    }
  }

  /** Whether `path` was listed. */
  has(path: string): boolean {
    return this.lookup.get(path) !== undefined;
  }

  close(): void {
    this.db.close();
    rmSync(this.file, { force: true });
  }
}
