import { sql } from 'kysely';
import type { Clock } from '../core/clock.js';
import type { Database } from '../db/database.js';
import { retryConflicts } from '../db/conflicts.js';
import { pathKey, type Db } from '../db/items.js';

/**
 * Download statistics without a database write on the download path (issue 15, item 2): a
 * download is counted in this process's memory (`record`, a map update), and every
 * FLUSH_MS the counts of all items downloaded since are added to `download_stats` in one
 * transaction, each row with an atomic increment (`downloads = downloads + n`), so workers
 * and nodes add up without coordinating. A flush that fails keeps its counts for the next.
 * An item deleted before the flush is skipped (the insert reads it from `items`). What is
 * counted in the last interval before a crash is lost; a clean stop flushes.
 */

const FLUSH_MS = 1000;
/** Distinct items kept between flushes; beyond it a flush is started at once. */
const MAX_PENDING = 10_000;

interface Pending {
  downloads: number;
  last: number;
  by: string;
  remote: number;
  remoteLast: number;
}

export interface DownloadStatsRow {
  downloads: number;
  lastDownloaded: number | undefined;
  lastDownloadedBy: string | undefined;
  remoteDownloads: number;
  remoteLastDownloaded: number | undefined;
}

export class DownloadStats {
  private pending = new Map<number, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
    /** `arca.downloadStats.enabled`: off, nothing is counted. */
    readonly enabled: boolean,
  ) {}

  /** Counts one download of item `id` by `user`. */
  record(id: number, user: string): void {
    if (!this.enabled) return;
    this.add(id, (p, now) => {
      p.downloads++;
      p.last = now;
      p.by = user;
    });
  }

  /** Counts one fetch of a remote repository's cached item `id` from its upstream. */
  recordRemote(id: number): void {
    if (!this.enabled) return;
    this.add(id, (p, now) => {
      p.remote++;
      p.remoteLast = now;
    });
  }

  private add(id: number, change: (p: Pending, now: number) => void): void {
    let p = this.pending.get(id);
    if (!p) this.pending.set(id, (p = { downloads: 0, last: 0, by: '', remote: 0, remoteLast: 0 }));
    change(p, this.clock.now());
    if (this.pending.size >= MAX_PENDING) void this.flush().catch(() => undefined);
    else this.schedule();
  }

  /** A flush in FLUSH_MS, unless one is due already. */
  private schedule(): void {
    this.timer ??= setTimeout(() => void this.flush().catch(() => undefined), FLUSH_MS).unref();
  }

  /** Writes what was counted; one flush at a time. */
  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.write(batch)
      .catch((err) => {
        // Kept for the next flush, merged with what arrived meanwhile.
        for (const [id, p] of batch) {
          const q = this.pending.get(id);
          if (!q) this.pending.set(id, p);
          else {
            q.downloads += p.downloads;
            q.remote += p.remote;
            if (p.last > q.last) Object.assign(q, { last: p.last, by: p.by });
            q.remoteLast = Math.max(q.remoteLast, p.remoteLast);
          }
        }
        if (this.pending.size > 0) this.schedule();
        throw err;
      })
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }

  private async write(batch: Map<number, Pending>): Promise<void> {
    const entries = [...batch].sort((a, b) => a[0] - b[0]);
    const d = this.database.dialect;
    // Rows in id order, so flushes of several processes never wait for each other crosswise;
    // a deadlock or serialisation failure anyway rolls back and runs again. One statement per
    // CHUNK items: a flush costs a few round trips, not one per item downloaded.
    await retryConflicts(() =>
      this.database.db.transaction().execute(async (trx) => {
        for (let i = 0; i < entries.length; i += CHUNK) await upsert(trx, d, entries.slice(i, i + CHUNK));
      }),
    );
  }

  /** The statistics of items `ids` (absent: never downloaded). */
  async of(ids: number[]): Promise<Map<number, DownloadStatsRow>> {
    const db = this.database.db;
    const out = new Map<number, DownloadStatsRow>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await db.selectFrom('download_stats').selectAll().where('item_id', 'in', ids.slice(i, i + 500)).execute();
      for (const r of rows) {
        out.set(Number(r.item_id), {
          downloads: Number(r.downloads),
          lastDownloaded: r.last_downloaded === null ? undefined : Number(r.last_downloaded),
          lastDownloadedBy: r.last_downloaded_by ?? undefined,
          remoteDownloads: Number(r.remote_downloads),
          remoteLastDownloaded: r.remote_last_downloaded === null ? undefined : Number(r.remote_last_downloaded),
        });
      }
    }
    return out;
  }

  /**
   * Takes the download statistics another site sent for items here (replication with
   * `syncStatistics`) as these items' remote statistics: each count and time only ever grows
   * (the larger of what is stored and what was sent), so a repeated or late send changes
   * nothing and several senders never add up twice. Paths without a file here are missing.
   */
  async mergeRemote(repo: string, sent: readonly { path: string; downloads: number; lastDownloaded: number }[]): Promise<{ applied: number; missing: number }> {
    const byKey = new Map(sent.map((e) => [pathKey(repo, e.path), e]));
    const ids = new Map<string, number>();
    const keys = [...byKey.keys()];
    for (let i = 0; i < keys.length; i += 500) {
      const rows = await this.database.db.selectFrom('items').select(['id', 'path_key']).where('path_key', 'in', keys.slice(i, i + 500)).where('type', '=', 'file').execute();
      for (const r of rows) ids.set(r.path_key, Number(r.id));
    }
    const sorted = [...ids].map(([key, id]) => ({ id, downloads: byKey.get(key)!.downloads, lastDownloaded: byKey.get(key)!.lastDownloaded })).sort((a, b) => a.id - b.id);
    const result = { applied: sorted.length, missing: byKey.size - sorted.length };
    if (sorted.length === 0) return result;
    const d = this.database.dialect;
    await retryConflicts(() =>
      this.database.db.transaction().execute(async (trx) => {
        for (let i = 0; i < sorted.length; i += CHUNK) await mergeRemoteRows(trx, d, sorted.slice(i, i + CHUNK));
      }),
    );
    return result;
  }

  async close(): Promise<void> {
    await this.flush().catch(() => undefined);
  }
}

/** Items per statement of a flush (six parameters each: within every driver's limit). */
const CHUNK = 500;

/** Adds the counts of `entries` (ascending ids): inserted for the items that still exist, the rest skipped. */
async function upsert(db: Db, d: string, entries: [number, Pending][]): Promise<void> {
  const values = entries.map(([id, p]) => {
    const last = p.downloads > 0 ? p.last : null;
    const by = p.downloads > 0 ? p.by : null;
    const remoteLast = p.remote > 0 ? p.remoteLast : null;
    return [id, p.downloads, last, by, p.remote, remoteLast] as const;
  });
  const cols = sql`(item_id, downloads, last_downloaded, last_downloaded_by, remote_downloads, remote_last_downloaded)`;
  const pick = sql`select items.id, v.v_n, v.v_last, v.v_by, v.v_r, v.v_rlast from v join items on items.id = v.v_id`;
  if (d === 'mysql') {
    // A derived table of UNION ALL rows (MySQL 8 and MariaDB spell a VALUES table differently).
    const rows = sql.join(
      values.map(([id, n, last, by, r, rl], i) => (i === 0 ? sql`select ${id} as v_id, ${n} as v_n, ${last} as v_last, ${by} as v_by, ${r} as v_r, ${rl} as v_rlast` : sql`select ${id}, ${n}, ${last}, ${by}, ${r}, ${rl}`)),
      sql` union all `,
    );
    await sql`insert into download_stats ${cols} select items.id, v.v_n, v.v_last, v.v_by, v.v_r, v.v_rlast from (${rows}) v join items on items.id = v.v_id order by items.id
      on duplicate key update
      last_downloaded_by = if(values(last_downloaded) is not null and (last_downloaded is null or values(last_downloaded) >= last_downloaded), values(last_downloaded_by), last_downloaded_by),
      last_downloaded = if(values(last_downloaded) is not null and (last_downloaded is null or values(last_downloaded) >= last_downloaded), values(last_downloaded), last_downloaded),
      remote_last_downloaded = if(values(remote_last_downloaded) is not null and (remote_last_downloaded is null or values(remote_last_downloaded) > remote_last_downloaded), values(remote_last_downloaded), remote_last_downloaded),
      downloads = downloads + values(downloads),
      remote_downloads = remote_downloads + values(remote_downloads)`.execute(db);
    return;
  }
  // PostgreSQL types the parameters of a VALUES list as text unless told.
  const n = (v: number | null) => (d === 'postgresql' ? sql`cast(${v} as bigint)` : sql`${v}`);
  const t = (v: string | null) => (d === 'postgresql' ? sql`cast(${v} as varchar)` : sql`${v}`);
  const rows = sql.join(values.map(([id, dl, last, by, r, rl]) => sql`(${n(id)}, ${n(dl)}, ${n(last)}, ${t(by)}, ${n(r)}, ${n(rl)})`));
  // SQLite needs a WHERE in an INSERT … SELECT that has an upsert clause (it parses `on` as a join otherwise).
  await sql`with v (v_id, v_n, v_last, v_by, v_r, v_rlast) as (values ${rows})
    insert into download_stats ${cols} ${pick} where true order by items.id on conflict (item_id) do update set
    downloads = download_stats.downloads + excluded.downloads,
    last_downloaded_by = case when excluded.last_downloaded is not null and (download_stats.last_downloaded is null or excluded.last_downloaded >= download_stats.last_downloaded) then excluded.last_downloaded_by else download_stats.last_downloaded_by end,
    last_downloaded = case when excluded.last_downloaded is not null and (download_stats.last_downloaded is null or excluded.last_downloaded >= download_stats.last_downloaded) then excluded.last_downloaded else download_stats.last_downloaded end,
    remote_downloads = download_stats.remote_downloads + excluded.remote_downloads,
    remote_last_downloaded = case when excluded.remote_last_downloaded is not null and (download_stats.remote_last_downloaded is null or excluded.remote_last_downloaded > download_stats.remote_last_downloaded) then excluded.remote_last_downloaded else download_stats.remote_last_downloaded end`.execute(db);
}

/** Remote statistics of existing items raised to what another site sent (never lowered). */
async function mergeRemoteRows(db: Db, d: string, entries: readonly { id: number; downloads: number; lastDownloaded: number }[]): Promise<void> {
  const cols = sql`(item_id, downloads, remote_downloads, remote_last_downloaded)`;
  if (d === 'mysql') {
    const rows = sql.join(
      entries.map((e, i) => (i === 0 ? sql`select ${e.id} as v_id, ${e.downloads} as v_r, ${e.lastDownloaded} as v_rlast` : sql`select ${e.id}, ${e.downloads}, ${e.lastDownloaded}`)),
      sql` union all `,
    );
    await sql`insert into download_stats ${cols} select items.id, 0, v.v_r, v.v_rlast from (${rows}) v join items on items.id = v.v_id order by items.id
      on duplicate key update
      remote_downloads = greatest(remote_downloads, values(remote_downloads)),
      remote_last_downloaded = greatest(coalesce(remote_last_downloaded, 0), values(remote_last_downloaded))`.execute(db);
    return;
  }
  const n = (v: number) => (d === 'postgresql' ? sql`cast(${v} as bigint)` : sql`${v}`);
  const greatest = d === 'postgresql' ? sql`greatest` : sql`max`;
  const rows = sql.join(entries.map((e) => sql`(${n(e.id)}, ${n(e.downloads)}, ${n(e.lastDownloaded)})`));
  await sql`with v (v_id, v_r, v_rlast) as (values ${rows})
    insert into download_stats ${cols} select items.id, 0, v.v_r, v.v_rlast from v join items on items.id = v.v_id where true order by items.id
    on conflict (item_id) do update set
    remote_downloads = ${greatest}(download_stats.remote_downloads, excluded.remote_downloads),
    remote_last_downloaded = ${greatest}(coalesce(download_stats.remote_last_downloaded, 0), excluded.remote_last_downloaded)`.execute(db);
}
