import type { ItemRow } from '../../db/items.js';
import type { ArtifactService } from '../artifacts.js';
import type { FileBodies } from './file-bodies.js';

/** A small stored file as the download fast path sends it. */
export interface CurrentFile {
  readonly item: ItemRow;
  /** The whole file. */
  readonly body: Buffer;
  /** The change stamp the item was read at; undefined when the database has none. */
  stamp: number | undefined;
  /** The edge's precomputed answer for this file (its headers), made once per entry. */
  edge?: unknown;
}

export interface CurrentFilesOptions {
  /** Entries kept (oldest dropped first). */
  maxEntries?: number;
  /** Bytes of bodies kept. The bodies are the content store's own buffers, so mostly shared. */
  maxBytes?: number;
}

/**
 * Small stored files (item and bytes) kept per process for plain downloads, and served from
 * here only while the database proves them current: read-after-write holds across workers and
 * nodes because nothing is trusted on a notification alone.
 *
 * - SQLite: the database's change stamp (`PRAGMA data_version`, which moves on every commit
 *   by another connection, plus this connection's `total_changes()`) is read after the request
 *   arrived (about 5 µs, against 10–20 µs for the item lookup and its key's SHA-1; one read may
 *   serve every request that arrived before it). An entry read at the same stamp is current:
 *   no commit of any process happened since. A commit that answered 201 in another worker
 *   moved the stamp before its client could send the next GET. Inside a transaction of this
 *   connection there is no stamp, and nothing is cached.
 * - PostgreSQL, MySQL: there is no cheap equivalent (a stamp would be a round trip, as the
 *   lookup is; a LISTEN/NOTIFY invalidation arrives after the commit, so a GET sent right
 *   after a 201 from another node could still see the old entry). Every request looks the
 *   item up, but the lookups of one event-loop turn go out as one query (`Database.itemByKey`,
 *   db/key-batch.ts), sent after the last of those requests arrived; an unchanged item keeps
 *   its entry, so the edge's precomputed headers and the body are reused.
 *
 * A file is only ever answered with a body that matches the item read for that request.
 */
export class CurrentFiles {
  private readonly entries = new Map<string, CurrentFile>();
  private bytes = 0;
  private readonly maxEntries: number;
  private readonly maxBytes: number;

  constructor(
    private readonly artifacts: Pick<ArtifactService, 'find' | 'changeStamp'>,
    private readonly bodies: Pick<FileBodies, 'readSmall' | 'smallFileLimit'>,
    options: CurrentFilesOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? 4096;
    this.maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
  }

  /**
   * The entry under `key` that a stamp may prove current, unchecked: it may be answered to a
   * request only when `stamp()`, read after that request arrived, equals its `stamp`.
   * Undefined when there is none (then `load`).
   */
  candidate(key: string): CurrentFile | undefined {
    const e = this.entries.get(key);
    return e === undefined || e.stamp === undefined ? undefined : e;
  }

  /** The database's change stamp now (see the class comment); undefined when there is none. */
  stamp(): number | undefined {
    return this.artifacts.changeStamp();
  }

  /**
   * Reads the item at `path` of `repo` now and returns its entry under `key`: the cached one
   * when the item is unchanged, a new one otherwise. Undefined when there is no small stored
   * file there (a folder, nothing, or a large file): the full read path answers those.
   */
  async load(key: string, repo: string, path: string): Promise<CurrentFile | undefined> {
    // Taken before the read: a commit between the two makes the entry look older, never newer.
    const stamp = this.artifacts.changeStamp();
    const item = await this.artifacts.find(repo, path);
    const prev = this.entries.get(key);
    if (item === undefined || item.type !== 'file' || item.sha1 === null || Number(item.size) > this.bodies.smallFileLimit) {
      if (prev) this.drop(key, prev);
      return undefined;
    }
    if (prev && sameAnswer(prev.item, item)) {
      prev.stamp = stamp;
      return prev;
    }
    const body = await this.bodies.readSmall(item.sha1);
    if (body.length !== Number(item.size)) return undefined;
    const entry: CurrentFile = { item, body, stamp };
    if (prev) this.drop(key, prev);
    this.entries.set(key, entry);
    this.bytes += body.length;
    while (this.entries.size > this.maxEntries || this.bytes > this.maxBytes) {
      const [k, v] = this.entries.entries().next().value as [string, CurrentFile];
      this.drop(k, v);
    }
    return entry;
  }

  /** Entries kept (for tests). */
  get size(): number {
    return this.entries.size;
  }

  private drop(key: string, e: CurrentFile): void {
    this.entries.delete(key);
    this.bytes -= e.body.length;
  }
}

/** True when both rows give the same download answer (headers and bytes). */
function sameAnswer(a: ItemRow, b: ItemRow): boolean {
  return (
    a.id === b.id &&
    a.sha1 === b.sha1 &&
    a.sha256 === b.sha256 &&
    a.md5 === b.md5 &&
    Number(a.size) === Number(b.size) &&
    Number(a.modified) === Number(b.modified) &&
    a.name === b.name &&
    a.mime_type === b.mime_type
  );
}
