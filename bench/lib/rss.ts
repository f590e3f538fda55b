/** Resident memory of a process tree, from /proc (Linux only). */
import { readdirSync, readFileSync } from 'node:fs';

/** The parent pid of every live process, from /proc/<pid>/stat. */
function parentMap(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      // "pid (comm) state ppid ..." where comm may hold spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(name), Number(fields[1]));
    } catch {
      // exited meanwhile
    }
  }
  return parents;
}

/** `root` and all its descendants that are alive now. */
export function processTree(root: number): number[] {
  const parents = parentMap();
  if (!parents.has(root)) return [];
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents) {
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** VmRSS of one process in bytes; undefined when it is gone (or a zombie, which has none). */
export function rssOf(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Proportional set size of one process in bytes: its resident pages, each shared one divided
 * by the number of processes sharing it. The node binary's pages, about 38 MB resident in
 * every process of a node, count once over the tree instead of once per process.
 */
export function pssOf(pid: number): number | undefined {
  try {
    const m = /^Pss:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface TreeRss {
  total: number;
  perProcess: Record<number, number>;
  /** PSS summed over the tree (what the tree costs the machine); 0 where smaps_rollup is missing. */
  pssTotal: number;
}

export function treeRss(root: number): TreeRss {
  const perProcess: Record<number, number> = {};
  let total = 0;
  let pssTotal = 0;
  for (const pid of processTree(root)) {
    const rss = rssOf(pid);
    if (rss === undefined) continue;
    perProcess[pid] = rss;
    total += rss;
    pssTotal += pssOf(pid) ?? 0;
  }
  return { total, perProcess, pssTotal };
}

export interface RssPeak {
  /** Highest sum over the tree seen in one sample. */
  peakTotal: number;
  /** The per-process figures of that sample. */
  atPeak: Record<number, number>;
  /** Highest figure of each process on its own. */
  peakPerProcess: Record<number, number>;
  /** Highest PSS sum over the tree seen in one sample. */
  peakPss: number;
  samples: number;
  intervalMs: number;
  /** Processes seen in the tree. */
  processes: number;
}

/** Samples the tree's summed VmRSS every `intervalMs` until stopped. */
export class TreeRssSampler {
  private timer: NodeJS.Timeout | undefined;
  private readonly peak: RssPeak;

  constructor(
    private readonly root: number,
    private readonly intervalMs = 50,
  ) {
    this.peak = { peakTotal: 0, atPeak: {}, peakPerProcess: {}, peakPss: 0, samples: 0, intervalMs, processes: 0 };
  }

  private sample(): void {
    const s = treeRss(this.root);
    this.peak.samples++;
    if (s.total > this.peak.peakTotal) {
      this.peak.peakTotal = s.total;
      this.peak.atPeak = s.perProcess;
    }
    this.peak.peakPss = Math.max(this.peak.peakPss, s.pssTotal);
    for (const [pid, rss] of Object.entries(s.perProcess)) {
      const k = Number(pid);
      if (rss > (this.peak.peakPerProcess[k] ?? 0)) this.peak.peakPerProcess[k] = rss;
    }
    this.peak.processes = Math.max(this.peak.processes, Object.keys(this.peak.peakPerProcess).length);
  }

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  stop(): RssPeak {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
    return this.peak;
  }
}
