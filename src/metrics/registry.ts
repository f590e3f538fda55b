/**
 * A small Prometheus registry whose state serialises to JSON, so the metrics of all worker
 * processes can be merged into one exposition.
 */
export type Labels = Record<string, string>;

interface CounterState {
  type: 'counter' | 'gauge';
  help: string;
  values: Record<string, number>;
}

interface HistogramState {
  type: 'histogram';
  help: string;
  buckets: number[];
  series: Record<string, { counts: number[]; sum: number; count: number }>;
}

export type MetricState = CounterState | HistogramState;
export type RegistrySnapshot = Record<string, MetricState>;

const labelKeys = new WeakMap<Labels, string>();

/** Callers on hot paths pass the same (frozen) label objects again; their keys are memoised. */
function labelKey(labels?: Labels): string {
  if (!labels) return '';
  const known = labelKeys.get(labels);
  if (known !== undefined) return known;
  const keys = Object.keys(labels).sort();
  const key = keys.map((k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',');
  if (Object.isFrozen(labels)) labelKeys.set(labels, key);
  return key;
}

export class Counter {
  constructor(private readonly state: CounterState) {}
  inc(labels?: Labels, by = 1): void {
    const k = labelKey(labels);
    this.state.values[k] = (this.state.values[k] ?? 0) + by;
  }
  set(value: number, labels?: Labels): void {
    this.state.values[labelKey(labels)] = value;
  }
}

export class Histogram {
  constructor(private readonly state: HistogramState) {}
  observe(value: number, labels?: Labels): void {
    const k = labelKey(labels);
    let s = this.state.series[k];
    if (!s) s = this.state.series[k] = { counts: new Array(this.state.buckets.length).fill(0), sum: 0, count: 0 };
    const b = this.state.buckets;
    for (let i = 0; i < b.length; i++) {
      if (value <= b[i]) {
        s.counts[i]++;
        break;
      }
    }
    s.sum += value;
    s.count++;
  }
}

export class MetricsRegistry {
  private readonly metrics: RegistrySnapshot = {};
  /** Collectors run before a scrape to refresh gauges (binary totals, pool sizes). */
  private readonly collectors: (() => Promise<void> | void)[] = [];

  counter(name: string, help: string): Counter {
    const state = (this.metrics[name] ??= { type: 'counter', help, values: {} }) as CounterState;
    return new Counter(state);
  }

  gauge(name: string, help: string): Counter {
    const state = (this.metrics[name] ??= { type: 'gauge', help, values: {} }) as CounterState;
    return new Counter(state);
  }

  histogram(name: string, help: string, buckets: number[]): Histogram {
    const state = (this.metrics[name] ??= { type: 'histogram', help, buckets, series: {} }) as HistogramState;
    return new Histogram(state);
  }

  addCollector(fn: () => Promise<void> | void): void {
    this.collectors.push(fn);
  }

  async collect(): Promise<void> {
    for (const c of this.collectors) await c();
  }

  snapshot(): RegistrySnapshot {
    return JSON.parse(JSON.stringify(this.metrics)) as RegistrySnapshot;
  }
}

/** Sums counters and histograms across processes; gauges named in `sharedGauges` are taken once. */
export function mergeSnapshots(snapshots: RegistrySnapshot[], sharedGauges: Set<string> = new Set()): RegistrySnapshot {
  const out: RegistrySnapshot = {};
  for (const snap of snapshots) {
    for (const [name, m] of Object.entries(snap)) {
      const target = out[name];
      if (!target) {
        out[name] = JSON.parse(JSON.stringify(m)) as MetricState;
        continue;
      }
      if (m.type === 'histogram' && target.type === 'histogram') {
        for (const [k, s] of Object.entries(m.series)) {
          const t = target.series[k];
          if (!t) target.series[k] = { counts: [...s.counts], sum: s.sum, count: s.count };
          else {
            s.counts.forEach((c, i) => (t.counts[i] += c));
            t.sum += s.sum;
            t.count += s.count;
          }
        }
      } else if (m.type !== 'histogram' && target.type !== 'histogram') {
        if (m.type === 'gauge' && sharedGauges.has(name)) continue;
        for (const [k, v] of Object.entries(m.values)) target.values[k] = (target.values[k] ?? 0) + v;
      }
    }
  }
  return out;
}

function fmt(v: number): string {
  if (v === Infinity) return '+Inf';
  return Number.isInteger(v) ? String(v) : v.toPrecision(6).replace(/\.?0+$/, '');
}

/** The Prometheus text exposition format (version 0.0.4). */
export function exposition(snapshot: RegistrySnapshot): string {
  const lines: string[] = [];
  for (const [name, m] of Object.entries(snapshot).sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`# HELP ${name} ${m.help}`, `# TYPE ${name} ${m.type}`);
    if (m.type === 'histogram') {
      for (const [k, s] of Object.entries(m.series)) {
        let cum = 0;
        m.buckets.forEach((b, i) => {
          cum += s.counts[i];
          lines.push(`${name}_bucket{${k ? `${k},` : ''}le="${fmt(b)}"} ${cum}`);
        });
        lines.push(`${name}_bucket{${k ? `${k},` : ''}le="+Inf"} ${s.count}`);
        lines.push(`${name}_sum${k ? `{${k}}` : ''} ${fmt(s.sum)}`, `${name}_count${k ? `{${k}}` : ''} ${s.count}`);
      }
    } else {
      for (const [k, v] of Object.entries(m.values)) lines.push(`${name}${k ? `{${k}}` : ''} ${fmt(v)}`);
    }
  }
  return lines.join('\n') + '\n';
}
