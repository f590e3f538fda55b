/**
 * `npm run bench [-- --quick] [-- --workers N]`: Arca against nginx, a bare node:http server and cp on this machine.
 *
 * Starts Arca and nginx on free 127.0.0.1 ports in a temp dir, serves the same files from both,
 * and prints one table: 4 KiB GET req/s (wrk), 1 GiB download and upload MB/s (curl), the
 * peak RSS of Arca's process tree during the upload, and the time from `arca start` to the
 * first ping answering OK. Writes the table as JSON to bench/results/latest.json.
 * Everything it starts is stopped and the temp dir removed, also on failure or Ctrl-C.
 */
import { randomBytes, randomFillSync } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ADMIN_PASSWORD, ADMIN_USER, ARCA_ENTRY, AUTH, createLocalRepo, deploySmall, REPO_ROOT, startArca, type ArcaNode } from './lib/arca.js';
import { cpuWindow, type CpuUse } from './lib/cpu.js';
import { freePort, httpGet } from './lib/http.js';
import { startNginx, type NginxServer } from './lib/nginx.js';
import { startCeiling, type CeilingServer } from './lib/ceiling.js';
import { check, killEverythingSync, liveGroups, registerTempDir, removeTempDirs, run, which } from './lib/proc.js';
import { makeRow, median, renderTable, type Row } from './lib/report.js';
import { TreeRssSampler, treeRss, type RssPeak } from './lib/rss.js';
import { runWrk, wrkProblem, type WrkResult } from './lib/wrk.js';
import YAML from 'yaml';

const USAGE = `Usage: npm run bench [-- options]

  --quick          shorter run: one repetition, 5 s wrk runs (about 1 minute)
  --ha             the cluster benchmark instead: 1, 2 and 3 nodes on PostgreSQL behind nginx
                   (GETs and deploys through the balancer, CPU per request, failover window)
  --storage        upload and download MB/s of a 256 MiB binary per binary provider (file-system,
                   cache-fs, S3 on s3rver direct and eventual, Azure on Azurite) beside the raw
                   disk and each backend's own SDK
  --npm            the npm registry against Verdaccio: packument and tarball GET req/s at 64
                   connections, and a clean npm install of 50 dependencies (see bench/npm.ts)
  --oci            the registry API against the CNCF registry (docker-registry): skopeo push and
                   pull of a five-layer 200 MiB image, 4 KiB blob GET req/s (see bench/oci.ts)
  --replication    two sites (A: 3 nodes on PostgreSQL behind nginx, B: 1 node): event lag p50/p99
                   at 50 deploys/s, and a scheduled run copying 1 GiB in 10,000 files beside curl
                   uploading the same to B (see bench/replication.ts)
  --formats        go mod download of 50 modules, cargo fetch of 50 crates, apt-get and dnf of 50
                   packages from Arca beside the same clients reading a static layout served by
                   nginx; Debian and RPM index regeneration at 20,000 packages (bench/formats.ts)
  --scale          how operations cost as a repository grows: bulk-loads 1,000 / 100,000 /
                   1,000,000 artifacts and times requests, GC and backup at each size
                   ('--scale --help' for its options, e.g. --sizes 1000,100000 --dialect sqlite)
  --aql            AQL at 1,000 and 1,000,000 items on PostgreSQL (bulk-loaded): p50/p99 of the
                   CLI's pattern query, a property query, a time query and a download-statistics
                   query, beside a 4 KiB GET with download statistics on and off (the --scale
                   bench with --ops get,aql-* --no-tasks --get-stats-off; its options apply)
  --workers N      start Arca with --workers N (default: Arca's default, one per CPU)
  --tmpdir DIR     where the temp dir goes (default: the OS temp dir); Arca's home, nginx's
                   root and the cp target all live there, so it picks the disk under test
  --keep-tmp       keep the temp dir (logs, configs) instead of removing it
  --strict         exit 1 when a target is missed (default: only errors give exit 1)
  --help
`;

const GIB = 1 << 30;
const MB = 1e6;
const REPO = 'bench-local';
const SMALL_PATH = `${REPO}/small/blob-4k.bin`;
const BIG_PATH = `${REPO}/big/blob-1g.bin`;

interface Mode {
  name: 'full' | 'quick';
  reps: number;
  startupReps: number;
  wrkWarmupS: number;
  wrkS: number;
  deadlineS: number;
}

const MODES: Record<Mode['name'], Mode> = {
  full: { name: 'full', reps: 3, startupReps: 3, wrkWarmupS: 3, wrkS: 10, deadlineS: 420 },
  quick: { name: 'quick', reps: 1, startupReps: 1, wrkWarmupS: 1, wrkS: 5, deadlineS: 200 },
};

const TOOLS = [
  { cmd: 'nginx', apt: 'nginx' },
  { cmd: 'wrk', apt: 'wrk' },
  { cmd: 'curl', apt: 'curl' },
  { cmd: 'cp', apt: 'coreutils' },
  { cmd: 'sync', apt: 'coreutils' },
  { cmd: 'sh', apt: 'dash' },
] as const;
type Tools = Record<(typeof TOOLS)[number]['cmd'], string>;

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function fail(msg: string, code = 2): never {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(code);
}

function parseOptions() {
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      options: {
        quick: { type: 'boolean', default: false },
        workers: { type: 'string' },
        tmpdir: { type: 'string' },
        'keep-tmp': { type: 'boolean', default: false },
        strict: { type: 'boolean', default: false },
        ha: { type: 'boolean', default: false },
        storage: { type: 'boolean', default: false },
        npm: { type: 'boolean', default: false },
        oci: { type: 'boolean', default: false },
        replication: { type: 'boolean', default: false },
        formats: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    fail(`${(err as Error).message}\n\n${USAGE}`);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (v.tmpdir !== undefined && !(existsSync(v.tmpdir) && statSync(v.tmpdir).isDirectory())) fail(`--tmpdir ${v.tmpdir} is not a directory`);
  let workers: number | undefined;
  if (v.workers !== undefined) {
    workers = Number(v.workers);
    if (!Number.isInteger(workers) || workers < 1 || workers > 64) fail(`--workers must be an integer from 1 to 64, got '${v.workers}'`);
  }
  return { mode: MODES[v.quick ? 'quick' : 'full'], workers, tmpdir: v.tmpdir, keepTmp: v['keep-tmp'], strict: v.strict, ha: v.ha, storage: v.storage, npm: v.npm, oci: v.oci, replication: v.replication, formats: v.formats, quick: v.quick };
}

function preflight(): Tools {
  if (process.platform !== 'linux') fail('the benchmark reads /proc and needs Linux');
  const missing: string[] = [];
  const tools = {} as Tools;
  for (const t of TOOLS) {
    const p = which(t.cmd);
    if (p) tools[t.cmd] = p;
    else missing.push(`  ${t.cmd}: install it with 'apt-get install ${t.apt}'`);
  }
  if (missing.length > 0) fail(`missing tools:\n${missing.join('\n')}`);
  if (!existsSync(ARCA_ENTRY)) fail(`${ARCA_ENTRY} is missing: run 'npm run build' first`);
  const newest = (dir: string, ext: string): number => {
    let m = 0;
    for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
      if (e.isFile() && e.name.endsWith(ext)) m = Math.max(m, statSync(join(e.parentPath, e.name)).mtimeMs);
    }
    return m;
  };
  if (newest(join(REPO_ROOT, 'src'), '.ts') > newest(join(REPO_ROOT, 'dist'), '.mjs')) {
    log("warning: src/ is newer than dist/; the benchmark runs dist/ (run 'npm run build' to measure the current source)");
  }
  return tools;
}

async function versionOf(cmd: string, args: string[], re: RegExp): Promise<string> {
  const r = await run(cmd, args, { timeoutMs: 5_000 }).catch(() => undefined);
  const m = r ? re.exec(r.stdout + r.stderr) : null;
  return m ? m[1] : 'unknown';
}

function filesystemOf(path: string): string {
  try {
    const mounts = readFileSync('/proc/mounts', 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .filter((f) => path === f[1] || path.startsWith(f[1].endsWith('/') ? f[1] : `${f[1]}/`))
      .sort((a, b) => b[1].length - a[1].length);
    return mounts[0] ? `${mounts[0][2]} (${mounts[0][0]} on ${mounts[0][1]})` : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Writes `size` random bytes and fsyncs them, so no writeback of this file disturbs what follows. */
function writeRandomFile(path: string, size: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'wx');
  try {
    const buf = Buffer.allocUnsafe(4 << 20);
    for (let left = size; left > 0; ) {
      const n = Math.min(left, buf.length);
      randomFillSync(buf, 0, n);
      let off = 0;
      while (off < n) off += writeSync(fd, buf, off, n - off);
      left -= n;
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const mbps = (bytes: number, ms: number) => bytes / MB / (ms / 1000);
const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN);
/** Mean share of the CPU that processes outside the benchmark used over some measurements. */
const others = (runs: { cpu: CpuUse }[]) => mean(runs.map((r) => r.cpu.foreign));

interface Transfer {
  ms: number;
  mbps: number;
  cpu: CpuUse;
}

async function measured<T>(fn: () => Promise<T>): Promise<[T, CpuUse]> {
  const end = cpuWindow();
  const value = await fn();
  return [value, end()];
}

async function curlDownload(curl: string, url: string): Promise<Transfer> {
  const end = cpuWindow();
  const r = check(
    await run(curl, ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download}', '-H', `Authorization: ${AUTH}`, '--max-time', '120', url], {
      timeoutMs: 130_000,
    }),
    `curl GET ${url}`,
  );
  const [code, size] = r.stdout.trim().split(' ');
  const cpu = end();
  if (code !== '200' || Number(size) !== GIB) throw new Error(`curl GET ${url}: HTTP ${code}, ${size} bytes (want 200, ${GIB})`);
  return { ms: r.ms, mbps: mbps(GIB, r.ms), cpu };
}

async function curlUpload(curl: string, file: string, url: string, respFile: string): Promise<Transfer> {
  const end = cpuWindow();
  const r = check(
    await run(curl, ['-sS', '-u', `${ADMIN_USER}:${ADMIN_PASSWORD}`, '-T', file, '-o', respFile, '-w', '%{http_code}', '--max-time', '180', url], {
      timeoutMs: 190_000,
    }),
    `curl PUT ${url}`,
  );
  const cpu = end();
  const body = existsSync(respFile) ? readFileSync(respFile, 'utf8') : '';
  if (r.stdout.trim() !== '201') throw new Error(`curl PUT ${url}: HTTP ${r.stdout.trim()} ${body.slice(0, 300)}`);
  const size = Number((JSON.parse(body) as { size?: string }).size);
  if (size !== GIB) throw new Error(`curl PUT ${url}: Arca stored ${size} bytes, want ${GIB}`);
  return { ms: r.ms, mbps: mbps(GIB, r.ms), cpu };
}

/** Sets `arca.downloadStats.enabled` in a node's system.yaml, keeping the rest of the file. */
function setDownloadStats(file: string, enabled: boolean): void {
  const doc = (existsSync(file) ? YAML.parse(readFileSync(file, 'utf8')) : null) ?? {};
  doc.arca ??= {};
  doc.arca.downloadStats = { ...(doc.arca.downloadStats ?? {}), enabled };
  writeFileSync(file, YAML.stringify(doc));
}

interface Section<T> {
  value?: T;
  error?: string;
}

async function section<T>(name: string, fn: () => Promise<T>): Promise<Section<T>> {
  try {
    return { value: await fn() };
  } catch (err) {
    const msg = (err as Error).message ?? String(err);
    log(`${name} failed: ${msg}`);
    return { error: msg.split('\n')[0] };
  }
}

async function main(): Promise<number> {
  // --scale has options of its own (bench/scale.ts).
  if (process.argv.includes('--scale')) return (await import('./scale.js')).runScale(process.argv.slice(2));
  if (process.argv.includes('--aql')) {
    const rest = process.argv.slice(2).filter((a) => a !== '--aql');
    return (await import('./scale.js')).runScale(['--dialect', 'postgresql', '--sizes', '1000,1000000', '--ops', 'get,aql-*', '--no-tasks', '--get-stats-off', ...rest]);
  }
  const opts = parseOptions();
  if (opts.ha) return (await import('./ha.js')).runHa(opts.quick);
  if (opts.replication) return (await import('./replication.js')).runReplication(opts.quick);
  if (opts.formats) return (await import('./formats.js')).runFormats(opts.quick);
  if (opts.storage) return (await import('./storage.js')).runStorage(opts.quick, opts.tmpdir);
  if (opts.npm) return (await import('./npm.js')).runNpm({ quick: opts.quick, tmpdir: opts.tmpdir, workers: opts.workers, keepTmp: opts.keepTmp });
  if (opts.oci) return (await import('./oci.js')).runOci({ quick: opts.quick, tmpdir: opts.tmpdir, workers: opts.workers, keepTmp: opts.keepTmp });
  const tools = preflight();
  const mode = opts.mode;
  const t0 = performance.now();
  const startedAt = new Date();

  const tmpRoot = mkdtempSync(join(opts.tmpdir ?? os.tmpdir(), 'arca-bench-'));
  if (!opts.keepTmp) registerTempDir(tmpRoot);

  // Stop everything on a signal, an overrun or any exit path.
  let aborting = false;
  const abort = (why: string, code: number) => {
    if (aborting) return;
    aborting = true;
    log(`${why}: stopping servers and removing ${tmpRoot}`);
    killEverythingSync();
    process.exit(code);
  };
  process.on('exit', () => killEverythingSync());
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => abort(`received ${sig}`, 130));
  const overrun = setTimeout(() => abort(`the run exceeded its ${mode.deadlineS} s limit`, 3), mode.deadlineS * 1000);
  overrun.unref();

  const cores = os.availableParallelism();
  const workers = opts.workers ?? cores;
  const machine = {
    cores,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / GIB),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    nginx: await versionOf(tools.nginx, ['-v'], /nginx\/(\S+)/),
    wrk: await versionOf(tools.wrk, ['-v'], /wrk (\S+)/),
    curl: await versionOf(tools.curl, ['--version'], /curl (\S+)/),
    arcaWorkers: workers,
    arcaWorkersSource: opts.workers !== undefined ? '--workers' : 'Arca default (one per CPU)',
    tmpDir: tmpRoot,
    filesystem: filesystemOf(tmpRoot),
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
  log(`${mode.name} run: ${cores} cores, node ${machine.node}, nginx ${machine.nginx}, Arca workers ${workers}; temp dir ${tmpRoot}`);
  if (machine.loadAverageAtStart[0] > cores * 0.5) {
    log(`warning: load average ${machine.loadAverageAtStart[0]} on ${cores} cores: other work on this machine will skew the figures`);
  }

  const logs = join(tmpRoot, 'logs');
  mkdirSync(logs);
  const details: Record<string, unknown> = {};
  const rows: Row[] = [];

  // (e) start-up: fresh home, then a second start on the same home; nothing else is running yet.
  const startup = await section('start-up', async () => {
    const fresh: number[] = [];
    const existing: number[] = [];
    const cpu: CpuUse[] = [];
    for (let i = 0; i < mode.startupReps; i++) {
      const home = join(tmpRoot, `startup-home-${i}`);
      for (const list of [fresh, existing]) {
        const port = await freePort();
        const [node, use] = await measured(() => startArca({ home, port, workers: opts.workers, logFile: join(logs, `startup-${i}.log`) }));
        list.push(node.msToPing);
        cpu.push(use);
        await node.stop();
      }
      rmSync(home, { recursive: true, force: true });
      log(`start-up ${i + 1}/${mode.startupReps}: fresh home ${fresh[i].toFixed(0)} ms, existing home ${existing[i].toFixed(0)} ms to ping OK`);
    }
    return { fresh, existing, cpu };
  });
  details.startupMs = startup.value;

  // The two servers, serving the same files under the same URL paths.
  const www = join(tmpRoot, 'www');
  const small = randomBytes(4096);
  mkdirSync(dirname(join(www, SMALL_PATH)), { recursive: true });
  writeFileSync(join(www, SMALL_PATH), small);
  const arcaHome = join(tmpRoot, 'arca-home');
  let arca: ArcaNode | undefined;
  let nginx: NginxServer | undefined;
  let ceiling: CeilingServer | undefined;
  try {
    log('starting Arca and nginx');
    arca = await startArca({ home: arcaHome, port: await freePort(), workers: opts.workers, logFile: join(logs, 'arca.log') });
    await createLocalRepo(arca, REPO);
    await deploySmall(arca, SMALL_PATH, small);
    nginx = await startNginx({ nginx: tools.nginx, dir: join(tmpRoot, 'nginx'), port: await freePort(), root: www }, `/artifactory/${SMALL_PATH}`);
    ceiling = await startCeiling({ port: await freePort(), workers, file: join(www, SMALL_PATH), logFile: join(logs, 'ceiling.log') });
    for (const [name, base] of [
      ['Arca', arca.url],
      ['nginx', nginx.url],
      ['node:http ceiling', ceiling.url],
    ] as const) {
      const r = await httpGet(`${base}/artifactory/${SMALL_PATH}`, { authorization: AUTH });
      if (r.status !== 200 || !r.body.equals(small)) throw new Error(`${name} did not serve the 4 KiB file back (HTTP ${r.status}, ${r.body.length} bytes)`);
    }
    const a = arca;
    const n = nginx;
    const c = ceiling;

    // (a) 4 KiB GET at 64 connections with a Basic auth header, after a warm-up run. Arca goes
    // first, right after the requests above: its per-process credential cache (30 s) must not
    // expire inside the measured window, which would add a burst of scrypt verifications.
    const wrkRun = await section('4 KiB GET', async () => {
      const out: Record<string, WrkResult & { cpu: CpuUse }> = {};
      for (const [name, base] of [
        ['arca', a.url],
        ['nginx', n.url],
        ['ceiling', c.url],
      ] as const) {
        const o = { wrk: tools.wrk, url: `${base}/artifactory/${SMALL_PATH}`, headers: { Authorization: AUTH }, threads: 2, connections: 64 };
        await runWrk({ ...o, durationS: mode.wrkWarmupS });
        const [r, cpu] = await measured(() => runWrk({ ...o, durationS: mode.wrkS }));
        const problem = wrkProblem(r);
        if (problem) throw new Error(`wrk against ${name}: ${problem}`);
        out[name] = { ...r, cpu };
        log(`4 KiB GET ${name}: ${Math.round(r.requestsPerSec)} req/s, p50 ${r.latency.p50?.toFixed(2)} ms, p99 ${r.latency.p99?.toFixed(2)} ms, max ${r.latency.max.toFixed(0)} ms`);
      }
      return out;
    });
    if (wrkRun.value) {
      details.wrk = Object.fromEntries(Object.entries(wrkRun.value).map(([k, v]) => [k, { ...v, raw: undefined }]));
    }
    /** A row of Arca's 4 KiB GET against one of the other servers of the same run. */
    const getRow = (id: string, test: string, ref: 'nginx' | 'ceiling', refName: string, ratio: number) =>
      makeRow({
        id,
        test,
        unit: 'req/s',
        statistic: `wrk -t2 -c64 -d${mode.wrkS}s`,
        arca: wrkRun.value?.arca.requestsPerSec,
        reference: wrkRun.value ? { name: refName, value: wrkRun.value[ref].requestsPerSec } : undefined,
        target: { kind: 'min-ratio', value: ratio, text: `≥ ${ratio * 100} % of ${refName}` },
        othersCpu: wrkRun.value && { arca: wrkRun.value.arca.cpu.foreign, reference: wrkRun.value[ref].cpu.foreign },
        error: wrkRun.error,
      });
    rows.push(
      getRow('a', '(a) 4 KiB GET, 64 conns, Basic auth', 'nginx', 'nginx', 0.5),
      // The runtime's ceiling: node:http on as many workers, the same bytes from memory, nothing else.
      getRow('a-ceiling', '(a) 4 KiB GET vs a bare node:http server', 'ceiling', 'node:http', 0.7),
    );

    // The 1 GiB file: nginx serves it from www/, Arca gets it uploaded, cp copies it.
    log('writing a 1 GiB random file');
    const bigFile = join(www, BIG_PATH);
    writeRandomFile(bigFile, GIB);
    const cpDir = join(tmpRoot, 'cp-target');
    mkdirSync(cpDir);
    const cpTarget = join(cpDir, 'blob-1g.bin');
    const sameFs = statSync(cpDir).dev === statSync(join(arcaHome, 'data')).dev;
    details.cpTargetOnArcaFilesystem = sameFs;
    if (!sameFs) log('warning: the cp target and Arca data dir are on different file systems');

    // (c) upload vs cp and cp+sync, and (d) the RSS of Arca's process tree meanwhile.
    const rssIdle = treeRss(a.pid);
    const upload = await section('1 GiB upload', async () => {
      const arcaRuns: Transfer[] = [];
      const cpRuns: Transfer[] = [];
      const cpSyncRuns: Transfer[] = [];
      const peaks: RssPeak[] = [];
      for (let i = 0; i < mode.reps; i++) {
        const [cp, cpCpu] = await measured(async () => check(await run(tools.cp, [bigFile, cpTarget], { timeoutMs: 120_000 }), 'cp'));
        cpRuns.push({ ms: cp.ms, mbps: mbps(GIB, cp.ms), cpu: cpCpu });
        rmSync(cpTarget); // its dirty pages go with it: nothing left to write back
        const [cps, cpsCpu] = await measured(async () =>
          check(await run(tools.sh, ['-c', `"$1" "$3" "$4" && "$2" "$4"`, 'sh', tools.cp, tools.sync, bigFile, cpTarget], { timeoutMs: 180_000 }), 'cp+sync'),
        );
        cpSyncRuns.push({ ms: cps.ms, mbps: mbps(GIB, cps.ms), cpu: cpsCpu });
        rmSync(cpTarget);
        const sampler = new TreeRssSampler(a.pid, 50).start();
        let t: Transfer;
        try {
          t = await curlUpload(tools.curl, bigFile, `${a.base}/${BIG_PATH}`, join(tmpRoot, 'upload-response.json'));
        } finally {
          peaks.push(sampler.stop());
        }
        arcaRuns.push(t);
        log(
          `upload ${i + 1}/${mode.reps}: Arca ${t.mbps.toFixed(0)} MB/s (peak RSS ${(peaks[i].peakTotal / MB).toFixed(0)} MB), ` +
            `cp ${cpRuns[i].mbps.toFixed(0)} MB/s, cp+sync ${cpSyncRuns[i].mbps.toFixed(0)} MB/s`,
        );
      }
      return { arca: arcaRuns, cp: cpRuns, cpSync: cpSyncRuns, rss: peaks };
    });
    if (upload.value) details.upload = { ...upload.value, rssIdleBeforeBytes: rssIdle };
    const up = upload.value;
    const upStat = `median of ${mode.reps}`;
    rows.push(
      makeRow({
        id: 'c',
        test: '(c) 1 GiB upload (curl -T)',
        unit: 'MB/s',
        statistic: upStat,
        arca: up && median(up.arca.map((r) => r.mbps)),
        reference: up && { name: 'cp', value: median(up.cp.map((r) => r.mbps)) },
        target: { kind: 'min-ratio', value: 0.6, text: '≥ 60 % of cp' },
        othersCpu: up && { arca: others(up.arca), reference: others(up.cp) },
        error: upload.error,
      }),
      makeRow({
        id: 'c-sync',
        test: '(c) 1 GiB upload vs cp+sync',
        unit: 'MB/s',
        statistic: upStat,
        arca: up && median(up.arca.map((r) => r.mbps)),
        reference: up && { name: 'cp+sync', value: median(up.cpSync.map((r) => r.mbps)) },
        othersCpu: up && { arca: others(up.arca), reference: others(up.cpSync) },
        error: upload.error,
        note: 'Arca fsyncs an upload before it becomes visible',
      }),
    );
    const peak = up ? up.rss.reduce((m, p) => (p.peakTotal > m.peakTotal ? p : m)) : undefined;
    // Each process at the peak, the supervisor (the tree's root) first; and the sum with the
    // node binary's pages, which every process maps, counted once.
    const perProcess = peak ? [a.pid, ...Object.keys(peak.atPeak).map(Number).filter((p) => p !== a.pid)].map((p) => peak.atPeak[p]).filter((v) => v !== undefined) : [];
    const mb = (v: number) => (v / MB).toFixed(0);
    const peakOnce = up ? Math.max(...up.rss.map((p) => p.peakFileOnce)) : undefined;
    const rssNote = peak && `summed VmRSS ${mb(peak.peakTotal)} MB at the peak (${perProcess.map(mb).join(' + ')} MB, supervisor first), idle ${mb(rssIdle.total)} MB; with the node binary's pages counted once ${mb(peakOnce!)} MB, idle ${mb(rssIdle.fileOnce)} MB`;
    if (rssNote) log(`(d) ${rssNote}`);
    // The target counts the node binary's pages once: they are the same physical pages in every
    // process of the node (docs/performance.md, "Memory"); the summed VmRSS is in the note.
    rows.push(
      makeRow({
        id: 'd',
        test: `(d) peak RSS during upload, ${peak ? peak.processes : '?'} processes, binary's pages once`,
        unit: 'MB',
        statistic: `max over ${mode.reps}, every 50 ms`,
        arca: peakOnce !== undefined ? peakOnce / MB : undefined,
        reference: peak && { name: 'summed VmRSS', value: peak.peakTotal / MB },
        target: { kind: 'max', value: 200, text: '≤ 200 MB' },
        othersCpu: up && { arca: others(up.arca) },
        error: upload.error,
        note: rssNote,
      }),
      makeRow({
        id: 'd-idle',
        test: "(d) idle RSS before the uploads, binary's pages once",
        unit: 'MB',
        statistic: 'after row (a)',
        arca: rssIdle.fileOnce / MB,
        reference: { name: 'summed VmRSS', value: rssIdle.total / MB },
        target: { kind: 'max', value: 150, text: '≤ 150 MB' },
      }),
    );

    // (b) download of the same 1 GiB, both from the page cache; alternating which goes first.
    const download = await section('1 GiB download', async () => {
      const res: { arca: Transfer[]; nginx: Transfer[] } = { arca: [], nginx: [] };
      for (let i = 0; i < mode.reps; i++) {
        const order = i % 2 === 0 ? (['nginx', 'arca'] as const) : (['arca', 'nginx'] as const);
        for (const who of order) res[who].push(await curlDownload(tools.curl, `${who === 'arca' ? a.url : n.url}/artifactory/${BIG_PATH}`));
        log(`download ${i + 1}/${mode.reps}: Arca ${res.arca[i].mbps.toFixed(0)} MB/s, nginx ${res.nginx[i].mbps.toFixed(0)} MB/s`);
      }
      return res;
    });
    details.download = download.value;
    const dl = download.value;
    rows.push(
      makeRow({
        id: 'b',
        test: '(b) 1 GiB download (curl)',
        unit: 'MB/s',
        statistic: `median of ${mode.reps}`,
        arca: dl && median(dl.arca.map((r) => r.mbps)),
        reference: dl && { name: 'nginx', value: median(dl.nginx.map((r) => r.mbps)) },
        target: { kind: 'min-ratio', value: 0.8, text: '≥ 80 % of nginx' },
        othersCpu: dl && { arca: others(dl.arca), reference: others(dl.nginx) },
        error: download.error,
      }),
    );

    // (a) with download statistics recording on and off (issue 15: a download must not wait for
    // a database write). The node restarts with `arca.downloadStats.enabled` off, then on again,
    // on the same home and port; each run gets the same warm-up as row (a).
    const home = a.home;
    const port = Number(new URL(a.url).port);
    const stats = await section('4 KiB GET, download statistics on and off', async () => {
      const out: { off: number[]; on: number[]; cpuOff: CpuUse[]; cpuOn: CpuUse[] } = { off: [], on: [], cpuOff: [], cpuOn: [] };
      for (const enabled of [false, true, false, true]) {
        await arca!.stop();
        setDownloadStats(join(home, 'etc', 'system.yaml'), enabled);
        arca = await startArca({ home, port, workers: opts.workers, logFile: join(logs, 'arca.log') });
        const o = { wrk: tools.wrk, url: `${arca.url}/artifactory/${SMALL_PATH}`, headers: { Authorization: AUTH }, threads: 2, connections: 64 };
        await runWrk({ ...o, durationS: mode.wrkWarmupS });
        const [r, cpu] = await measured(() => runWrk({ ...o, durationS: mode.wrkS }));
        (enabled ? out.cpuOn : out.cpuOff).push(cpu);
        const problem = wrkProblem(r);
        if (problem) throw new Error(`wrk against Arca (statistics ${enabled ? 'on' : 'off'}): ${problem}`);
        (enabled ? out.on : out.off).push(r.requestsPerSec);
        log(`4 KiB GET Arca, download statistics ${enabled ? 'on' : 'off'}: ${Math.round(r.requestsPerSec)} req/s, p99 ${r.latency.p99?.toFixed(2)} ms`);
      }
      return out;
    });
    details.downloadStatsAB = stats.value;
    rows.push(
      makeRow({
        id: 'a-stats',
        test: '(a) 4 KiB GET, download statistics on vs off',
        unit: 'req/s',
        statistic: `mean of 2 alternating wrk -d${mode.wrkS}s runs each`,
        arca: stats.value && mean(stats.value.on),
        reference: stats.value && { name: 'statistics off', value: mean(stats.value.off) },
        target: { kind: 'min-ratio', value: 0.95, text: '≥ 95 % of statistics off' },
        othersCpu: stats.value && { arca: mean(stats.value.cpuOn.map((c) => c.foreign)), reference: mean(stats.value.cpuOff.map((c) => c.foreign)) },
        error: stats.error,
      }),
    );
  } catch (err) {
    const e = err as Error;
    log(`setup failed: ${e.message}`);
    if (arca) log(`Arca log tail:\n${arca.logTail()}`);
    rows.push(makeRow({ id: 'setup', test: 'setup', unit: '', statistic: '', error: e.message.split('\n')[0] }));
  } finally {
    if (arca) details.arcaLogTail = arca.logTail(5).split('\n');
    await Promise.all([arca?.stop(), nginx?.stop(), ceiling?.stop()]);
  }

  const st = startup.value;
  rows.push(
    makeRow({
      id: 'e-fresh',
      test: '(e) spawn → ping OK, fresh home',
      unit: 's',
      statistic: `median of ${mode.startupReps}`,
      arca: st && median(st.fresh) / 1000,
      target: { kind: 'max', value: 2, text: '≤ 2 s' },
      othersCpu: st && { arca: mean(st.cpu.filter((_, i) => i % 2 === 0).map((c) => c.foreign)) },
      error: startup.error,
    }),
    makeRow({
      id: 'e-existing',
      test: '(e) spawn → ping OK, existing home',
      unit: 's',
      statistic: `median of ${mode.startupReps}`,
      arca: st && median(st.existing) / 1000,
      target: { kind: 'max', value: 2, text: '≤ 2 s' },
      othersCpu: st && { arca: mean(st.cpu.filter((_, i) => i % 2 === 1).map((c) => c.foreign)) },
      error: startup.error,
    }),
  );

  const leftovers = liveGroups();
  if (leftovers.length > 0) log(`warning: process groups still alive after stop: ${leftovers.join(', ')} (killing them)`);
  killEverythingSync();
  if (!opts.keepTmp) removeTempDirs();
  else log(`kept ${tmpRoot}`);

  const durationS = (performance.now() - t0) / 1000;
  const header =
    `Arca benchmark, ${mode.name} run, ${startedAt.toISOString()} (${durationS.toFixed(0)} s)\n` +
    `machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.kernel}; node ${machine.node}, ` +
    `nginx ${machine.nginx}, wrk ${machine.wrk}, curl ${machine.curl}\n` +
    `Arca workers: ${machine.arcaWorkers} (${machine.arcaWorkersSource}); temp dir on ${machine.filesystem}; ` +
    `load average at start ${machine.loadAverageAtStart.join(' ')}\n` +
    `MB = 10^6 bytes. wrk and curl run on the same cores as the servers. Others' CPU: share of the machine's CPU that\n` +
    `processes outside the benchmark used meanwhile (Arca / reference); above ~10 % other work skews the figures.`;
  const order = ['setup', 'a', 'a-ceiling', 'a-stats', 'b', 'c', 'c-sync', 'd', 'd-idle', 'e-fresh', 'e-existing'];
  rows.sort((x, y) => order.indexOf(x.id) - order.indexOf(y.id));
  const table = renderTable(rows);
  const counts = { PASS: 0, MISS: 0, ERROR: 0, INFO: 0 };
  for (const r of rows) counts[r.verdict]++;
  const summary = `${counts.PASS} passed, ${counts.MISS} missed, ${counts.ERROR} errors`;
  const busy = rows.filter((r) => Math.max(r.othersCpu?.arca ?? 0, r.othersCpu?.reference ?? 0) > 0.1).map((r) => r.id);
  const busyNote = busy.length ? `\nwarning: other processes used over 10 % of the CPU during ${busy.join(', ')}: those figures are skewed; rerun on a quiet machine\n` : '';
  process.stdout.write(`\n${header}\n\n${table}\n${busyNote}\n${summary}\n`);

  const resultsDir = join(import.meta.dirname, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const json = {
    schema: 1,
    startedAt: startedAt.toISOString(),
    durationS: Math.round(durationS * 10) / 10,
    mode: mode.name,
    machine: { ...machine, loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100) },
    rows,
    summary: counts,
    details,
  };
  const jsonFile = join(resultsDir, 'latest.json');
  writeFileSync(jsonFile, JSON.stringify(json, null, 2) + '\n');
  process.stdout.write(`written ${jsonFile}\n`);
  if (counts.ERROR > 0) return 1;
  if (opts.strict && counts.MISS > 0) return 1;
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
    // Timers of finished children must not keep the process alive.
    setImmediate(() => process.exit(code));
  },
  (err) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`);
    killEverythingSync();
    process.exit(1);
  },
);
