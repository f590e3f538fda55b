/**
 * Child processes of the benchmark: every process it starts runs in its own process group
 * (detached), is remembered here, and is killed as a whole group on stop, on failure, on a
 * signal or at exit, so no server, worker, wrk or curl outlives the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, rmSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const groups = new Set<number>();
const tempDirs = new Set<string>();

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until no process of the group is left (exited workers are reaped by init). */
async function waitGroupGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (groupAlive(pgid)) {
    if (performance.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

function register(child: ChildProcess): number {
  if (child.pid === undefined) throw new Error(`could not start ${child.spawnfile}`);
  groups.add(child.pid);
  return child.pid;
}

/** Registers a directory to remove at the end (also on failure and at exit). */
export function registerTempDir(dir: string): void {
  tempDirs.add(dir);
}

export function forgetTempDir(dir: string): void {
  tempDirs.delete(dir);
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
  timedOut: boolean;
}

export interface RunOptions {
  timeoutMs: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

const MAX_CAPTURE = 1 << 20;

/** Runs a command to completion in its own process group; never rejects for a non-zero exit. */
export function run(cmd: string, args: string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let ms = 0;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    child.stdout!.on('data', (d: Buffer) => {
      if (stdout.length < MAX_CAPTURE) stdout += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < MAX_CAPTURE) stderr += d.toString();
    });
    child.once('error', (err) => {
      if (child.pid !== undefined) groups.delete(child.pid);
      clearTimeout(timer);
      reject(new Error(`${cmd}: ${err.message}`));
    });
    if (child.pid === undefined) return; // 'error' follows
    const pgid = register(child);
    timer = setTimeout(() => {
      timedOut = true;
      killGroup(pgid, 'SIGKILL');
    }, opts.timeoutMs);
    child.once('exit', () => {
      ms = performance.now() - started;
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      killGroup(pgid, 'SIGKILL'); // anything the command left behind in its group
      groups.delete(pgid);
      resolve({ code, signal, stdout, stderr, ms, timedOut });
    });
  });
}

/** Throws with the command's stderr when it failed. */
export function check(r: RunResult, what: string): RunResult {
  if (r.timedOut) throw new Error(`${what}: timed out after ${Math.round(r.ms / 1000)} s`);
  if (r.code !== 0) {
    const why = r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`;
    throw new Error(`${what}: ${why}${r.stderr.trim() ? `\n${tail(r.stderr, 20)}` : ''}`);
  }
  return r;
}

export function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export interface Daemon {
  child: ChildProcess;
  pid: number;
  exited: Promise<void>;
  /** Sends `signal` to the main process, waits for the group to go, then kills what is left. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/** Starts a long-running server in its own process group with its output going to `logFd`. */
export function startDaemon(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; logFd: number; cwd?: string }): Daemon {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', opts.logFd, opts.logFd], detached: true });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const pid = register(child);
  let stopping: Promise<void> | undefined;
  const stop = (signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000) => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          child.kill(signal);
        } catch {
          // gone
        }
      }
      if (!(await waitGroupGone(pid, graceMs))) {
        killGroup(pid, 'SIGKILL');
        await waitGroupGone(pid, 5_000);
      }
      await Promise.race([exited, sleep(2_000)]);
      groups.delete(pid);
    })();
    return stopping;
  };
  return { child, pid, exited, stop };
}

/** Last-resort clean-up, synchronous so it also works from process.on('exit'). */
export function killEverythingSync(): void {
  for (const pgid of groups) killGroup(pgid, 'SIGKILL');
  groups.clear();
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }
  tempDirs.clear();
}

/** Removes the registered temp dirs (after the daemons were stopped). */
export function removeTempDirs(): void {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

export function liveGroups(): number[] {
  return [...groups].filter(groupAlive);
}

/** Finds a command on PATH, also in the sbin directories a non-root PATH may lack. */
export function which(cmd: string, extra: string[] = ['/usr/sbin', '/sbin', '/usr/local/sbin']): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...extra];
  for (const d of dirs) {
    const p = `${d}/${cmd}`;
    if (isExecutable(p)) return p;
  }
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
