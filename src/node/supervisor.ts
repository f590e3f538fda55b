import cluster, { type Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PRIVATE_UMASK } from '../config/private-modes.js';
import { mergeSnapshots, type RegistrySnapshot } from '../metrics/registry.js';
import type { RunningNode, ServeOptions } from './server.js';

/**
 * Everything that serves requests (Fastify, the services, the database drivers) is loaded
 * only by processes that serve; the primary of a multi-worker node stays a small supervisor.
 */
const loadServer = () => import('./server.js');

/** Gauges that read shared state (the database); summing them across workers would be wrong. */
const SHARED_GAUGES = new Set(['arca_binaries_count', 'arca_binaries_bytes', 'arca_binaries_md5_pending']);

type Msg =
  | { t: 'metrics-request'; id: number }
  | { t: 'metrics-collect'; id: number }
  | { t: 'metrics-snapshot'; id: number; snapshot: RegistrySnapshot }
  | { t: 'metrics-result'; id: number; snapshot: RegistrySnapshot }
  | { t: 'initialised' }
  | { t: 'ready'; address: string }
  | { t: 'hello' }
  | { t: 'go' };

export interface StartOptions extends Omit<ServeOptions, 'init' | 'singletons' | 'collectMetrics'> {
  workers: number;
  /** `arca.workerHeapMb`: initial old-generation size of each worker's V8 heap, in MiB (0: V8's default). */
  workerHeapMb?: number;
}

/** Semi-space of a worker's young generation, in MiB (V8's default grows it to 16 under load). */
export const WORKER_SEMI_SPACE_MB = 2;

/**
 * The node options of a worker process: the supervisor's, plus (each unless the operator gave
 * it):
 * - `--initial-old-space-size` (`arca.workerHeapMb`). V8 counts the bytes of every new Buffer
 *   (an upload's body chunks, a download's reads) against the old generation's limit until
 *   the next full collection; with the default limit of a small heap (about twice what is
 *   live), streaming a large blob starts a full mark-compact every few megabytes: during an
 *   image push, about 40 % of the node's CPU. A larger initial old space keeps the limit well
 *   above them until the live heap itself grows.
 * - `--max-semi-space-size=2`: V8 grows each of the young generation's two semi-spaces to
 *   16 MiB under load, and a worker keeps them; 2 MiB costs a busy worker a few more
 *   scavenges and saves it up to 28 MB.
 * - `--expose-gc`, so that uploads can pace young collections by the bytes they receive
 *   (core/young-gc.ts).
 * docs/performance.md ("Memory", "The V8 heap of the workers") has the measurements.
 */
export function workerExecArgv(execArgv: readonly string[], heapMb: number | undefined): string[] {
  const args = [...execArgv];
  const given = (flag: string) => args.some((a) => new RegExp(`^--${flag.replace(/-/g, '[-_]')}(=|$)`).test(a));
  if (heapMb && heapMb > 0 && !given('initial-old-space-size')) args.push(`--initial-old-space-size=${heapMb}`);
  if (!given('max-semi-space-size')) args.push(`--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`);
  if (!given('expose-gc')) args.push('--expose-gc');
  return args;
}

/**
 * glibc malloc settings of a worker process, each unless the supervisor's own environment
 * has it (glibc reads them once, when the worker's malloc starts):
 * - `MALLOC_ARENA_MAX=2`: glibc gives each thread that allocates its own arena (up to eight
 *   per CPU), and keeps every arena's pages after they are freed. A worker's threads (V8's
 *   platform threads, libuv's pool, the two digest threads of an upload) then each hold a few
 *   MB; two arenas shared by all of them hold less.
 * - `MALLOC_TRIM_THRESHOLD_=1048576` and `MALLOC_MMAP_THRESHOLD_=131072`: the free memory at
 *   the top of a heap is given back once it reaches 1 MiB, and blocks of 128 KiB or more are
 *   mapped on their own (given back when freed). Without them glibc raises both thresholds
 *   (up to 32 and 64 MB) the first time a large block is freed, and a worker keeps what an
 *   upload's socket reads left behind.
 * docs/performance.md ("Memory") has the measurements.
 */
export const WORKER_MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_TRIM_THRESHOLD_: String(1 << 20),
  MALLOC_MMAP_THRESHOLD_: String(128 << 10),
};

/** The variables of WORKER_MALLOC_ENV that `env` (the supervisor's environment) does not set. */
export function workerMallocEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(WORKER_MALLOC_ENV).filter(([k]) => env[k] === undefined || env[k] === ''));
}

function installSignals(stop: (reason: string) => Promise<void>): void {
  let stopping = false;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    // Later signals are ignored, so the drain runs to its end: under systemd (KillMode
    // control-group) or a terminal's Ctrl-C a worker gets the signal both directly and from its
    // supervisor. SIGKILL still stops a node at once.
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      stop(sig).then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}

/** The supervisor's few log lines, in the same JSON shape as the workers' (stdout and arca.log). */
function supervisorLog(home: string) {
  const dir = join(resolve(home), 'logs');
  return (level: 'info' | 'warn' | 'error', msg: string, extra: Record<string, unknown> = {}) => {
    const line = JSON.stringify({ level: { info: 30, warn: 40, error: 50 }[level], time: new Date().toISOString(), pid: process.pid, ...extra, msg }) + '\n';
    process.stdout.write(line);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      appendFileSync(join(dir, 'arca.log'), line, { mode: 0o600 });
    } catch {
      // the home may not exist yet when the first worker fails before creating it
    }
  };
}

/** Runs one node in this process (no workers). */
async function runSingle(options: StartOptions): Promise<void> {
  const { serve } = await loadServer();
  const node = await serve({ ...options, init: true, singletons: true });
  node.ctx.log.info(`Arca is up at ${node.address}/artifactory (1 process)`);
  installSignals((reason) => node.stop(reason));
}

/**
 * Primary of a multi-worker node. Worker 0 does the start-up duties (home layout, master key,
 * migrations, first admin, banner) and runs the node's singletons; the other workers load
 * their code meanwhile and open the database once worker 0 says it is initialised.
 */
async function runPrimary(options: StartOptions): Promise<void> {
  const log = supervisorLog(options.home);
  const workers = new Map<number, { worker: Worker; index: number }>();
  const pending = new Map<number, { requester: Worker; want: number; got: RegistrySnapshot[] }>();
  let initialised = false;
  let stopping = false;
  let readyCount = 0;
  // One id for this start of the node: a replaced worker 0 re-registers as the same node.
  const instance = randomUUID();

  const broadcast = (msg: Msg) => {
    for (const { worker } of workers.values()) if (worker.isConnected()) worker.send(msg);
  };
  const finish = (id: number) => {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    if (p.requester.isConnected()) p.requester.send({ t: 'metrics-result', id, snapshot: mergeSnapshots(p.got, SHARED_GAUGES) } satisfies Msg);
  };

  const fork = (index: number) => {
    const worker = cluster.fork({ ...workerMallocEnv(process.env), ARCA_WORKER_INDEX: String(index), ARCA_WORKER_INIT: index === 0 ? '1' : '0', ARCA_NODE_INSTANCE: instance });
    workers.set(worker.id, { worker, index });
    worker.on('message', (msg: Msg) => {
      if (msg.t === 'hello') {
        if (initialised) worker.send({ t: 'go' } satisfies Msg);
      } else if (msg.t === 'initialised') {
        initialised = true;
        broadcast({ t: 'go' });
      } else if (msg.t === 'ready') {
        readyCount++;
        if (readyCount === options.workers) log('info', `Arca is up at ${msg.address}/artifactory (${options.workers} workers)`);
      } else if (msg.t === 'metrics-request') {
        const live = [...workers.values()].filter((w) => w.worker.isConnected());
        pending.set(msg.id, { requester: worker, want: live.length, got: [] });
        for (const w of live) w.worker.send({ t: 'metrics-collect', id: msg.id } satisfies Msg);
        setTimeout(() => finish(msg.id), 2000).unref();
      } else if (msg.t === 'metrics-snapshot') {
        const p = pending.get(msg.id);
        if (!p) return;
        p.got.push(msg.snapshot);
        if (p.got.length >= p.want) finish(msg.id);
      }
    });
    worker.on('exit', (code, signal) => {
      workers.delete(worker.id);
      if (stopping) return;
      if (!initialised) {
        // Start-up failed (the worker printed why): stop the node instead of retrying forever.
        stopping = true;
        for (const { worker: w } of workers.values()) w.process.kill('SIGKILL');
        process.exitCode = code || 1;
        return;
      }
      log('error', 'worker exited unexpectedly; starting a new one', { code, signal, index });
      setTimeout(() => {
        if (!stopping) fork(index);
      }, 500);
    });
  };

  cluster.setupPrimary({ execArgv: workerExecArgv(process.execArgv, options.workerHeapMb) });
  for (let i = 0; i < options.workers; i++) fork(i);

  installSignals(async (reason) => {
    stopping = true;
    log('info', 'stopping workers', { reason });
    const exits = [...workers.values()].map(
      ({ worker }) =>
        new Promise<void>((resolveExit) => {
          if (worker.isDead()) return resolveExit();
          worker.once('exit', () => resolveExit());
          worker.process.kill('SIGTERM');
        }),
    );
    await Promise.all(exits);
    log('info', 'all workers stopped');
  });
}

/** Worker: serves HTTP; worker 0 also does the start-up duties and runs the singletons. */
async function runWorker(options: StartOptions): Promise<void> {
  const initWorker = process.env.ARCA_WORKER_INIT === '1';
  let nextId = 1;
  const waiting = new Map<number, (s: RegistrySnapshot) => void>();
  let node: RunningNode | undefined;
  let go!: () => void;
  const told = new Promise<void>((r) => (go = r));
  process.on('message', (msg: Msg) => {
    if (msg.t === 'go') go();
    else if (msg.t === 'metrics-collect' && node) {
      const n = node;
      n.ctx.metrics
        .collect()
        .catch(() => undefined)
        .then(() => process.send?.({ t: 'metrics-snapshot', id: msg.id, snapshot: n.ctx.metrics.snapshot() } satisfies Msg));
    } else if (msg.t === 'metrics-result') {
      waiting.get(msg.id)?.(msg.snapshot);
      waiting.delete(msg.id);
    }
  });
  const { serve } = await loadServer();
  if (!initWorker) {
    process.send?.({ t: 'hello' } satisfies Msg);
    await told;
  }
  node = await serve({
    ...options,
    init: initWorker,
    printBanner: initWorker,
    singletons: initWorker,
    onInitialised: () => {
      if (initWorker) process.send?.({ t: 'initialised' } satisfies Msg);
    },
    collectMetrics: (local) =>
      new Promise((resolveMetrics) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          waiting.delete(id);
          resolveMetrics(local());
        }, 3000);
        waiting.set(id, (s) => {
          clearTimeout(timer);
          resolveMetrics(s);
        });
        process.send?.({ t: 'metrics-request', id } satisfies Msg);
      }),
  });
  process.send?.({ t: 'ready', address: node.address } satisfies Msg);
  const running = node;
  installSignals((reason) => running.stop(reason));
}

/** `arca start`: one process, or a primary with `workers` worker processes. */
export async function start(options: StartOptions): Promise<void> {
  // Data at rest is private: everything a node process creates (the database and its -wal
  // and -shm, logs, staged and stored binaries, backups) is 0600, every directory 0700.
  process.umask(PRIVATE_UMASK);
  if (cluster.isWorker) return runWorker(options);
  if (options.workers <= 1) return runSingle(options);
  return runPrimary(options);
}
