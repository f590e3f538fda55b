import type { Logger } from 'pino';
import type { Database } from '../../db/database.js';
import type { ReplicationEventQueue } from './event-queue.js';
import type { ClaimedEvent } from './event-types.js';
import type { PushReplication } from './replication-config.js';
import { targetLabels, type ReplicationMetrics } from './replication-metrics.js';
import { pathIncluded, sourceState } from './source.js';
import { targetKey } from './target-key.js';
import type { WireClient } from './wire-client.js';

export interface DeliveryOptions {
  /** This worker's name in the queue's leases (the node id and a process-unique tail). */
  owner: string;
  /** Lease of a claim; renewed while a delivery takes longer. */
  leaseMs?: number;
  /** Events claimed at once per target. */
  batch?: number;
  /** Deliveries under way at once per target. */
  parallel?: number;
  /** Pause when a target has nothing ready. */
  idleMs?: number;
  /** How often the targets, the block switch and the eligibility are read again. */
  refreshMs?: number;
  /** How long delivered events are kept before the prune; how often the prune runs. */
  keepDeliveredMs?: number;
  pruneEveryMs?: number;
}

/** What the workers need of the node. */
export interface DeliveryDeps {
  database: Database;
  queue: ReplicationEventQueue;
  log: Logger;
  metrics: ReplicationMetrics;
  /** The push targets whose events are delivered now: enabled, event replication on; none while push is blocked. */
  targets(): Promise<{ repoKey: string; config: PushReplication }[]>;
  /** May this node run cluster tasks (its task affinity)? */
  eligible(): Promise<boolean>;
  /** The client of a target (kept per configuration by the caller). */
  client(repoKey: string, config: PushReplication): WireClient;
  /** This site's id: the origin of changes made here. */
  siteId(): Promise<string>;
  /** Called when a target told its site id (kept in its run record). */
  learnedSiteId(repoKey: string, url: string, siteId: string): Promise<void>;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * The event delivery workers of one node (issue 16, item 3): per push target with event
 * replication, a pump claims ready events from the durable queue, delivers up to `parallel`
 * of them at once and completes or fails each under its claim's fence. Delivery is
 * state-based: the source item is read now and the target made equal to it, so a delivery
 * repeated after a crash or a takeover is harmless. A failed attempt backs off in the queue;
 * an event out of attempts is left to the scheduled run. Nothing is delivered while push
 * replication is blocked, the target is disabled, or this node's task affinity is `none`.
 */
export class EventDelivery {
  private readonly o: Required<Omit<DeliveryOptions, 'owner'>> & { owner: string };
  private abort = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly pumps = new Map<string, Promise<void>>();
  private active = new Map<string, { repoKey: string; config: PushReplication }>();
  private lastPrune = 0;

  constructor(
    private readonly deps: DeliveryDeps,
    options: DeliveryOptions,
  ) {
    this.o = { leaseMs: 30_000, batch: 32, parallel: 8, idleMs: 150, refreshMs: 1_000, keepDeliveredMs: 3_600_000, pruneEveryMs: 60_000, ...options };
  }

  get running(): boolean {
    return this.loop !== undefined;
  }

  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    this.loop = this.supervise(this.abort.signal);
  }

  /** Stops claiming; deliveries under way finish or are cut (their leases run out and another node takes them over). */
  async stop(): Promise<void> {
    if (!this.loop) return;
    this.abort.abort();
    await this.loop;
    await Promise.allSettled([...this.pumps.values()]);
    this.loop = undefined;
  }

  private async supervise(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const eligible = await this.deps.eligible();
        const list = eligible ? await this.deps.targets() : [];
        this.active = new Map(list.map((t) => [targetKey(t.repoKey, t.config.url), t]));
        for (const key of this.active.keys()) {
          if (this.pumps.has(key)) continue;
          const pump = this.pump(key, signal).finally(() => this.pumps.delete(key));
          this.pumps.set(key, pump);
        }
        if (eligible) await this.prune();
      } catch (err) {
        this.deps.log.warn({ err }, 'replication delivery: could not read the targets');
      }
      await sleep(this.o.refreshMs, signal);
    }
  }

  private async prune(): Promise<void> {
    const now = this.deps.queue.clock.now();
    if (now - this.lastPrune < this.o.pruneEveryMs) return;
    this.lastPrune = now;
    const { removed } = await this.deps.queue.prune(now - this.o.keepDeliveredMs);
    if (removed > 0) this.deps.log.debug({ removed }, 'replication delivery: delivered events pruned');
  }

  /** Delivers the events of one target until it leaves the active list or the node stops. */
  private async pump(key: string, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const target = this.active.get(key);
      if (!target) return;
      let events: ClaimedEvent[];
      try {
        events = await this.deps.queue.claim(key, this.o.owner, this.o.leaseMs, this.o.batch);
      } catch (err) {
        this.deps.log.warn({ err, target: key }, 'replication delivery: claim failed');
        await sleep(this.o.idleMs * 10, signal);
        continue;
      }
      if (events.length === 0) {
        await sleep(this.o.idleMs, signal);
        continue;
      }
      try {
        await this.deliverAll(target, key, events, signal);
      } catch (err) {
        // The claim's leases run out and the events are handed out again.
        this.deps.log.warn({ err, target: key }, 'replication delivery: a batch was interrupted');
        await sleep(this.o.idleMs * 10, signal);
      }
    }
  }

  private async deliverAll(target: { repoKey: string; config: PushReplication }, key: string, events: ClaimedEvent[], signal: AbortSignal): Promise<void> {
    const fence = events[0]!.fence;
    const waiting = [...events];
    const undone = new Set(events.map((e) => e.id));
    // Renews the claim while deliveries take longer than a third of the lease.
    const renew = setInterval(() => void this.deps.queue.extend([...undone], fence, this.o.leaseMs).catch(() => undefined), Math.max(1_000, Math.floor(this.o.leaseMs / 3)));
    const client = this.deps.client(target.repoKey, target.config);
    const origin = await this.deps.siteId();
    const known = client.siteId;
    // One question for the batch's binaries: those the target lacks go with their body at once.
    const asked = new Set(events.map((e) => e.payload.sha1).filter((x): x is string => typeof x === 'string'));
    const held = asked.size > 0 ? await client.knownBinaries([...asked], signal).catch(() => undefined) : undefined;
    const lacks = (sha1: string) => held !== undefined && asked.has(sha1) && !held.has(sha1);
    // Delivered events are completed together: whatever was delivered while the last completion
    // ran goes in the next one (one transaction for many events under load, none waiting idle).
    const delivered: number[] = [];
    let completing: Promise<void> | undefined;
    const completeDelivered = async () => {
      while (delivered.length > 0) {
        const ids = delivered.splice(0);
        // Not completed: their leases run out and they are delivered again (at least once; the apply is idempotent).
        await this.deps.queue.complete(ids, fence).catch((err: unknown) => this.deps.log.warn({ err, target: key, events: ids.length }, 'replication delivery: completing delivered events failed'));
      }
    };
    const complete = (id: number) => {
      delivered.push(id);
      completing ??= completeDelivered().finally(() => (completing = undefined));
    };
    try {
      const worker = async () => {
        for (let e = waiting.shift(); e; e = waiting.shift()) {
          if (signal.aborted) return;
          try {
            await this.deliverOne(client, target.config, e, origin, signal, lacks);
            complete(e.id);
            this.deps.metrics.delivered.inc(targetLabels(key));
            this.deps.metrics.deliveryLag.observe(Math.max(0, this.deps.queue.clock.now() - e.created) / 1000);
          } catch (err) {
            if (signal.aborted) return;
            const message = (err as Error).message ?? String(err);
            const outcome = await this.deps.queue.fail(e.id, fence, message.slice(0, 1000)).catch(() => 'stale' as const);
            this.deps.metrics.failed.inc(targetLabels(key, { outcome }));
            this.deps.log.warn({ target: key, path: e.path, kind: e.kind, attempts: e.attempts, outcome, error: message }, 'replication event not delivered');
          } finally {
            undone.delete(e.id);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.o.parallel, events.length) }, worker));
      while (completing) await completing;
    } finally {
      clearInterval(renew);
    }
    if (client.siteId && client.siteId !== known) await this.deps.learnedSiteId(target.repoKey, target.config.url, client.siteId).catch(() => undefined);
  }

  /** Makes the target's path(s) of one event equal to the source now. */
  private async deliverOne(client: WireClient, config: PushReplication, e: ClaimedEvent, ownSite: string, signal: AbortSignal, lacks: (sha1: string) => boolean = () => false): Promise<void> {
    const origin = e.origin ?? ownSite;
    let bytes = 0;
    const send = async (path: string) => {
      if (!pathIncluded(path, config)) return;
      const now = await sourceState(this.deps.database, e.repo, path, config.syncProperties);
      if (now.kind === 'file') bytes += (await client.deploy(path, now.file, origin, signal, { unknownToTarget: lacks(now.file.sha1) })).bytes;
      // Absent now: a later delete event (or the scheduled run) deals with the target.
    };
    const remove = async (path: string) => {
      if (!config.syncDeletes || !pathIncluded(path, config)) return;
      const now = await sourceState(this.deps.database, e.repo, path, false);
      if (now.kind === 'absent') await client.delete(path, origin, signal);
    };
    switch (e.kind) {
      case 'deploy':
        await send(e.path);
        break;
      case 'props':
        if (config.syncProperties) await send(e.path);
        break;
      case 'delete':
        await remove(e.path);
        break;
      case 'move':
        if (e.payload.to) await send(e.payload.to);
        await remove(e.path);
        break;
    }
    if (bytes > 0) this.deps.metrics.bytes.inc(targetLabels(targetKey(e.repo, config.url), { kind: 'event' }), bytes);
  }
}
