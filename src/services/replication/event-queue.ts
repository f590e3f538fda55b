import { randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { systemClock, type Clock } from '../../core/clock.js';
import { ArcaError } from '../../core/errors.js';
import { retryConflicts } from '../../db/conflicts.js';
import { dialectOf } from '../../db/dialect.js';
import type { Schema } from '../../db/schema.js';
import { depthQuery, headsQuery, nextOfPathQuery, pruneBatchQuery, readyWindowQuery } from './event-queries.js';
import {
  backoffMs,
  DELIVERED,
  FAILED,
  PARKED,
  pathKey,
  payloadOf,
  PENDING,
  type ClaimedEvent,
  type QueueDepth,
  type QueueTarget,
  type ReplicationChange,
  type ReplicationEventKind,
} from './event-types.js';

type Db = Kysely<Schema> | Transaction<Schema>;

export interface EventQueueOptions {
  clock?: Clock;
  /** Attempts after which `fail` marks an event failed (left to the scheduled reconcile). */
  maxAttempts?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Share (0–1) of a back-off taken off at random. */
  jitter?: number;
  random?: () => number;
}

/** Rows read per candidate window of `claim`, per event asked for. */
const WINDOW_FACTOR = 4;

/**
 * The durable replication event queue in the shared database (docs/replication-events.md).
 * Events of one (target, path) are handed out one at a time, in id order; a claim is a lease
 * with a fence, so a worker whose lease expired can no longer complete or fail what another
 * worker took over. Every method is one short transaction whose reads are index ranges.
 */
export class ReplicationEventQueue {
  readonly clock: Clock;
  readonly maxAttempts: number;
  private readonly backoff: { baseMs: number; capMs: number; jitter: number; random: () => number };

  constructor(
    private readonly db: Kysely<Schema>,
    options: EventQueueOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.maxAttempts = options.maxAttempts ?? 10;
    this.backoff = {
      baseMs: options.backoffBaseMs ?? 1_000,
      capMs: options.backoffCapMs ?? 300_000,
      jitter: options.jitter ?? 0.2,
      random: options.random ?? Math.random,
    };
  }

  /** The back-off before the next attempt after `attempts` attempts. */
  backoffMs(attempts: number): number {
    return backoffMs(attempts, this.backoff);
  }

  /**
   * Writes one event of `change` per target, except targets of the site the change came from.
   * With `trx` the events commit or roll back with the caller's change (call it after the
   * write that locked the item, so events of one path get ids in commit order); without, in
   * a transaction of their own. A deploy or move holds a reference to its binary until the
   * event is delivered or failed, so GC keeps the binary. Returns the events written.
   */
  async enqueue(change: ReplicationChange, targets: QueueTarget[], trx?: Transaction<Schema>): Promise<number> {
    const payload = payloadOf(change);
    if (targets.some((t) => t.key.length > 200)) throw new ArcaError('BAD_REQUEST', 'replication target key over 200 characters');
    const to = targets.filter((t) => !(change.origin && t.siteId && t.siteId === change.origin));
    if (to.length === 0) return 0;
    const run = async (tx: Db) => {
      const now = this.clock.now();
      const dialect = dialectOf(tx);
      const key = pathKey(change.repo, change.path);
      let holds = 0;
      const sha1 = change.kind === 'deploy' || change.kind === 'move' ? (change.sha1 ?? null) : null;
      if (sha1) {
        // The binaries row is the mutex of its file (db/binaries.ts): held, GC cannot remove
        // the binary between this check and our commit. A binary already gone holds nothing.
        let q = tx.selectFrom('binaries').select('sha1').where('sha1', '=', sha1).where('size', '>=', 0);
        if (dialect !== 'sqlite') q = q.forUpdate();
        holds = (await q.executeTakeFirst()) ? 1 : 0;
      }
      for (const target of [...to].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
        // Parked behind a pending event of the path; its lock makes a concurrent `complete` of
        // that event wait for this commit (and then promote this row), or this read skip it.
        let head = nextOfPathQuery(tx, target.key, key);
        if (dialect !== 'sqlite') head = head.forUpdate();
        const parked = (await head.executeTakeFirst()) !== undefined;
        await tx
          .insertInto('replication_events')
          .values({
            target: target.key,
            repo: change.repo,
            path: change.path,
            path_key: key,
            kind: change.kind,
            payload,
            sha1,
            holds_ref: holds,
            origin: change.origin ?? null,
            created: now,
            next_at: parked ? PARKED : now,
          })
          .execute();
        if (holds) await tx.insertInto('binary_ref_log').values({ sha1: sha1!, delta: 1 }).execute();
      }
      return to.length;
    };
    if (trx) return run(trx);
    return retryConflicts(() => this.transaction().execute(run));
  }

  /**
   * Up to `max` events of `target` for `owner`, leased for `leaseMs`: ready (enqueued, back-off
   * over, or an expired lease of another owner) and each the oldest pending event of its path,
   * so no two claims ever hold events of the same path and a path's events go in order.
   */
  async claim(target: string, owner: string, leaseMs: number, max: number): Promise<ClaimedEvent[]> {
    if (max <= 0) return [];
    const fence = `${owner.slice(0, 40)}:${randomBytes(8).toString('hex')}`;
    return retryConflicts(() =>
      this.transaction().execute(async (tx) => {
        const now = this.clock.now();
        const dialect = dialectOf(tx);
        let q = readyWindowQuery(tx, target, now, max * WINDOW_FACTOR);
        // Rows another claim is taking are skipped, never waited for.
        if (dialect !== 'sqlite') q = q.forUpdate().skipLocked();
        const window = await q.execute();
        if (window.length === 0) return [];
        const heads = await this.headsOf(tx, target, [...new Set(window.map((r) => r.path_key))]);
        const chosen: number[] = [];
        const exhausted: number[] = [];
        const seen = new Set<string>();
        for (const r of window) {
          if (chosen.length >= max) break;
          if (seen.has(r.path_key) || heads.get(r.path_key) !== Number(r.id)) continue;
          seen.add(r.path_key);
          // Its lease ran out on the last allowed attempt (its worker died each time): failed,
          // rather than handed out forever.
          if (Number(r.attempts) >= this.maxAttempts) exhausted.push(Number(r.id));
          else chosen.push(Number(r.id));
        }
        if (exhausted.length > 0) {
          const rows = await tx.selectFrom('replication_events').select(['id', 'target', 'path_key', 'sha1', 'holds_ref']).where('id', 'in', exhausted).execute();
          await this.finish(tx, rows, FAILED, `lease expired on each of ${this.maxAttempts} attempts`);
        }
        if (chosen.length === 0) return [];
        const leaseUntil = now + leaseMs;
        await tx
          .updateTable('replication_events')
          .set((eb) => ({ lease_owner: owner.slice(0, 128), lease_token: fence, next_at: leaseUntil, attempts: eb('attempts', '+', 1) }))
          .where('id', 'in', chosen)
          .where('state', '=', PENDING)
          .where('next_at', '<=', now)
          .execute();
        const rows = await tx.selectFrom('replication_events').selectAll().where('id', 'in', chosen).where('lease_token', '=', fence).orderBy('id').execute();
        return rows.map((r) => ({
          id: Number(r.id),
          target: r.target,
          repo: r.repo,
          path: r.path,
          kind: r.kind as ReplicationEventKind,
          payload: JSON.parse(r.payload) as ClaimedEvent['payload'],
          origin: r.origin,
          created: Number(r.created),
          attempts: Number(r.attempts),
          fence,
          leaseUntil,
        }));
      }),
    );
  }

  /** Extends the lease of events still held under `fence`; returns how many it extended. */
  async extend(ids: number[], fence: string, leaseMs: number): Promise<number> {
    if (ids.length === 0) return 0;
    const r = await this.db
      .updateTable('replication_events')
      .set({ next_at: this.clock.now() + leaseMs })
      .where('id', 'in', ids)
      .where('lease_token', '=', fence)
      .where('state', '=', PENDING)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /**
   * Marks delivered the events of `ids` still held under `fence` and lets the next event of
   * each path go. Completing again, or after the lease passed to another owner, changes
   * nothing (returns 0 for those): delivery is at least once, completion idempotent.
   */
  async complete(ids: number[], fence: string): Promise<number> {
    if (ids.length === 0) return 0;
    const sorted = [...new Set(ids)].sort((a, b) => a - b);
    return retryConflicts(() =>
      this.transaction().execute(async (tx) => {
        const rows = await this.held(tx, sorted, fence);
        await this.finish(tx, rows, DELIVERED, null);
        return rows.length;
      }),
    );
  }

  /**
   * One failed attempt of an event held under `fence`: retried after the back-off, or, once
   * it reached `maxAttempts`, marked failed (kept for the scheduled reconcile) and the next
   * event of its path goes. 'stale' when the event is no longer this claim's.
   */
  async fail(id: number, fence: string, error: string): Promise<'retry' | 'failed' | 'stale'> {
    return retryConflicts(() =>
      this.transaction().execute(async (tx) => {
        const [row] = await this.held(tx, [id], fence);
        if (!row) return 'stale' as const;
        const message = error.slice(0, 1000);
        if (Number(row.attempts) >= this.maxAttempts) {
          await this.finish(tx, [row], FAILED, message);
          return 'failed' as const;
        }
        await tx
          .updateTable('replication_events')
          .set({ next_at: this.clock.now() + this.backoffMs(Number(row.attempts)), lease_owner: null, lease_token: null, last_error: message })
          .where('id', '=', id)
          .execute();
        return 'retry' as const;
      }),
    );
  }

  /** Pending and failed events of `target` and how far it is behind (index range reads). */
  async depth(target: string): Promise<QueueDepth> {
    const count = (state: number) => depthQuery(this.db, target, state).executeTakeFirstOrThrow();
    const pending = await count(PENDING);
    const failed = await count(FAILED);
    let oldestPending: number | null = null;
    if (pending.oldest !== null && pending.oldest !== undefined) {
      const row = await this.db.selectFrom('replication_events').select('created').where('id', '=', Number(pending.oldest)).executeTakeFirst();
      oldestPending = row ? Number(row.created) : null;
    }
    return {
      pending: Number(pending.n),
      failed: Number(failed.n),
      oldestPending,
      lagMs: oldestPending === null ? 0 : Math.max(0, this.clock.now() - oldestPending),
    };
  }

  /**
   * Deletes delivered events finished before `before`, `batch` rows per transaction, at most
   * `maxBatches` batches per call. Returns what it removed and whether more is left.
   */
  async prune(before: number, batch = 500, maxBatches = 20): Promise<{ removed: number; more: boolean }> {
    let removed = 0;
    for (let i = 0; i < maxBatches; i++) {
      const ids = (await pruneBatchQuery(this.db, before, batch).execute()).map((r) => Number(r.id));
      if (ids.length === 0) return { removed, more: false };
      await this.db.deleteFrom('replication_events').where('id', 'in', ids).where('state', '=', DELIVERED).execute();
      removed += ids.length;
      if (ids.length < batch) return { removed, more: false };
    }
    return { removed, more: true };
  }

  /** Failed events of `target` after id `after`, oldest first, for the reconcile. */
  async failedEvents(target: string, limit = 100, after = 0): Promise<{ id: number; repo: string; path: string; kind: string; error: string | null }[]> {
    const rows = await this.db
      .selectFrom('replication_events')
      .select(['id', 'repo', 'path', 'kind', 'last_error'])
      .where('target', '=', target)
      .where('state', '=', FAILED)
      .where('id', '>', after)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: Number(r.id), repo: r.repo, path: r.path, kind: r.kind, error: r.last_error }));
  }

  /** Removes failed events the reconcile has dealt with. */
  async discardFailed(target: string, ids: number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const r = await this.db.deleteFrom('replication_events').where('target', '=', target).where('state', '=', FAILED).where('id', 'in', ids).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** The lowest pending id of each path (the path's head), for paths of one target. */
  private async headsOf(tx: Db, target: string, keys: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (let i = 0; i < keys.length; i += 200) {
      const rows = await headsQuery(tx, target, keys.slice(i, i + 200)).execute();
      for (const r of rows) out.set(r.path_key, Number(r.head));
    }
    return out;
  }

  /** Rows of `ids` still pending under `fence`, locked. */
  private async held(tx: Db, ids: number[], fence: string) {
    let q = tx
      .selectFrom('replication_events')
      .select(['id', 'target', 'path_key', 'sha1', 'holds_ref', 'attempts'])
      .where('id', 'in', ids)
      .where('lease_token', '=', fence)
      .where('state', '=', PENDING)
      .orderBy('id');
    if (dialectOf(tx) !== 'sqlite') q = q.forUpdate();
    return q.execute();
  }

  /** Ends `rows` in `state`, releases their binary references and promotes each path's next event. */
  private async finish(tx: Db, rows: { id: number; target: string; path_key: string; sha1: string | null; holds_ref: number }[], state: number, error: string | null) {
    if (rows.length === 0) return;
    const now = this.clock.now();
    await tx
      .updateTable('replication_events')
      .set({ state, done_at: now, next_at: now, lease_owner: null, lease_token: null, holds_ref: 0, ...(error === null ? {} : { last_error: error }) })
      .where('id', 'in', rows.map((r) => Number(r.id)))
      .execute();
    const releases = rows.filter((r) => Number(r.holds_ref) === 1 && r.sha1).map((r) => ({ sha1: r.sha1!, delta: -1 }));
    if (releases.length > 0) await tx.insertInto('binary_ref_log').values(releases).execute();
    const dialect = dialectOf(tx);
    const paths = new Map(rows.map((r) => [`${r.target}\0${r.path_key}`, r]));
    for (const r of paths.values()) {
      let next = nextOfPathQuery(tx, r.target, r.path_key);
      // A locking read sees the newest commit (an enqueue that parked behind this row waited for it).
      if (dialect !== 'sqlite') next = next.forUpdate();
      const head = await next.executeTakeFirst();
      if (head && Number(head.next_at) === PARKED) await tx.updateTable('replication_events').set({ next_at: now }).where('id', '=', Number(head.id)).execute();
    }
  }

  private transaction() {
    const tx = this.db.transaction();
    return dialectOf(this.db) === 'mysql' ? tx.setIsolationLevel('read committed') : tx;
  }
}
