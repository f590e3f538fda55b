import type { Counter, Histogram, MetricsRegistry } from '../../metrics/registry.js';

/** The replication runner's metrics (docs/replication.md, Metrics). Labels: `target` is the queue key. */
export class ReplicationMetrics {
  readonly delivered: Counter;
  readonly failed: Counter;
  readonly bytes: Counter;
  readonly runs: Counter;
  readonly pending: Counter;
  readonly failedPending: Counter;
  readonly lag: Counter;
  readonly deliveryLag: Histogram;

  constructor(registry: MetricsRegistry) {
    this.delivered = registry.counter('arca_replication_events_delivered_total', 'Replication events delivered to their target, by target');
    this.failed = registry.counter('arca_replication_events_failed_total', 'Failed attempts to deliver replication events, by target and outcome (retry: backed off; failed: left to the scheduled run)');
    this.bytes = registry.counter('arca_replication_bytes_sent_total', 'Bytes of file bodies sent to replication targets, by target and by kind (event, push)');
    this.runs = registry.counter('arca_replication_runs_total', 'Scheduled replication runs, by repository, kind (push, pull) and status (ok, failed)');
    this.pending = registry.gauge('arca_replication_events_queued', 'Replication events waiting for delivery, by target');
    this.failedPending = registry.gauge('arca_replication_events_failed', 'Replication events that ran out of attempts and wait for the scheduled run, by target');
    this.lag = registry.gauge('arca_replication_lag_seconds', 'How far a replication target is behind: the age of its oldest pending event, by target');
    this.deliveryLag = registry.histogram('arca_replication_delivery_lag_seconds', 'Time from a change to its delivery to the target', [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600]);
  }
}

/** Frozen label objects per target (the registry memoises frozen labels' keys). */
const labels = new Map<string, Readonly<Record<string, string>>>();
export function targetLabels(target: string, extra?: Record<string, string>): Readonly<Record<string, string>> {
  if (extra) return Object.freeze({ target, ...extra });
  let l = labels.get(target);
  if (!l) {
    l = Object.freeze({ target });
    labels.set(target, l);
  }
  return l;
}
