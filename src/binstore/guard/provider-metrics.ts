import type { Counter, Histogram, Labels, MetricsRegistry } from '../../metrics/registry.js';
import type { ProviderRef } from './provider-errors.js';

/** The per-provider metrics every guarded provider records (docs/architecture.md lists them). */
export const PROVIDER_METRICS = {
  operations: 'arca_binstore_operations_total',
  errors: 'arca_binstore_errors_total',
  duration: 'arca_binstore_operation_duration_seconds',
  readBytes: 'arca_binstore_read_bytes_total',
  writtenBytes: 'arca_binstore_written_bytes_total',
} as const;

/** Seconds; a 0.5 ms bucket first, as a local file read answers in less than one. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The binary store's metrics in one registry; `meter` hands out one provider's view. */
export class ProviderMetrics {
  readonly operations: Counter;
  readonly errors: Counter;
  readonly duration: Histogram;
  readonly readBytes: Counter;
  readonly writtenBytes: Counter;

  constructor(registry: MetricsRegistry) {
    this.operations = registry.counter(PROVIDER_METRICS.operations, 'Binary provider operations, by provider id, type and operation');
    this.errors = registry.counter(PROVIDER_METRICS.errors, 'Failed binary provider operations, by provider id, type, operation and error code');
    this.duration = registry.histogram(PROVIDER_METRICS.duration, 'Binary provider operation latency (a read: until its stream is open)', DURATION_BUCKETS);
    this.readBytes = registry.counter(PROVIDER_METRICS.readBytes, 'Bytes read from a binary provider (streams and buffers), by provider id and type');
    this.writtenBytes = registry.counter(PROVIDER_METRICS.writtenBytes, 'Bytes committed to a binary provider, by provider id and type');
  }

  meter(ref: ProviderRef): ProviderMeter {
    return new ProviderMeter(this, ref);
  }
}

/**
 * One provider's metrics. Label objects are made once and frozen, so the registry memoises
 * their keys (hot path).
 */
export class ProviderMeter {
  private readonly base: Labels;
  private readonly byOp = new Map<string, Labels>();
  private readonly byError = new Map<string, Labels>();

  constructor(
    private readonly m: ProviderMetrics,
    ref: ProviderRef,
  ) {
    this.base = Object.freeze({ provider: ref.id, type: ref.type });
  }

  private opLabels(op: string): Labels {
    let l = this.byOp.get(op);
    if (!l) this.byOp.set(op, (l = Object.freeze({ ...this.base, op })));
    return l;
  }

  /** An operation that ended (either way) after `seconds`. */
  done(op: string, seconds: number): void {
    const labels = this.opLabels(op);
    this.m.operations.inc(labels);
    this.m.duration.observe(seconds, labels);
  }

  failed(op: string, code: string, seconds: number): void {
    this.done(op, seconds);
    const key = `${op}\n${code}`;
    let l = this.byError.get(key);
    if (!l) this.byError.set(key, (l = Object.freeze({ ...this.base, op, code })));
    this.m.errors.inc(l);
  }

  read(bytes: number): void {
    if (bytes > 0) this.m.readBytes.inc(this.base, bytes);
  }

  written(bytes: number): void {
    if (bytes > 0) this.m.writtenBytes.inc(this.base, bytes);
  }
}
