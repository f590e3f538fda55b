import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import { decideEligibility, readPeers, type SelfAffinity } from '../../cluster/tasks/affinity.js';
import { nextCronTime, parseCron } from '../../cluster/tasks/cron.js';
import type { TaskOutcome } from '../../cluster/tasks/types.js';
import type { ContentStore } from '../../content/content-store.js';
import type { Database } from '../../db/database.js';
import type { Schema } from '../../db/schema.js';
import type { MetricsRegistry } from '../../metrics/registry.js';
import type { RemoteFetchService } from '../remote-fetch.js';
import type { UpstreamNetwork } from '../remote/guarded-http.js';
import type { RepoConfig } from '../repositories.js';
import { EventDelivery, type DeliveryOptions } from './delivery.js';
import { ReplicationEventQueue, type EventQueueOptions } from './event-queue.js';
import { Pool, pushRun } from './push-run.js';
import { pullRun } from './pull-run.js';
import type { PullReplication, PushReplication } from './replication-config.js';
import { ReplicationMetrics, targetLabels } from './replication-metrics.js';
import type { ReplicationConfigService, ReplicationRow, RunRecord } from './replication-store.js';
import { siteIdOnce } from './site-id.js';
import { targetKey } from './target-key.js';
import { WireClient } from './wire-client.js';

export interface ReplicationRunnerDeps {
  database: Database;
  content: ContentStore;
  log: Logger;
  masterKey: Buffer;
  network: UpstreamNetwork;
  replications: ReplicationConfigService;
  repo(key: string): Promise<RepoConfig | undefined>;
  remote: RemoteFetchService;
  /** Deletes an item (a pull's syncDeletes). */
  remove(repo: string, path: string): Promise<unknown>;
  /** The items of a repository a scheduled run never sends (its format's transient items); undefined: none. */
  transient?(repo: RepoConfig): ((path: string) => boolean) | undefined;
  metrics: MetricsRegistry;
  /** Where runs make their scratch databases (the node's tmp directory). */
  scratchDir: string;
  /** This node's task affinity: event delivery runs where cluster tasks may. */
  self: SelfAffinity;
  /** The node's event queue (the change capture's); else one is made with `queue`. */
  eventQueue?: ReplicationEventQueue;
  queue?: EventQueueOptions;
  /** Called when a target's site id was learnt and stored (the capture reloads its targets). */
  siteIdLearned?(): void;
  delivery?: Partial<DeliveryOptions>;
  /** Runs of different targets under way at once within one tick (default 4). */
  parallelRuns?: number;
  /** Requests under way at once within one run (default 8). */
  parallelRequests?: number;
}

/** What one tick of the `replication` task hands in: its signal, log and fence. */
export interface TickContext {
  signal: AbortSignal;
  log: Logger;
  fence?(trx: Transaction<Schema>): Promise<void>;
}

/**
 * The replication runner of one node (docs/replication.md): the event delivery workers
 * (started with the node's singletons), the scheduled push and pull runs that the cluster
 * task `replication` starts on each tick when they are due, their run records in
 * `replications.last_run`, the status the API shows and the metrics.
 */
export class ReplicationRunner {
  readonly queue: ReplicationEventQueue;
  readonly delivery: EventDelivery;
  readonly metrics: ReplicationMetrics;
  private readonly clients = new Map<string, { json: string; client: WireClient }>();
  private eligibleAt = 0;
  private eligibleNow = false;

  constructor(private readonly deps: ReplicationRunnerDeps) {
    this.queue = deps.eventQueue ?? new ReplicationEventQueue(deps.database.db, deps.queue);
    this.metrics = new ReplicationMetrics(deps.metrics);
    this.delivery = new EventDelivery(
      {
        database: deps.database,
        queue: this.queue,
        log: deps.log.child({ component: 'replication' }),
        metrics: this.metrics,
        targets: () => this.eventTargets(),
        eligible: () => this.eligible(),
        client: (repoKey, config) => this.clientFor(repoKey, config),
        siteId: () => this.siteId(),
        learnedSiteId: async (repoKey, url, siteId) => {
          await this.record(repoKey, url, (r) => (r ? { ...r, siteId } : { status: 'never_run', lastCompleted: null, siteId }));
          deps.siteIdLearned?.();
        },
      },
      { owner: `${deps.self.nodeId}:${process.pid}`, ...deps.delivery },
    );
    deps.metrics.addCollector(() => this.collect());
  }

  private async transientOf(repoKey: string): Promise<((path: string) => boolean) | undefined> {
    const repo = this.deps.transient ? await this.deps.repo(repoKey) : undefined;
    return repo ? this.deps.transient!(repo) : undefined;
  }

  start(): void {
    this.delivery.start();
  }

  async stop(): Promise<void> {
    await this.delivery.stop();
  }

  siteId(): Promise<string> {
    return siteIdOnce(this.deps.database);
  }

  /** May this node deliver events (its task affinity), read again every 5 s. */
  async eligible(): Promise<boolean> {
    const now = Date.now();
    if (now - this.eligibleAt > 5_000) {
      this.eligibleNow = decideEligibility(this.deps.self, await readPeers(this.deps.database.db)).eligible;
      this.eligibleAt = now;
    }
    return this.eligibleNow;
  }

  /** The client of a push target, made again when its configuration changed. */
  clientFor(repoKey: string, config: PushReplication): WireClient {
    const key = targetKey(repoKey, config.url);
    const json = JSON.stringify(config);
    const known = this.clients.get(key);
    if (known?.json === json) return known.client;
    const client = new WireClient(config, this.deps.network, this.deps.masterKey, this.deps.content);
    if (known?.client.siteId) client.siteId = known.client.siteId;
    this.clients.set(key, { json, client });
    return client;
  }

  /** Push targets whose events are delivered now (none while push is blocked). */
  private async eventTargets(): Promise<{ repoKey: string; config: PushReplication }[]> {
    if ((await this.deps.replications.blocked()).push) return [];
    return (await this.deps.replications.rows())
      .filter((r) => r.kind === 'push' && (r.config as PushReplication).enabled && (r.config as PushReplication).enableEventReplication)
      .map((r) => ({ repoKey: r.repoKey, config: r.config as PushReplication }));
  }

  /** Whether a replication's run is due at `now`: a run request newer than its last run, or its cron time passed. */
  static due(row: ReplicationRow, now: number): boolean {
    if (!row.config.enabled) return false;
    const last = row.lastRun?.started ?? null;
    if (row.requestedAt !== null && (last === null || row.requestedAt > last)) return true;
    try {
      return nextCronTime(parseCron(row.config.cronExp), last ?? row.created) <= now;
    } catch {
      return false;
    }
  }

  /**
   * One tick of the cluster task: runs every due, unblocked replication (`parallelRuns` at a
   * time) and waits for them. The task is exclusive cluster-wide, so a target never has two
   * runs at once and runs never pile up; a run whose node died is not recorded, so the node
   * that takes the task over finds it still due and runs it again.
   */
  async tick(ctx: TickContext): Promise<TaskOutcome> {
    const now = Date.now();
    const blocked = await this.deps.replications.blocked();
    const rows = (await this.deps.replications.rows()).filter((r) => !blocked[r.kind] && ReplicationRunner.due(r, now));
    const counts = { runs: rows.length, ok: 0, failed: 0 };
    const pool = new Pool(this.deps.parallelRuns ?? 4);
    for (const row of rows) {
      await pool.add(async () => {
        const r = await this.runOne(row, ctx);
        if (r.status === 'ok') counts.ok++;
        else counts.failed++;
      });
    }
    await pool.drain();
    return { counts };
  }

  /** One run of one replication, recorded in its row (fenced by the task's lease when given). */
  async runOne(row: ReplicationRow, ctx: TickContext): Promise<RunRecord> {
    const started = Date.now();
    const log = ctx.log.child({ repoKey: row.repoKey, ...(row.kind === 'push' ? { url: (row.config as PushReplication).url } : {}) });
    let record: RunRecord;
    const errors: string[] = [];
    const onError = (path: string, err: Error) => {
      if (errors.length < 5) errors.push(`${path}: ${err.message}`);
      log.warn({ path, error: err.message }, 'replication: an item was not replicated');
    };
    try {
      if (row.kind === 'push') {
        const config = row.config as PushReplication;
        const key = targetKey(row.repoKey, config.url);
        // Failed events up to here describe changes this run's walk reads the outcome of.
        const covered = await this.lastEventId(key);
        const client = this.clientFor(row.repoKey, config);
        const since = row.lastRun?.status === 'ok' ? (row.lastRun.started ?? null) : (row.lastRun?.since ?? null);
        const statisticsSince = row.lastRun?.statisticsUpTo ?? null;
        const counts = await pushRun(this.deps.database, client, row.repoKey, config, {
          scratchDir: this.deps.scratchDir,
          since,
          statisticsSince,
          origin: await this.siteId(),
          parallel: this.deps.parallelRequests,
          skip: await this.transientOf(row.repoKey),
          signal: ctx.signal,
          onError,
        });
        this.metrics.bytes.inc(targetLabels(key, { kind: 'push' }), counts.bytes);
        const discarded = counts.errors === 0 ? await this.discardFailed(key, covered) : 0;
        record = this.finished(started, counts.errors, { ...counts, discardedFailedEvents: discarded }, errors, client.siteId ?? row.lastRun?.siteId, since);
        // Statistics go from where the last good run that sent them started; all again once syncStatistics was off.
        record.statisticsUpTo = !config.syncStatistics ? null : record.status === 'ok' ? started : statisticsSince;
      } else {
        const repo = await this.deps.repo(row.repoKey);
        if (!repo) throw new Error(`Repository '${row.repoKey}' not found`);
        const counts = await pullRun({ database: this.deps.database, remote: this.deps.remote, network: this.deps.network, remove: this.deps.remove }, repo, row.config as PullReplication, {
          scratchDir: this.deps.scratchDir,
          parallel: this.deps.parallelRequests,
          signal: ctx.signal,
          onError,
        });
        record = this.finished(started, counts.errors, { ...counts }, errors, undefined, null);
      }
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      const message = (err as Error).message;
      log.warn({ error: message }, 'replication run failed');
      record = { status: 'failed', lastCompleted: Date.now(), started, message, siteId: row.lastRun?.siteId, since: row.lastRun?.since ?? null, statisticsUpTo: row.lastRun?.statisticsUpTo ?? null };
    }
    this.metrics.runs.inc({ repo: row.repoKey, kind: row.kind, status: record.status });
    await this.record(row.repoKey, row.kind === 'push' ? (row.config as PushReplication).url : '', () => record, ctx.fence);
    if (record.siteId && record.siteId !== row.lastRun?.siteId) this.deps.siteIdLearned?.();
    return record;
  }

  private finished(started: number, errors: number, counts: Record<string, number>, messages: string[], siteId: string | undefined, since: number | null): RunRecord {
    return {
      status: errors === 0 ? 'ok' : 'failed',
      lastCompleted: Date.now(),
      started,
      counts,
      message: errors === 0 ? undefined : `${errors} item(s) not replicated: ${messages.join('; ')}`,
      siteId,
      // A failed run keeps the properties watermark of the last good run, so the next run sends them again.
      since,
    };
  }

  /** Writes a replication's run record (`replications.last_run`), inside the task's fence when given. */
  async record(repoKey: string, url: string, change: (old: RunRecord | null) => RunRecord, fence?: (trx: Transaction<Schema>) => Promise<void>): Promise<void> {
    await this.deps.database.db.transaction().execute(async (trx) => {
      if (fence) await fence(trx);
      const row = await trx.selectFrom('replications').select('last_run').where('repo_key', '=', repoKey).where('url', '=', url).executeTakeFirst();
      if (!row) return;
      const next = change(row.last_run === null ? null : (JSON.parse(row.last_run) as RunRecord));
      await trx.updateTable('replications').set({ last_run: JSON.stringify(next) }).where('repo_key', '=', repoKey).where('url', '=', url).execute();
    });
  }

  private async lastEventId(target: string): Promise<number> {
    const r = await this.deps.database.db.selectFrom('replication_events').select((eb) => eb.fn.max('id').as('id')).where('target', '=', target).executeTakeFirst();
    return r?.id === null || r?.id === undefined ? 0 : Number(r.id);
  }

  /** The target's failed events up to `upTo`: the run that just succeeded covered them. */
  private async discardFailed(target: string, upTo: number): Promise<number> {
    let n = 0;
    for (;;) {
      const page = (await this.queue.failedEvents(target, 500)).filter((e) => e.id <= upTo);
      if (page.length === 0) return n;
      const removed = await this.queue.discardFailed(target, page.map((e) => e.id));
      if (removed === 0) return n;
      n += removed;
    }
  }

  /** Queue depth and lag of a push target (the status API). */
  depth(repoKey: string, url: string) {
    return this.queue.depth(targetKey(repoKey, url));
  }

  private async collect(): Promise<void> {
    for (const r of await this.deps.replications.rows()) {
      if (r.kind !== 'push') continue;
      const key = targetKey(r.repoKey, (r.config as PushReplication).url);
      const d = await this.queue.depth(key);
      this.metrics.pending.set(d.pending, targetLabels(key));
      this.metrics.failedPending.set(d.failed, targetLabels(key));
      this.metrics.lag.set(d.lagMs / 1000, targetLabels(key));
    }
  }
}
