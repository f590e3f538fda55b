/**
 * `npm run bench -- --replication`: replication between two sites on this machine.
 *
 * Site A: three Arca nodes (one process each) on a PostgreSQL of their own behind nginx; site
 * B: one node on another PostgreSQL (test/e2e/harness/two-sites.ts, the e2e test's harness).
 * Replication is configured through the REST API with a non-admin user of B.
 *
 * - Lag: a steady 50 deploys/s (4 KiB each, open loop: one deploy started every 20 ms
 *   whatever the previous ones do) to A through nginx for LAG_S seconds, with event
 *   replication to B. B's folders with deploys not seen yet are listed every 50 ms; lag =
 *   the first listing on B that shows a deploy − its 201 on A. p50 and p99 of the steady
 *   state: the same load runs for ARCA_BENCH_REPL_WARM seconds (10) first, right after the
 *   sites started, and its p99 is printed apart (new processes: JIT, pools, caches).
 * - Throughput: 10,000 files of 107,374 bytes (1 GiB) deployed to A, then a scheduled run
 *   (POST /api/replication/execute) copies them to an empty repository on B; its time runs
 *   from the execute request to the run record's completion. The reference: the same number
 *   and size of files (other random bytes, so B's content-addressed store cannot skip
 *   them) uploaded to B by one `curl --parallel --parallel-max P` as the same B user,
 *   in the same run, before the scheduled run. P is the runner's own concurrency.
 */
import { randomFillSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ADMIN_AUTH } from '../test/helpers/credentials.js';
import { NGINX } from '../test/e2e/harness/cluster.js';
import { pushBody, REPLICATOR, runState, Site, sleep } from '../test/e2e/harness/two-sites.js';
import { REPO_ROOT } from './lib/arca.js';
import { run, which } from './lib/proc.js';
import { cpuWindow, type CpuUse } from './lib/cpu.js';
import { makeRow, median, renderTable, type Row } from './lib/report.js';

const MB = 1e6;
const RATE = 50;
const FILE_SIZE = 107_374;
/** The scheduled run's parallel sends per target (the runner's default, PushRunOptions.parallel); curl gets the same. */
const RUNNER_PARALLELISM = Number(process.env.ARCA_BENCH_REPL_PARALLEL ?? 8);
/** ARCA_BENCH_REPL_ONLY=lag|throughput runs one part (say, to profile it with ARCA_TEST_NODE_ARGS); both by default. */
const ONLY = process.env.ARCA_BENCH_REPL_ONLY;
/** ARCA_BENCH_REPL_WARM: seconds of the same load before the lag is measured (default 10; 0: none). */
const WARM_S = Number(process.env.ARCA_BENCH_REPL_WARM ?? 10);

function log(msg: string): void {
  process.stderr.write(`[bench --replication ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

interface LagResult {
  started: number;
  acknowledged: number;
  refused: number;
  neverReadable: number;
  lagsMs: number[];
  /** The worst lag of the deploys acknowledged in each second of the run (where the tail comes from). */
  worstBySecond: number[];
  achievedRate: number;
}

/**
 * Open-loop deploys at `rate`/s for `seconds`. One poller watches B: every 50 ms it lists each
 * folder (100 deploys each) that still has deploys not seen on B (`GET /api/storage/{repo}/{folder}`,
 * its children), so the polling costs B a few requests per cycle however far behind it is,
 * and a deploy's lag is the time of the first listing that shows it minus its 201 on A.
 * Every 5 s the status API's queue depth of the target is logged.
 */
async function measureLag(a: Site, b: Site, seconds: number, rate: number, prefix = 'lag'): Promise<LagResult> {
  const res: LagResult = { started: 0, acknowledged: 0, refused: 0, neverReadable: 0, lagsMs: [], worstBySecond: [], achievedRate: 0 };
  const total = seconds * rate;
  const folderOf = (i: number) => `${prefix}/${Math.floor(i / 100)}`;
  const waiting = new Map<string, Map<string, number>>(); // folder → name → ack time
  let deploying = true;
  const t0 = performance.now();
  const one = async (i: number) => {
    const name = `d-${i}.bin`;
    const body = randomFillSync(Buffer.alloc(4096));
    const r = await fetch(`${a.base}/lag-src/${folderOf(i)}/${name}`, { method: 'PUT', headers: { authorization: ADMIN_AUTH }, body }).catch(() => undefined);
    await r?.arrayBuffer();
    if (r?.status !== 201) {
      res.refused++;
      return;
    }
    res.acknowledged++;
    const folder = folderOf(i);
    if (!waiting.has(folder)) waiting.set(folder, new Map());
    waiting.get(folder)!.set(name, performance.now());
  };
  const poller = (async () => {
    while (deploying || waiting.size > 0) {
      await Promise.all(
        [...waiting.keys()].map(async (folder) => {
          const r = await fetch(`${b.base}/api/storage/lag-src/${folder}`, { headers: { authorization: ADMIN_AUTH } }).catch(() => undefined);
          const at = performance.now();
          const names = r?.status === 200 ? new Set(((await r.json()) as { children?: { uri: string }[] }).children?.map((c) => c.uri.replace(/^\//, '')) ?? []) : new Set<string>();
          if (r && r.status !== 200) await r.arrayBuffer();
          const w = waiting.get(folder)!;
          for (const [name, ackAt] of w) {
            if (names.has(name)) {
              res.lagsMs.push(at - ackAt);
              const second = Math.floor((ackAt - t0) / 1000);
              res.worstBySecond[second] = Math.max(res.worstBySecond[second] ?? 0, Math.round(at - ackAt));
              w.delete(name);
            } else if (at - ackAt > 300_000) {
              res.neverReadable++;
              w.delete(name);
            }
          }
          if (w.size === 0) waiting.delete(folder);
        }),
      );
      await sleep(50);
    }
  })();
  const depth = setInterval(() => {
    void a
      .api('GET', '/api/replication/lag-src')
      .then(async (r) => (await r.json()) as { targets?: { queue?: unknown }[] })
      .then((s) => log(`queue on A: ${JSON.stringify(s.targets?.[0]?.queue)}`))
      .catch(() => undefined);
  }, 5000);
  const tasks: Promise<void>[] = [];
  try {
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      res.started++;
      tasks.push(one(i));
    }
    res.achievedRate = res.started / ((performance.now() - t0) / 1000);
    await Promise.all(tasks);
  } finally {
    deploying = false;
    await poller;
    clearInterval(depth);
  }
  res.lagsMs.sort((x, y) => x - y);
  res.worstBySecond = Array.from(res.worstBySecond, (v) => v ?? 0);
  return res;
}

/** `count` files of FILE_SIZE random bytes under `dir`; returns their relative paths. */
function writeFiles(dir: string, count: number): string[] {
  const buf = Buffer.alloc(FILE_SIZE);
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const rel = `d${Math.floor(i / 100)}/f-${i}.bin`;
    mkdirSync(join(dir, `d${Math.floor(i / 100)}`), { recursive: true });
    writeFileSync(join(dir, rel), randomFillSync(buf));
    paths.push(rel);
  }
  return paths;
}

/** Deploys the files to `repo` on `site` with `concurrency` clients (setup, not measured). */
async function deployFiles(site: Site, repo: string, dir: string, paths: string[], concurrency: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < paths.length; i = next++) {
      const r = await fetch(`${site.base}/${repo}/${paths[i]}`, { method: 'PUT', headers: { authorization: ADMIN_AUTH }, body: readFileSync(join(dir, paths[i])) });
      await r.arrayBuffer();
      if (r.status !== 201) throw new Error(`deploy of ${paths[i]} to ${site.name} answered ${r.status}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

interface Transfer {
  seconds: number;
  bytes: number;
  mbps: number;
  detail: string;
}

/** One curl process uploading every file to `repo` on B, `parallel` transfers at a time. */
async function curlUpload(curl: string, b: Site, repo: string, dir: string, paths: string[], parallel: number, work: string): Promise<Transfer> {
  const cfg = join(work, 'curl-upload.cfg');
  writeFileSync(cfg, paths.map((p) => `upload-file = "${join(dir, p)}"\nurl = "${b.base}/${repo}/${p}"\noutput = "/dev/null"\n`).join(''));
  const t = performance.now();
  const r = await run(curl, ['--parallel', '--parallel-max', String(parallel), '-sS', '--no-progress-meter', '-u', `${REPLICATOR.user}:${REPLICATOR.password}`, '-w', '%{http_code}\\n', '-K', cfg], { timeoutMs: 900_000 });
  const seconds = (performance.now() - t) / 1000;
  const codes = r.stdout.split('\n').filter(Boolean);
  const created = codes.filter((c) => c === '201').length;
  if (created !== paths.length) throw new Error(`curl: ${created} of ${paths.length} uploads answered 201 (exit ${r.code}; ${r.stderr.slice(0, 500)})`);
  const bytes = paths.length * FILE_SIZE;
  return { seconds, bytes, mbps: bytes / MB / seconds, detail: `curl --parallel-max ${parallel}, ${paths.length} PUTs` };
}

/** A scheduled push run of `repo` to an empty repository on B, from the execute request to its completion. */
async function scheduledRun(a: Site, b: Site, count: number): Promise<Transfer & { record: unknown }> {
  await a.must('PUT', '/api/replications/sched-src', pushBody(b, 'sched-dst', { enableEventReplication: false, cronExp: '0 0 3 1 1 ?' }));
  const t = performance.now();
  const requested = Date.now();
  const exec = await a.api('POST', '/api/replication/execute/sched-src');
  if (![200, 202].includes(exec.status)) throw new Error(`execute answered ${exec.status} ${await exec.text()}`);
  const end = Date.now() + 900_000;
  for (;;) {
    const s = await runState(a, 'sched-src');
    const last = Date.parse(String(s.status.lastCompleted ?? '')) || 0;
    if (last >= requested && s.status.status !== 'running') {
      const seconds = (performance.now() - t) / 1000;
      const onB = await b.list('sched-dst');
      if (onB.length !== count) throw new Error(`the run completed (${JSON.stringify(s.status)}) with ${onB.length} of ${count} files on B; record ${JSON.stringify(s.record)}`);
      const bytes = count * FILE_SIZE;
      return { seconds, bytes, mbps: bytes / MB / seconds, detail: `status ${String(s.status.status)}`, record: s.record };
    }
    if (Date.now() > end) throw new Error(`no completed run after 900 s: ${JSON.stringify(s)}`);
    await sleep(250);
  }
}

export async function runReplication(quick: boolean): Promise<number> {
  const curl = which('curl');
  if (!NGINX || !curl) {
    process.stderr.write('bench --replication: needs nginx and curl (apt-get install nginx curl)\n');
    return 2;
  }
  const lagS = quick ? 15 : 45;
  const files = quick ? 2000 : 10_000;
  const work = mkdtempSync(join(tmpdir(), 'arca-bench-repl-'));
  // The runner sends as many requests at once as curl does in the reference.
  const a = new Site('A', 3, true, { ARCA_REPLICATION_PARALLELREQUESTS: String(RUNNER_PARALLELISM) });
  const b = new Site('B', 1, false);
  let lag: LagResult | undefined;
  let warm: LagResult | undefined;
  let lagError: string | undefined;
  let curlT: Transfer | undefined;
  let sched: (Transfer & { record: unknown }) | undefined;
  let tputError: string | undefined;
  const cpu: { lag?: CpuUse; curl?: CpuUse; sched?: CpuUse } = {};
  try {
    log('starting site A (3 nodes + nginx, PostgreSQL) and site B (1 node, PostgreSQL)');
    await Promise.all([a.start(), b.start()]);
    for (const repo of ['lag-src', 'sched-src']) await a.createRepo(repo, { rclass: 'local', packageType: 'generic' });
    for (const repo of ['lag-src', 'sched-dst', 'curl-dst']) await b.createRepo(repo, { rclass: 'local', packageType: 'generic' });
    await b.createReplicator(['lag-src', 'sched-dst', 'curl-dst']);
    await a.must('PUT', '/api/replications/lag-src', pushBody(b, 'lag-src', { enableEventReplication: true }));
    if (ONLY !== 'throughput') try {
      const w = cpuWindow();
      // The sites' processes are new: their first seconds of this load (JIT, connection pools,
      // caches) are measured apart, as a warm-up, and the steady state after them.
      if (WARM_S > 0) {
        log(`warm-up: ${RATE} deploys/s to A for ${WARM_S} s`);
        warm = await measureLag(a, b, WARM_S, RATE, 'warm-up');
        log(`warm-up: p50 ${quantile(warm.lagsMs, 0.5).toFixed(0)} ms, p99 ${quantile(warm.lagsMs, 0.99).toFixed(0)} ms; worst per second ${warm.worstBySecond.join(' ')}`);
        if (warm.refused > 0 || warm.neverReadable > 0) lagError = `warm-up: ${warm.refused} deploys refused, ${warm.neverReadable} never readable on B within 300 s`;
      }
      log(`lag: ${RATE} deploys/s to A for ${lagS} s, each polled on B`);
      lag = await measureLag(a, b, lagS, RATE);
      cpu.lag = w();
      log(`lag: ${lag.acknowledged} acknowledged, ${lag.refused} refused, ${lag.neverReadable} never readable on B; p50 ${quantile(lag.lagsMs, 0.5).toFixed(0)} ms, p99 ${quantile(lag.lagsMs, 0.99).toFixed(0)} ms`);
      log(`lag: worst per second of deploys (ms): ${lag.worstBySecond.join(' ')}`);
      if (lag.refused > 0 || lag.neverReadable > 0) lagError ??= `${lag.refused} deploys refused, ${lag.neverReadable} never readable on B within 300 s`;
    } catch (err) {
      lagError = (err as Error).message;
    }
    // The throughput part starts with an empty queue, so no delivery of the lag part competes with it.
    const drainStart = Date.now();
    while (Date.now() - drainStart < 300_000) {
      const s = JSON.parse(await a.must('GET', '/api/replication/lag-src')) as { targets: { queue: { pending: number; failed: number } }[] };
      if (s.targets[0].queue.pending === 0) break;
      await sleep(1000);
    }
    log(`queue on A drained ${((Date.now() - drainStart) / 1000).toFixed(1)} s after the lag part`);
    await a.must('DELETE', '/api/replications/lag-src');
    if (ONLY !== 'lag') try {
      log(`throughput: writing 2 × ${files} files of ${FILE_SIZE} bytes`);
      const srcDir = join(work, 'src');
      const refDir = join(work, 'ref');
      const paths = writeFiles(srcDir, files);
      writeFiles(refDir, files);
      log(`deploying ${files} files to A (setup)`);
      await deployFiles(a, 'sched-src', srcDir, paths, 8);
      log(`reference: curl --parallel-max ${RUNNER_PARALLELISM} uploading ${files} other files of the same size to B`);
      let w = cpuWindow();
      curlT = await curlUpload(curl, b, 'curl-dst', refDir, paths, RUNNER_PARALLELISM, work);
      cpu.curl = w();
      log(`reference: ${curlT.seconds.toFixed(1)} s, ${curlT.mbps.toFixed(1)} MB/s`);
      log('scheduled run: POST /api/replication/execute/sched-src');
      w = cpuWindow();
      sched = await scheduledRun(a, b, files);
      cpu.sched = w();
      log(`scheduled run: ${sched.seconds.toFixed(1)} s, ${sched.mbps.toFixed(1)} MB/s; record ${JSON.stringify(sched.record)}`);
    } catch (err) {
      tputError = (err as Error).message;
    }
  } finally {
    await Promise.all([a.destroy(), b.destroy()]);
    rmSync(work, { recursive: true, force: true });
  }

  const mib = ((files * FILE_SIZE) / (1 << 20)).toFixed(0);
  const rows: Row[] = [
    makeRow({
      id: 'lag-warm-up-p99',
      test: `event lag A→B, p99 of the warm-up (first ${WARM_S} s of new processes)`,
      unit: 'ms',
      statistic: `${warm?.lagsMs.length ?? 0} deploys`,
      arca: warm && quantile(warm.lagsMs, 0.99),
      error: WARM_S > 0 ? lagError : 'no warm-up (ARCA_BENCH_REPL_WARM=0)',
    }),
    makeRow({
      id: 'lag-p50',
      test: `event lag A→B, p50 (${RATE} deploys/s, ${lagS} s)`,
      unit: 'ms',
      statistic: `${lag?.lagsMs.length ?? 0} deploys`,
      arca: lag && quantile(lag.lagsMs, 0.5),
      othersCpu: cpu.lag && { arca: cpu.lag.foreign },
      error: lagError,
    }),
    makeRow({
      id: 'lag-p99',
      test: `event lag A→B, p99 (${RATE} deploys/s, ${lagS} s)`,
      unit: 'ms',
      statistic: `${lag?.lagsMs.length ?? 0} deploys`,
      arca: lag && quantile(lag.lagsMs, 0.99),
      target: { kind: 'max', value: 2000, text: '< 2,000 ms' },
      othersCpu: cpu.lag && { arca: cpu.lag.foreign },
      error: lagError,
    }),
    makeRow({
      id: 'scheduled',
      test: `scheduled push run, ${files} files (${mib} MiB)`,
      unit: 'MB/s',
      statistic: 'one run each, curl first',
      arca: sched?.mbps,
      reference: curlT && { name: `curl ×${RUNNER_PARALLELISM}`, value: curlT.mbps },
      target: { kind: 'min-ratio', value: 0.7, text: '≥ 70 % of curl' },
      othersCpu: { arca: cpu.sched?.foreign, reference: cpu.curl?.foreign },
      error: tputError,
    }),
  ];
  const lines = [
    `Arca replication benchmark: site A = 3 nodes on PostgreSQL behind nginx, site B = 1 node on its own PostgreSQL; all on this machine`,
    '',
    renderTable(rows),
    '',
    `Warm-up: the same load for ${WARM_S} s right after the sites started, before the measured ${lagS} s; its worst lag per second: ${warm?.worstBySecond.join(' ') ?? '—'} ms.`,
    `Lag: from the 201 of a deploy on A (through nginx) to the first listing of its folder on B that shows it (folders with unseen deploys listed every 50 ms); achieved rate ${lag?.achievedRate.toFixed(1) ?? '—'} deploys/s, median ${lag ? median(lag.lagsMs).toFixed(0) : '—'} ms, max ${lag?.lagsMs.at(-1)?.toFixed(0) ?? '—'} ms.`,
    `Others' CPU: the share of this machine's cores used by processes outside the bench's own process tree (which holds both sites, their PostgreSQL servers, nginx and curl) during the measurement; above about 10 % the figures are skewed.`,
    `Throughput: scheduled run from POST /api/replication/execute to the run record's completion (${sched?.seconds.toFixed(1) ?? '—'} s); curl: one process, --parallel-max ${RUNNER_PARALLELISM}, PUTs as the same B user, other random files of the same sizes (${curlT?.seconds.toFixed(1) ?? '—'} s). MB = 10^6 bytes.`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  mkdirSync(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(
    join(REPO_ROOT, 'bench', 'results', 'replication-latest.json'),
    JSON.stringify({ at: new Date().toISOString(), quick, rows, cpu, warmUp: warm && { ...warm, lagsMs: undefined, p50: quantile(warm.lagsMs, 0.5), p99: quantile(warm.lagsMs, 0.99) }, lag: lag && { ...lag, lagsMs: undefined, p50: quantile(lag.lagsMs, 0.5), p99: quantile(lag.lagsMs, 0.99) }, curl: curlT, scheduled: sched }, null, 2) + '\n',
  );
  return rows.some((r) => r.verdict === 'ERROR') ? 1 : 0;
}
