import type { Transaction } from 'kysely';
import type { ConfigVersions } from '../../cluster/config-versions.js';
import type { Clock } from '../../core/clock.js';
import type { Database } from '../../db/database.js';
import { fullPathOf, getItem, getProperties, type ItemRow, type PropertyMap } from '../../db/items.js';
import type { Schema } from '../../db/schema.js';
import { ReplicationEventQueue } from './event-queue.js';
import { eventRecorder, type RecordChange } from './event-recorder.js';
import { MAX_PAYLOAD_CHARS, type QueueTarget, type ReplicationChange } from './event-types.js';
import type { PushReplication } from './replication-config.js';
import { targetKey } from './target-key.js';

const NONE: readonly QueueTarget[] = Object.freeze([]);
/** Properties larger than this (as JSON) are left out of an event: delivery reads the item's own anyway. */
const MAX_EVENT_PROPS_CHARS = MAX_PAYLOAD_CHARS - 512;
/** Wait before a failed reload of the targets is tried again. */
const RETRY_MS = 1000;

/**
 * The node's change capture (docs/replication-events.md, "Wiring"): which repositories have
 * event-replicated push targets, kept in memory so the write paths ask it synchronously (a
 * repository without targets costs its writers no query), and the recorder that writes their
 * events into the shared queue. The targets are read at `start` and again whenever the
 * `repositories` configuration version moves; every change of the replication configuration
 * bumps it (replication-store.ts), on this node at once and on the others within a poll period
 * or a PostgreSQL notification.
 */
export class ChangeCapture {
  readonly queue: ReplicationEventQueue;
  readonly record: RecordChange;
  private targets = new Map<string, QueueTarget[]>();
  private loading: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private readonly warn: (message: string) => void;

  constructor(
    private readonly database: Database,
    versions: ConfigVersions,
    options: { queue?: ReplicationEventQueue; clock?: Clock; warn?: (message: string) => void } = {},
  ) {
    this.queue = options.queue ?? new ReplicationEventQueue(database.db, { clock: options.clock });
    this.record = eventRecorder(this.queue, (repo) => this.targetsOf(repo));
    this.warn = options.warn ?? (() => undefined);
    versions.on('repositories', () => void this.reload().catch(() => undefined));
  }

  /** The event targets of a repository (enabled push replications with `enableEventReplication`). */
  targetsOf(repo: string): readonly QueueTarget[] {
    return this.targets.get(repo) ?? NONE;
  }

  /** Reads the targets; the node awaits it before it serves, so no write goes unrecorded. */
  start(): Promise<void> {
    return this.reload();
  }

  /** Stops following configuration changes. */
  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
  }

  /** Reads the table again; a call during a read makes that read run once more afterwards. */
  reload(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        do {
          this.again = false;
          this.targets = await this.read();
        } while (this.again && !this.closed);
      } catch (err) {
        // Keep the last known targets and try again shortly: a lost reload must not leave a
        // newly configured target without its events until the next configuration change.
        this.warn(`replication event targets could not be read: ${(err as Error).message}`);
        if (!this.closed && !this.retry) {
          this.retry = setTimeout(() => {
            this.retry = undefined;
            this.reload().catch(() => undefined);
          }, RETRY_MS).unref();
        }
        throw err;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  private async read(): Promise<Map<string, QueueTarget[]>> {
    const rows = await this.database.db
      .selectFrom('replications')
      .select(['repo_key', 'url', 'config', 'last_run'])
      .where('kind', '=', 'push')
      .orderBy('repo_key')
      .orderBy('position')
      .execute();
    const map = new Map<string, QueueTarget[]>();
    for (const r of rows) {
      const c = JSON.parse(r.config) as Partial<PushReplication>;
      if (c.enabled === false || c.enableEventReplication !== true) continue;
      const target: QueueTarget = { key: targetKey(r.repo_key, r.url) };
      const siteId = siteIdOf(r.last_run);
      if (siteId) target.siteId = siteId;
      const list = map.get(r.repo_key) ?? [];
      list.push(target);
      map.set(r.repo_key, list);
    }
    return map;
  }
}

function siteIdOf(lastRun: string | null): string | undefined {
  if (!lastRun) return undefined;
  try {
    const v = (JSON.parse(lastRun) as { siteId?: unknown }).siteId;
    return typeof v === 'string' && v !== '' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** What a node's write paths reach through its Database: the capture's targets and recorder. */
function captureOf(database: Database): Pick<ChangeCapture, 'targetsOf' | 'record'> | undefined {
  return database.changeCapture as Pick<ChangeCapture, 'targetsOf' | 'record'> | undefined;
}

/** The properties an event carries: left out when too large for its payload. */
function eventProps(props: Record<string, string[]>): Record<string, string[]> | undefined {
  return JSON.stringify(props).length <= MAX_EVENT_PROPS_CHARS ? props : undefined;
}

/**
 * Records a deploy or property change of items, inside the change's transaction after the
 * item writes: each item as stored now (checksums, size, properties). Items are rows already
 * read, or paths to read; `props`, when the caller just wrote them all (a deploy), saves reading
 * them back. Without event targets for the repository it returns at once.
 */
export async function recordItems(
  database: Database,
  trx: Transaction<Schema>,
  repo: string,
  items: readonly (ItemRow | string)[],
  kind: 'deploy' | 'props',
  origin?: string | null,
  written?: PropertyMap,
): Promise<number> {
  const c = captureOf(database);
  if (!c || c.targetsOf(repo).length === 0 || items.length === 0) return 0;
  const rows: ItemRow[] = [];
  for (const i of items) {
    const row = typeof i === 'string' ? await getItem(trx, repo, i) : i;
    if (row) rows.push(row);
  }
  const props =
    written && rows.length === 1
      ? new Map([[rows[0]!.id, Object.fromEntries(Object.entries(written).filter(([, v]) => v.length > 0))]])
      : await getProperties(trx, rows.map((r) => r.id));
  let n = 0;
  for (const row of rows) {
    const change: ReplicationChange = { repo, path: fullPathOf(row), kind, origin: origin ?? null };
    if (row.type === 'file') Object.assign(change, { sha1: row.sha1 ?? undefined, sha256: row.sha256 ?? undefined, size: row.size === null ? undefined : Number(row.size) });
    const p = eventProps(props.get(row.id) ?? {});
    if (p) change.props = p;
    n += await c.record(change, trx);
  }
  return n;
}

/**
 * Records deletes of paths (a file or a folder with everything in it). Called after the delete
 * committed, or inside its transaction after the delete; delivery deletes on the target only
 * what is still absent here, so either is safe.
 */
export async function recordDeletes(database: Database, repo: string, paths: readonly string[], origin?: string | null, trx?: Transaction<Schema>): Promise<number> {
  const c = captureOf(database);
  if (!c || c.targetsOf(repo).length === 0) return 0;
  let n = 0;
  for (const path of paths) if (path !== '') n += await c.record({ repo, path, kind: 'delete', origin: origin ?? null }, trx);
  return n;
}
