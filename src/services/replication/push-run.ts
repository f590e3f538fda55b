import type { Database } from '../../db/database.js';
import { fullPathOf, getProperties } from '../../db/items.js';
import { descendantPages } from '../../db/tree.js';
import type { PushReplication } from './replication-config.js';
import { ScratchList } from './scratch-list.js';
import { pathIncluded } from './source.js';
import type { WireClient } from './wire-client.js';

export interface PushCounts {
  /** Files the target listed. */
  listed: number;
  /** Files of the source compared (after the path rules). */
  scanned: number;
  /** Sent as a deploy by checksum (the target had the binary). */
  byChecksum: number;
  /** Sent with their body (the target lacked the binary). */
  withBody: number;
  /** Same checksum; only the properties sent. */
  propsOnly: number;
  deleted: number;
  /** Files whose download statistics the target took (syncStatistics). */
  statistics: number;
  unchanged: number;
  errors: number;
  bytes: number;
}

export interface PushRunOptions {
  /** Where the run's scratch database of the target's list is made (removed at the end). */
  scratchDir: string;
  /** Requests under way at once. */
  parallel?: number;
  /** Start of the last successful run: items whose properties changed since then get them sent again (null: all with properties). */
  since: number | null;
  origin: string;
  /** syncStatistics: statistics of downloads from this time on are sent (null: all). */
  statisticsSince?: number | null;
  /** Items the run never sends, nor deletes on the target (a format's transient items, such as OCI upload sessions). */
  skip?: (path: string) => boolean;
  signal?: AbortSignal;
  onError?(path: string, err: Error): void;
}

/** At most `limit` promises under way; `add` waits for a free slot; `drain` waits for all and throws the first error. */
export class Pool {
  private running = 0;
  private waiters: (() => void)[] = [];
  private all = new Set<Promise<void>>();
  private error: unknown;
  constructor(private readonly limit: number) {}

  async add(fn: () => Promise<void>): Promise<void> {
    while (this.running >= this.limit) await new Promise<void>((r) => this.waiters.push(r));
    this.running++;
    const p: Promise<void> = fn()
      .catch((err: unknown) => {
        this.error ??= err;
      })
      .finally(() => {
        this.running--;
        this.all.delete(p);
        this.waiters.shift()?.();
      });
    this.all.add(p);
  }

  async drain(): Promise<void> {
    while (this.all.size > 0) await Promise.all([...this.all]);
    if (this.error !== undefined) throw this.error;
  }
}

/**
 * A scheduled push run of one target (issue 16, item 2): the target's deep file list is
 * streamed into a scratch SQLite database on disk keyed by path (never the catalogue in
 * memory), the source repository is walked in index pages, and what the target lacks or holds
 * with another checksum is sent (a deploy by checksum first, the body only when the target
 * lacks the binary), `parallel` requests at a time. With `syncDeletes`, files the target has
 * and the source lacks are deleted there (only inside the target's path rules). Properties:
 * the list does not carry them, so with `syncProperties` an item of the same checksum gets
 * its properties sent again when they changed since the last successful run (`since`, the
 * item's `updated`), or, on a first run, when it has any.
 */
export async function pushRun(database: Database, client: WireClient, repoKey: string, config: PushReplication, options: PushRunOptions): Promise<PushCounts> {
  const counts: PushCounts = { listed: 0, scanned: 0, byChecksum: 0, withBody: 0, propsOnly: 0, deleted: 0, statistics: 0, unchanged: 0, errors: 0, bytes: 0 };
  const scratch = new ScratchList(options.scratchDir);
  try {
    counts.listed = await scratch.load(client.list(options.signal));
    const pool = new Pool(options.parallel ?? 8);
    const send = (path: string, f: Parameters<WireClient['deploy']>[1], kind: 'new' | 'props', unknownToTarget = false) =>
      pool.add(async () => {
        try {
          const r = await client.deploy(path, f, options.origin, options.signal, { unknownToTarget });
          counts.bytes += r.bytes;
          if (kind === 'props') counts.propsOnly++;
          else if (r.body) counts.withBody++;
          else counts.byChecksum++;
        } catch (err) {
          counts.errors++;
          options.onError?.(path, err as Error);
        }
      });

    for await (const page of descendantPages(database.db, repoKey, '')) {
      options.signal?.throwIfAborted();
      // Each file of the page with what the target listed at its path (taken: seen).
      const files = page.flatMap((row) => {
        if (row.type !== 'file' || !row.sha1) return [];
        const path = fullPathOf(row);
        return pathIncluded(path, config) && !options.skip?.(path) ? [{ row, path, there: scratch.take(path) }] : [];
      });
      const props = config.syncProperties ? await getProperties(database.db, files.map((f) => f.row.id)) : new Map();
      const differing = files.filter((f) => f.there?.sha1 !== f.row.sha1);
      // One question per page for the binaries the target holds (an Arca target answers it):
      // what it lacks goes with its body at once, without a checksum deploy answered 404 first.
      const known = differing.length > 0 ? await client.knownBinaries([...new Set(differing.map((f) => f.row.sha1!))], options.signal).catch(() => undefined) : undefined;
      for (const { row, path, there } of files) {
        counts.scanned++;
        const file = { sha1: row.sha1!, sha256: row.sha256, size: Number(row.size), props: props.get(row.id) ?? {} };
        if (!there || there.sha1 !== row.sha1) await send(path, file, 'new', known !== undefined && !known.has(row.sha1!));
        else if (config.syncProperties && (options.since === null ? Object.keys(file.props).length > 0 : Number(row.updated) >= options.since)) await send(path, file, 'props');
        else counts.unchanged++;
      }
    }
    await pool.drain();

    if (config.syncStatistics) await sendStatistics(database, client, repoKey, config, options, counts);

    if (config.syncDeletes) {
      for (const path of scratch.unseen()) {
        options.signal?.throwIfAborted();
        if (!pathIncluded(path, config) || options.skip?.(path)) continue;
        await pool.add(async () => {
          try {
            await client.delete(path, options.origin, options.signal);
            counts.deleted++;
          } catch (err) {
            counts.errors++;
            options.onError?.(path, err as Error);
          }
        });
      }
      await pool.drain();
    }
    return counts;
  } finally {
    scratch.close();
  }
}

/** Download statistics sent per request. */
const STATISTICS_BATCH = 500;

/**
 * With `syncStatistics`: the download statistics of the repository's files downloaded here
 * since the last successful run (all of them on a first run), after the files were sent, in
 * pages of the statistics table (its rows of this repository, by item id). Only downloads made
 * at this site are sent (not remote statistics it was sent), so two sites replicating to each
 * other never count a download twice. Nothing when the target does not take statistics.
 */
async function sendStatistics(database: Database, client: WireClient, repoKey: string, config: PushReplication, options: PushRunOptions, counts: PushCounts): Promise<void> {
  let after = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    let q = database.db
      .selectFrom('download_stats as s')
      .innerJoin('items as i', 'i.id', 's.item_id')
      .select(['s.item_id', 's.downloads', 's.last_downloaded', 'i.path', 'i.name'])
      .where('i.repo', '=', repoKey)
      .where('i.type', '=', 'file')
      .where('s.downloads', '>', 0)
      .where('s.item_id', '>', after)
      .orderBy('s.item_id')
      .limit(STATISTICS_BATCH);
    const since = options.statisticsSince ?? null;
    if (since !== null) q = q.where('s.last_downloaded', '>=', since);
    const rows = await q.execute();
    if (rows.length === 0) return;
    after = Number(rows[rows.length - 1].item_id);
    const items = rows
      .map((r) => ({ path: fullPathOf(r), downloadCount: Number(r.downloads), lastDownloaded: Number(r.last_downloaded ?? 0) }))
      .filter((e) => pathIncluded(e.path, config) && !options.skip?.(e.path));
    try {
      const r = await client.sendStatistics(items, options.signal);
      if (r === undefined) return;
      counts.statistics += r.applied;
    } catch (err) {
      counts.errors++;
      options.onError?.('(download statistics)', err as Error);
    }
    if (rows.length < STATISTICS_BATCH) return;
  }
}
