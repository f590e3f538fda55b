import type { MetricsRegistry } from '../metrics/registry.js';
import type { RequestLog } from './request-log.js';

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** One finished request, as the metrics and the request log record it. */
export interface Finished {
  method: string;
  status: number;
  seconds: number;
  ip: string;
  user: string | undefined;
  url: string;
  /** Request body bytes (its Content-Length). */
  bytesIn: number;
  /** Response body bytes (its Content-Length; not counted for HEAD). */
  bytesOut: number;
}

/**
 * What every answered request records: `arca_http_requests_total`, the latency histogram, the
 * bytes in and out, and a line in `logs/request.log`. Fastify's onResponse hook and the
 * download fast path (fast-get.ts) both record through here.
 */
export class HttpMetrics {
  private readonly requests;
  private readonly duration;
  private readonly bytesIn;
  private readonly bytesOut;
  private readonly labelCache = new Map<string, Readonly<Record<string, string>>>();

  constructor(
    metrics: MetricsRegistry,
    private readonly requestLog: RequestLog | undefined,
  ) {
    this.requests = metrics.counter('arca_http_requests_total', 'HTTP requests by method and status');
    this.duration = metrics.histogram('arca_http_request_duration_seconds', 'HTTP request latency', DURATION_BUCKETS);
    this.bytesIn = metrics.counter('arca_http_received_bytes_total', 'Request body bytes received');
    this.bytesOut = metrics.counter('arca_http_sent_bytes_total', 'Response body bytes sent');
  }

  /** Frozen label objects, one per method and status (status 0: the method alone). */
  private labelsFor(method: string, status: number): Readonly<Record<string, string>> {
    const k = `${method} ${status}`;
    let l = this.labelCache.get(k);
    if (!l) this.labelCache.set(k, (l = Object.freeze<Record<string, string>>(status === 0 ? { method } : { method, status: String(status) })));
    return l;
  }

  record(f: Finished): void {
    this.requests.inc(this.labelsFor(f.method, f.status));
    this.duration.observe(f.seconds, this.labelsFor(f.method, 0));
    if (f.bytesIn > 0) this.bytesIn.inc(undefined, f.bytesIn);
    if (f.bytesOut > 0 && f.method !== 'HEAD') this.bytesOut.inc(undefined, f.bytesOut);
    this.requestLog?.write({ ip: f.ip, user: f.user, method: f.method, url: f.url, status: f.status, ms: Math.round(f.seconds * 100_000) / 100, bytes: f.bytesOut });
  }
}
