/**
 * How busy the machine was during a measurement, and how much of that was not this benchmark
 * (its servers, wrk, curl, cp): other work on a shared 2-core machine skews every figure.
 */
import { readFileSync } from 'node:fs';
import { processTree } from './rss.js';

function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'latin1').split('\n')[0]; // "cpu  user nice system idle iowait irq softirq steal ..."
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  const busy = user + nice + system + irq + softirq + (steal ?? 0);
  return { busy, total: busy + idle + (iowait ?? 0) };
}

/** CPU ticks of this process and everything below it, including children they already reaped. */
function ownTicks(): number {
  let sum = 0;
  for (const pid of processTree(process.pid)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields 14-17 of stat (utime stime cutime cstime) are 11-14 after "pid (comm) ".
      sum += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      // exited meanwhile; its ticks reach its parent's cutime once reaped
    }
  }
  return sum;
}

export interface CpuUse {
  /** Share of all cores in use, 0..1. */
  busy: number;
  /** Share of all cores used by the benchmark's own processes. */
  own: number;
  /** Share of all cores used by everything else on the machine. */
  foreign: number;
  seconds: number;
}

/** Starts a measurement window; call the returned function at its end. */
export function cpuWindow(): () => CpuUse {
  const m0 = machineTicks();
  const o0 = ownTicks();
  const t0 = performance.now();
  return () => {
    const m1 = machineTicks();
    const o1 = ownTicks();
    const total = m1.total - m0.total;
    if (total <= 0) return { busy: 0, own: 0, foreign: 0, seconds: (performance.now() - t0) / 1000 };
    const busy = (m1.busy - m0.busy) / total;
    const own = Math.min(busy, Math.max(0, (o1 - o0) / total));
    return { busy, own, foreign: Math.max(0, busy - own), seconds: (performance.now() - t0) / 1000 };
  };
}

export function fmtCpu(c: CpuUse | undefined): string {
  return c ? `${Math.round(c.foreign * 100)} %` : '—';
}
