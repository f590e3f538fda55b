import cluster, { type Worker } from 'node:cluster';
import { mergeSnapshots, type RegistrySnapshot } from '../metrics/registry.js';
import { banner, createNodeContext } from './context.js';
import { serve, type RunningNode, type ServeOptions } from './server.js';

/** Gauges that read shared state (the database); summing them across workers would be wrong. */
const SHARED_GAUGES = new Set(['arca_binaries_count', 'arca_binaries_bytes']);

type Msg =
  | { t: 'metrics-request'; id: number }
  | { t: 'metrics-collect'; id: number }
  | { t: 'metrics-snapshot'; id: number; snapshot: RegistrySnapshot }
  | { t: 'metrics-result'; id: number; snapshot: RegistrySnapshot }
  | { t: 'ready'; address: string };

export interface StartOptions extends Omit<ServeOptions, 'init' | 'singletons' | 'collectMetrics'> {
  workers: number;
}

function installSignals(stop: (reason: string) => Promise<void>): void {
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      stop(sig).then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}

/** Runs one node in this process (no workers). */
async function runSingle(options: StartOptions): Promise<void> {
  const node = await serve({ ...options, init: true, singletons: true });
  node.ctx.log.info(`Arca is up at ${node.address}/artifactory (1 process)`);
  installSignals((reason) => node.stop(reason));
}

/** Primary: start-up duties once, then one worker per core sharing the port. */
async function runPrimary(options: StartOptions): Promise<void> {
  const ctx = await createNodeContext({ ...options, init: true });
  ctx.log.info(banner(ctx));
  const log = ctx.log;
  await ctx.close();

  const workers = new Map<number, { worker: Worker; index: number }>();
  let stopping = false;
  let readyCount = 0;
  const pending = new Map<number, { requester: Worker; want: number; got: RegistrySnapshot[] }>();

  const fork = (index: number) => {
    const worker = cluster.fork({ ARCA_WORKER_INDEX: String(index), ARCA_WORKER_SINGLETONS: index === 0 ? '1' : '0' });
    workers.set(worker.id, { worker, index });
    worker.on('message', (msg: Msg) => {
      if (msg.t === 'ready') {
        readyCount++;
        if (readyCount === options.workers) log.info(`Arca is up at ${msg.address}/artifactory (${options.workers} workers)`);
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
      log.error({ code, signal, index }, 'worker exited unexpectedly; starting a new one');
      setTimeout(() => {
        if (!stopping) fork(index);
      }, 500);
    });
  };
  const finish = (id: number) => {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    if (p.requester.isConnected()) p.requester.send({ t: 'metrics-result', id, snapshot: mergeSnapshots(p.got, SHARED_GAUGES) } satisfies Msg);
  };

  for (let i = 0; i < options.workers; i++) fork(i);

  installSignals(async (reason) => {
    stopping = true;
    log.info({ reason }, 'stopping workers');
    const exits = [...workers.values()].map(
      ({ worker }) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve();
          worker.once('exit', () => resolve());
          worker.process.kill('SIGTERM');
        }),
    );
    await Promise.all(exits);
    log.info('all workers stopped');
    log.flush();
  });
}

/** Worker: serves HTTP; worker 0 also runs the node's singletons. */
async function runWorker(options: StartOptions): Promise<void> {
  let nextId = 1;
  const waiting = new Map<number, (s: RegistrySnapshot) => void>();
  let node: RunningNode | undefined;
  process.on('message', (msg: Msg) => {
    if (msg.t === 'metrics-collect' && node) {
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
  node = await serve({
    ...options,
    init: false,
    printBanner: false,
    singletons: process.env.ARCA_WORKER_SINGLETONS === '1',
    collectMetrics: (local) =>
      new Promise((resolve) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          waiting.delete(id);
          resolve(local());
        }, 3000);
        waiting.set(id, (s) => {
          clearTimeout(timer);
          resolve(s);
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
  if (cluster.isWorker) return runWorker(options);
  if (options.workers <= 1) return runSingle(options);
  return runPrimary(options);
}
