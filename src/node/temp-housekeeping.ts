import type { Logger } from 'pino';
import { tempDirs, tempOwner } from '../binstore/temp-files.js';
import { processAlive, sweepTempDirs, type SweepResult } from '../binstore/temp-sweep.js';
import type { Clock } from '../core/clock.js';
import type { MetricsRegistry } from '../metrics/registry.js';

export interface TempHousekeepingOptions {
  /** The registry's node starts (`NodeRegistry.runs`). */
  nodeRuns: () => Promise<Map<string, { instance: string; state: string }>>;
  metrics: MetricsRegistry;
  log: Logger;
  clock: Clock;
  /** `arca.tmp.staleSecs` in ms. */
  staleMs: number;
  /** `arca.tmp.sweepIntervalSecs` in ms; 0: no periodic sweep. */
  intervalMs: number;
  /** Temp directories besides those the binary store registered (the home's data/tmp). */
  dirs: string[];
  /** Remove legacy-named files at start (a standalone node: no older Arca shares its temp directories). */
  legacyDeadAtStart?: boolean;
}

/**
 * Temp-file housekeeping of a node (issue 12, item 10): at start the node removes the
 * leftovers of its earlier runs and of dead processes; then a periodic sweep removes any
 * other temp file that is provably dead (see `binstore/temp-sweep.ts`). Both are logged and
 * counted in `arca_tmp_swept_files_total` / `arca_tmp_swept_bytes_total` by reason.
 * Resumable OCI upload sessions are not temp files: garbage collection expires them.
 */
export class TempHousekeeping {
  private readonly files;
  private readonly bytes;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(private readonly opts: TempHousekeepingOptions) {
    this.files = opts.metrics.counter('arca_tmp_swept_files_total', 'Temp files (partial uploads, staging files) removed as provably dead, by reason');
    this.bytes = opts.metrics.counter('arca_tmp_swept_bytes_total', 'Bytes of temp files removed as provably dead, by reason');
  }

  dirs(): string[] {
    return [...new Set([...this.opts.dirs, ...tempDirs()])];
  }

  /** One sweep now; `when` names it in the log line. */
  async sweep(when: 'start' | 'periodic'): Promise<SweepResult> {
    const nodes = await this.opts.nodeRuns();
    const legacyDead = when === 'start' && this.opts.legacyDeadAtStart === true;
    const result = await sweepTempDirs(this.dirs(), { self: tempOwner(), nodes, processAlive, now: this.opts.clock.now(), staleMs: this.opts.staleMs, legacyDead });
    for (const [reason, r] of Object.entries(result.byReason)) {
      this.files.inc({ reason, when }, r.files);
      this.bytes.inc({ reason, when }, r.bytes);
    }
    if (result.files > 0) {
      const what = when === 'start' ? 'leftovers of earlier runs and dead processes at start' : 'dead temp files in the periodic sweep';
      this.opts.log.warn({ files: result.files, bytes: result.bytes, byReason: result.byReason, dirs: this.dirs() }, `temp files: removed ${result.files} ${what} (${result.bytes} bytes)`);
    }
    return result;
  }

  start(): void {
    if (this.opts.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      this.running ??= this.sweep('periodic')
        .catch((err: unknown) => this.opts.log.warn({ err }, 'temp files: the periodic sweep failed'))
        .finally(() => (this.running = undefined));
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
