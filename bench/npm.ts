/**
 * `npm run bench -- --npm`: Arca's npm registry against Verdaccio, side by side in one run.
 *
 * Starts Arca (`bin/arca.js start`, a fresh home, an npm local repository) and Verdaccio (from
 * node_modules/.bin, a fresh storage, no uplinks) on free 127.0.0.1 ports, publishes the same
 * 50 packages of 5 versions to both over HTTP (the body `npm publish` sends), then measures:
 *   (n1) packument GET req/s: wrk -t2 -c64, the abbreviated form npm asks for, cycling through
 *        the 50 packages, with the npm token of each registry (Bearer);
 *   (n2) tarball GET req/s: the same, over the 50 latest tarballs;
 *   (n3) a clean `npm install` of a project depending on all 50 (empty cache, no lockfile,
 *        no node_modules), wall time, median of 3, alternating which registry goes first.
 * Targets: (n1), (n2) at least 2× Verdaccio; (n3) no slower than Verdaccio.
 * Prints one table and writes bench/results/npm-latest.json; stops everything at the end.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { packPackage, publishBody } from '../src/formats/npm/testing/pack.js';
import { VERDACCIO_BIN, verdaccioAddUser, verdaccioSetup, waitForRegistry } from '../src/formats/npm/testing/verdaccio.js';
import { ADMIN_PASSWORD, ARCA_ENTRY, AUTH, startArca, type ArcaNode } from './lib/arca.js';
import { startBenchRun } from './lib/bench-run.js';
import { cpuWindow, type CpuUse } from './lib/cpu.js';
import { freePort, request } from './lib/http.js';
import { check, removeTempDirs, run, startDaemon, which, type Daemon } from './lib/proc.js';
import { makeRow, median, renderTable, type Row } from './lib/report.js';
import { runWrk, wrkProblem, type WrkResult } from './lib/wrk.js';

const PACKAGES = 50;
const VERSIONS = ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0'];
const REPO = 'npm-bench';
const ABBREVIATED = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*';
const names = Array.from({ length: PACKAGES }, (_, i) => `bench-pkg-${String(i).padStart(2, '0')}`);

function log(msg: string): void {
  process.stderr.write(`[bench --npm ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

interface Registry {
  name: 'Arca' | 'Verdaccio';
  /** The registry URL npm is given, ending in '/'. */
  url: string;
  /** Path prefix of that URL ('' for Verdaccio). */
  prefix: string;
  token: string;
}

async function expectOk(what: string, p: Promise<{ status: number; body: Buffer }>): Promise<Buffer> {
  const r = await p;
  if (r.status < 200 || r.status > 299) throw new Error(`${what}: HTTP ${r.status} ${r.body.toString().slice(0, 300)}`);
  return r.body;
}

/** Publishes every package version to a registry, four at a time, as `npm publish` would. */
async function publishAll(reg: Registry): Promise<void> {
  const jobs = names.flatMap((name) => VERSIONS.map((version) => ({ name, version })));
  let next = 0;
  const worker = async () => {
    for (let j = jobs[next++]; j; j = jobs[next++]) {
      const pkg = packPackage(
        { name: j.name, version: j.version, description: `benchmark package ${j.name}`, main: 'index.js', license: 'MIT', keywords: ['bench', 'arca'], repository: { type: 'git', url: 'https://example.invalid/bench.git' } },
        { 'README.md': `# ${j.name}\n\n${'Some documentation text. '.repeat(40)}\n`, 'lib/util.js': `exports.v = ${JSON.stringify(j.version)};\n`.repeat(20) },
      );
      const body = Buffer.from(JSON.stringify(publishBody(pkg, { registry: reg.url })));
      await expectOk(`publish ${j.name}@${j.version} to ${reg.name}`, request(`${reg.url}${j.name}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${reg.token}`, 'content-type': 'application/json', 'content-length': String(body.length) },
        body,
        timeoutMs: 30_000,
      }));
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

/** A wrk script cycling through `paths`, so every request asks for another package. */
function cycleScript(file: string, paths: string[]): string {
  writeFileSync(file, `local paths = { ${paths.map((p) => JSON.stringify(p)).join(', ')} }\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format(nil, paths[i])\nend\n`);
  return file;
}

interface Load {
  rps: number;
  wrk: WrkResult;
  cpu: CpuUse;
}

async function load(wrk: string, reg: Registry, paths: string[], headers: Record<string, string>, script: string, warmS: number, seconds: number): Promise<Load> {
  const url = new URL(reg.url);
  const o = { wrk, url: `${url.protocol}//${url.host}/`, headers: { Authorization: `Bearer ${reg.token}`, ...headers }, threads: 2, connections: 64, script: cycleScript(script, paths) };
  await runWrk({ ...o, durationS: warmS });
  const end = cpuWindow();
  const r = await runWrk({ ...o, durationS: seconds });
  const cpu = end();
  const problem = wrkProblem(r);
  if (problem) throw new Error(`wrk against ${reg.name}: ${problem}`);
  return { rps: r.requestsPerSec, wrk: { ...r, raw: '' }, cpu };
}

/** npm's environment: ours without npm_config_* (npx/npm run export the caller's settings). */
function npmEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_config_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

/** A clean install (no cache, no lockfile, no node_modules) of a project depending on every package. */
async function cleanInstall(root: string, reg: Registry, i: number): Promise<{ ms: number; cpu: CpuUse }> {
  const dir = join(root, `install-${reg.name}-${i}`);
  mkdirSync(dir, { recursive: true });
  const deps = Object.fromEntries(names.map((n) => [n, '^1.0.0']));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bench-project', version: '1.0.0', private: true, dependencies: deps }));
  const rc = join(dir, '.npmrc-bench');
  writeFileSync(rc, `registry=${reg.url}\n${reg.url.replace(/^https?:/, '')}:_authToken=${reg.token}\n`);
  const end = cpuWindow();
  const r = check(
    await run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-update-notifier'], {
      cwd: dir,
      timeoutMs: 300_000,
      env: npmEnv({ npm_config_userconfig: rc, npm_config_cache: join(dir, 'cache'), npm_config_globalconfig: join(dir, 'none') }),
    }),
    `npm install from ${reg.name}`,
  );
  const cpu = end();
  const installed = readdirSync(join(dir, 'node_modules')).filter((n) => n.startsWith('bench-pkg-')).length;
  if (installed !== PACKAGES) throw new Error(`npm install from ${reg.name} installed ${installed} of ${PACKAGES} packages`);
  rmSync(dir, { recursive: true, force: true });
  return { ms: r.ms, cpu };
}

export async function runNpm(opts: { quick: boolean; tmpdir?: string; workers?: number; keepTmp?: boolean }): Promise<number> {
  const wrk = which('wrk');
  if (!wrk) throw new Error("wrk is missing: install it with 'apt-get install wrk'");
  if (!which('npm')) throw new Error('npm is missing');
  if (!existsSync(VERDACCIO_BIN)) throw new Error(`${VERDACCIO_BIN} is missing: run 'npm install' (verdaccio is a devDependency)`);
  if (!existsSync(ARCA_ENTRY)) throw new Error(`${ARCA_ENTRY} is missing: run 'npm run build' first`);
  const reps = opts.quick ? 1 : 3;
  const [warmS, seconds] = opts.quick ? [1, 5] : [3, 10];
  const { root } = startBenchRun({ prefix: 'arca-bench-npm-', tmpdir: opts.tmpdir, keepTmp: opts.keepTmp, limitSeconds: opts.quick ? 360 : 720, log });

  const startedAt = new Date();
  const logs = join(root, 'logs');
  mkdirSync(logs);
  let arca: ArcaNode | undefined;
  let verdaccio: Daemon | undefined;
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  try {
    log(`starting Arca and Verdaccio in ${root}`);
    arca = await startArca({ home: join(root, 'arca-home'), port: await freePort(), workers: opts.workers, logFile: join(logs, 'arca.log') });
    const vSetup = verdaccioSetup(join(root, 'verdaccio'), await freePort());
    const fd = openSync(join(logs, 'verdaccio.log'), 'a');
    const v = startDaemon(vSetup.command, vSetup.args, { logFd: fd, cwd: join(root, 'verdaccio') });
    verdaccio = v;
    closeSync(fd);
    await waitForRegistry(vSetup.url, 60_000, () => v.child.exitCode === null);

    await expectOk('create the npm repository', request(`${arca.base}/api/repositories/${REPO}`, { method: 'PUT', headers: { authorization: AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ rclass: 'local', packageType: 'npm' }) }));
    const arcaUrl = `${arca.base}/api/npm/${REPO}/`;
    const login = JSON.parse(
      (await expectOk('npm login to Arca', request(`${arcaUrl}-/user/org.couchdb.user:admin`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'admin', password: ADMIN_PASSWORD }) }))).toString(),
    ) as { token: string };
    const regs: Registry[] = [
      { name: 'Arca', url: arcaUrl, prefix: new URL(arcaUrl).pathname, token: login.token },
      { name: 'Verdaccio', url: `${vSetup.url}/`, prefix: '/', token: await verdaccioAddUser(vSetup.url, 'bench', 'Bench-Pw1') },
    ];
    for (const reg of regs) {
      log(`publishing ${PACKAGES} packages × ${VERSIONS.length} versions to ${reg.name}`);
      await publishAll(reg);
      const doc = JSON.parse((await expectOk(`packument from ${reg.name}`, request(`${reg.url}${names[0]}`, { headers: { authorization: `Bearer ${reg.token}` } }))).toString());
      if (Object.keys(doc.versions ?? {}).length !== VERSIONS.length) throw new Error(`${reg.name} serves ${Object.keys(doc.versions ?? {}).length} versions of ${names[0]}`);
    }

    const latest = VERSIONS[VERSIONS.length - 1];
    for (const [id, what, paths, headers] of [
      ['n1', 'packument GET', (r: Registry) => names.map((n) => `${r.prefix}${n}`), { Accept: ABBREVIATED }],
      ['n2', 'tarball GET', (r: Registry) => names.map((n) => `${r.prefix}${n}/-/${n}-${latest}.tgz`), {}],
    ] as const) {
      const figures: Partial<Record<Registry['name'], Load>> = {};
      let error: string | undefined;
      for (const reg of regs) {
        try {
          figures[reg.name] = await load(wrk, reg, paths(reg), headers, join(root, `${id}-${reg.name}.lua`), warmS, seconds);
          log(`${what} ${reg.name}: ${Math.round(figures[reg.name]!.rps)} req/s, p99 ${figures[reg.name]!.wrk.latency.p99?.toFixed(1)} ms`);
        } catch (err) {
          error = (err as Error).message;
          log(`${what} ${reg.name} failed: ${error}`);
        }
      }
      details[id] = figures;
      rows.push(
        makeRow({
          id,
          test: `(${id}) ${what}, 64 conns, ${PACKAGES} packages`,
          unit: 'req/s',
          statistic: `wrk -t2 -c64 -d${seconds}s`,
          arca: figures.Arca?.rps,
          reference: figures.Verdaccio ? { name: 'Verdaccio', value: figures.Verdaccio.rps } : undefined,
          target: { kind: 'min-ratio', value: 2, text: '≥ 2× Verdaccio' },
          othersCpu: { arca: figures.Arca?.cpu.foreign, reference: figures.Verdaccio?.cpu.foreign },
          error,
        }),
      );
    }

    const times: Record<Registry['name'], number[]> = { Arca: [], Verdaccio: [] };
    let installError: string | undefined;
    // One untimed install from each first: the first npm run of the benchmark pays for loading
    // npm itself from a cold page cache, which would count against whichever registry goes first.
    for (const reg of regs) {
      try {
        await cleanInstall(root, reg, -1);
      } catch (err) {
        installError = (err as Error).message.split('\n')[0];
        log(`warm-up npm install from ${reg.name} failed: ${(err as Error).message}`);
      }
    }
    for (let i = 0; i < reps && !installError; i++) {
      for (const reg of i % 2 === 0 ? regs : [...regs].reverse()) {
        try {
          const r = await cleanInstall(root, reg, i);
          times[reg.name].push(r.ms / 1000);
          log(`npm install ${i + 1}/${reps} from ${reg.name}: ${(r.ms / 1000).toFixed(2)} s`);
        } catch (err) {
          installError = (err as Error).message.split('\n')[0];
          log(`npm install from ${reg.name} failed: ${(err as Error).message}`);
        }
      }
    }
    details.installSeconds = times;
    const a = median(times.Arca);
    const vv = median(times.Verdaccio);
    const ok = Number.isFinite(a) && Number.isFinite(vv);
    rows.push({
      id: 'n3',
      test: `(n3) clean npm install, ${PACKAGES} dependencies`,
      unit: 's',
      statistic: `median of ${reps}`,
      arca: ok ? a : undefined,
      reference: ok ? { name: 'Verdaccio', value: vv } : undefined,
      ratio: ok ? a / vv : undefined,
      target: { kind: 'max', value: vv, text: '≤ Verdaccio' },
      verdict: installError || !ok ? 'ERROR' : a <= vv ? 'PASS' : 'MISS',
      error: installError,
    });
  } finally {
    await arca?.stop().catch(() => undefined);
    await verdaccio?.stop().catch(() => undefined);
    if (!opts.keepTmp) removeTempDirs();
    else log(`kept ${root}`);
  }

  const header =
    `Arca npm benchmark (--npm), ${opts.quick ? 'quick' : 'full'} run, ${startedAt.toISOString()}\n` +
    `machine: ${os.availableParallelism()} cores, node ${process.version}; Arca workers: ${opts.workers ?? 'default (one per CPU)'}; Verdaccio: one process\n` +
    `Both registries on 127.0.0.1, same packages, npm tokens as Bearer; wrk and npm share the cores with the servers.\n` +
    `(n3) ratio is Arca's time / Verdaccio's (lower is better).`;
  const table = renderTable(rows);
  process.stdout.write(`\n${header}\n\n${table}\n`);
  const resultsDir = join(import.meta.dirname, 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'npm-latest.json'), JSON.stringify({ schema: 1, startedAt: startedAt.toISOString(), quick: opts.quick, rows, details }, null, 2) + '\n');
  process.stdout.write(`written ${join(resultsDir, 'npm-latest.json')}\n`);
  return rows.some((r) => r.verdict === 'ERROR') ? 1 : 0;
}
