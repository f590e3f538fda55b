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

/** RssAnon + RssShmem and RssFile of one process in bytes (its private pages, and its pages of files such as the node binary). */
export function rssPartsOf(pid: number): { own: number; file: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { own: kb('RssAnon') + kb('RssShmem'), file: kb('RssFile') };
  } catch {
    return undefined;
  }
}

export interface TreeRss {
  total: number;
  perProcess: Record<number, number>;
  /**
   * What the tree costs the machine: every process's own pages, plus the file pages of the
   * process with the most (the node binary's pages, about 38 MB resident in each process of
   * a node, are the same physical pages in all of them). Not PSS: PSS divides shared pages by
   * every process on the machine that maps them, other node programs included.
   */
  fileOnce: number;
}

export function treeRss(root: number): TreeRss {
  const perProcess: Record<number, number> = {};
  let total = 0;
  let own = 0;
  let file = 0;
  for (const pid of processTree(root)) {
    const rss = rssOf(pid);
    if (rss === undefined) continue;
    perProcess[pid] = rss;
    total += rss;
    const parts = rssPartsOf(pid);
    own += parts?.own ?? 0;
    file = Math.max(file, parts?.file ?? 0);
  }
  return { total, perProcess, fileOnce: own + file };
}

export interface RssPeak {
  /** Highest sum over the tree seen in one sample. */
  peakTotal: number;
  /** The per-process figures of that sample. */
  atPeak: Record<number, number>;
  /** Highest figure of each process on its own. */
  peakPerProcess: Record<number, number>;
  /** Highest `fileOnce` of the tree seen in one sample. */
  peakFileOnce: number;
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
    this.peak = { peakTotal: 0, atPeak: {}, peakPerProcess: {}, peakFileOnce: 0, samples: 0, intervalMs, processes: 0 };
  }

  private sample(): void {
    const s = treeRss(this.root);
    this.peak.samples++;
    if (s.total > this.peak.peakTotal) {
      this.peak.peakTotal = s.total;
      this.peak.atPeak = s.perProcess;
    }
    this.peak.peakFileOnce = Math.max(this.peak.peakFileOnce, s.fileOnce);
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
