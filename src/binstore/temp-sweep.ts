import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isOwnInstance, isTempName, parseTempName, tempOwner, type TempOwner } from './temp-files.js';

/** Why a temp file was removed (the `reason` label of `arca_tmp_swept_*_total`). */
export type SweepReason = 'process-gone' | 'node-not-running' | 'legacy' | 'stale';

/** A node start as the registry knows it. */
export interface NodeRun {
  instance: string;
  state: string;
}

/** What a sweep knows of the world. */
export interface SweepView {
  self: TempOwner;
  /**
   * The registry's nodes by id (their current instance and state); undefined when unknown,
   * and then no file is judged by its node.
   */
  nodes?: Map<string, NodeRun>;
  /** Whether a process runs on this host. */
  processAlive: (pid: number) => boolean;
  now: number;
  /** Any temp file untouched this long is a leftover, whoever wrote it. */
  staleMs: number;
  /**
   * Files named before temp files named their owner are dead: true where no older Arca can
   * be writing to the directory now (a standalone node's own temp directory, a local cache).
   */
  legacyDead?: boolean;
}

/** States in which a node may still write its temp files (a STOPPING node finishes its uploads). */
const LIVE_STATES = new Set(['STARTING', 'RUNNING', 'STOPPING', 'UNAVAILABLE']);

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const instanceTag = (instance: string) => instance.replace(/[^0-9a-zA-Z]/g, '').slice(0, 16);

/**
 * Whether a temp file is provably dead, and why; undefined while it may still be in use.
 *
 * - a file of this host whose process is gone (or whose pid is this process's but from an
 *   earlier start) is dead: `process-gone`;
 * - a file of a live process on this host is kept (this process's own files always are);
 * - a file of another host is dead when its node is not registered, has started again since
 *   (another instance), or is STOPPED: `node-not-running`. A node heard of as STARTING,
 *   RUNNING, STOPPING, or UNAVAILABLE (a stale heartbeat: it may be paused, not dead) keeps
 *   its files;
 * - a legacy name (no owner) is dead where `legacyDead` says no older Arca writes here: `legacy`;
 * - any file, legacy names included, untouched for `staleMs` is dead: `stale`.
 */
export function verdict(name: string, mtimeMs: number, view: SweepView): SweepReason | undefined {
  const parsed = parseTempName(name);
  const self = view.self;
  if (parsed) {
    const o = parsed.owner;
    if (o.host === self.host) {
      if (o.pid === self.pid) {
        if (o.instance === self.instance || isOwnInstance(o.instance)) return undefined;
        return 'process-gone';
      }
      if (!view.processAlive(o.pid)) return 'process-gone';
      if (view.now - mtimeMs > view.staleMs) return 'stale';
      return undefined;
    }
    if (view.nodes) {
      const run = view.nodes.get(o.node);
      if (!run || instanceTag(run.instance) !== o.instance || !LIVE_STATES.has(run.state)) return 'node-not-running';
    }
  } else if (view.legacyDead) return 'legacy';
  return view.now - mtimeMs > view.staleMs ? 'stale' : undefined;
}

export interface SweepResult {
  files: number;
  bytes: number;
  byReason: Partial<Record<SweepReason, { files: number; bytes: number }>>;
}

export const emptySweep = (): SweepResult => ({ files: 0, bytes: 0, byReason: {} });

/**
 * Removes the dead temp files directly in `dirs` (see `verdict`); files whose names are not
 * Arca's temp names are never touched. Returns what was removed.
 */
export async function sweepTempDirs(dirs: Iterable<string>, view: SweepView): Promise<SweepResult> {
  const out = emptySweep();
  for (const dir of new Set(dirs)) {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!isTempName(name)) continue;
      const file = join(dir, name);
      const st = await stat(file).catch(() => undefined);
      if (!st?.isFile()) continue;
      const reason = verdict(name, st.mtimeMs, view);
      if (!reason) continue;
      try {
        await rm(file);
      } catch {
        continue; // gone meanwhile (its writer finished, or another node swept it)
      }
      out.files++;
      out.bytes += st.size;
      const r = (out.byReason[reason] ??= { files: 0, bytes: 0 });
      r.files++;
      r.bytes += st.size;
    }
  }
  return out;
}

/**
 * A sweep of one directory with only what this host can prove (no registry): files of gone
 * processes and files untouched for `staleMs`. For providers that clean their own staging
 * area when they start.
 */
export function sweepLocalTemp(dir: string, staleMs: number, legacyDead = false): Promise<SweepResult> {
  return sweepTempDirs([dir], { self: tempOwner(), processAlive, now: Date.now(), staleMs, legacyDead });
}
