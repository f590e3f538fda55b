/**
 * `npm run bench -- --formats`: the Go and Cargo clients fetching 50 modules / crates from Arca,
 * next to the same client reading the same files from a static layout served by nginx, in one
 * run (issue 17).
 *
 * - Go: 50 modules (`example.com/bench/mNN` v1.0.0) deployed to a Go repository of one Arca
 *   node, and the same `list`/`.info`/`.mod`/`.zip` files written as a static GOPROXY tree.
 *   Timed: `go mod download` of a program importing all 50, with an empty module cache each
 *   time, GOPROXY pointing at Arca or at nginx (plain http: go sends credentials over https
 *   only, so the Arca repository is readable anonymously, as the static tree is).
 * - Cargo: 50 crates (`bench-cNN` 1.0.0) published to a Cargo repository of the same node
 *   (`PUT …/api/v1/crates/new`), and a static sparse index (`config.json`, the index files at
 *   their prefix paths, the `.crate` files) with the same lines and archives. Timed:
 *   `cargo fetch` of a project depending on all 50, with an empty CARGO_HOME and no lock file
 *   each time (index lines and archives are all fetched).
 *
 * - RPM (issue 18, bench/formats-rpm.ts): `dnf makecache` + install of 50 packages from Arca
 *   and from createrepo_c's output under nginx; one package added at 20,000 and the full
 *   rebuild of their repodata, with the node's peak RSS.
 *
 * Both sides first run 10 times untimed (ARCA_BENCH_FORMATS_WARM): a node that just started has
 * compiled none of its request code, which a node in service has; nginx's files get into the
 * page cache. Then they run alternately, 7 times each (3 with --quick); the medians are
 * compared. Target:
 * Arca within 1.5× of the static layout's time, i.e. its rate at least 2/3 of nginx's.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { indexPath } from '../src/formats/cargo/names.js';
import { tgz } from '../src/formats/npm/testing/pack.js';
import { publishBody } from '../test/helpers/cargo-crates.js';
import { storedZip } from '../test/helpers/stored-zip.js';
import { benchRpm } from './formats-rpm.js';
import { ADMIN_USER, AUTH, REPO_ROOT, startArca, type ArcaNode } from './lib/arca.js';
import { cpuWindow, type CpuUse } from './lib/cpu.js';
import { freePort, request } from './lib/http.js';
import { startNginx, type NginxServer } from './lib/nginx.js';
import { run, which } from './lib/proc.js';
import { makeRow, median, renderTable, type Row } from './lib/report.js';
import { createLocalRepo, must, onEveryWorker } from './lib/repos.js';
import { benchDebian } from './formats-debian.js';

const COUNT = 50;
const TARGET = { kind: 'min-ratio' as const, value: 2 / 3, text: '≤ 1.5× the static time' };
const pad = (i: number) => String(i).padStart(2, '0');

function log(msg: string): void {
  process.stderr.write(`[bench --formats ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function write(path: string, data: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

interface Side {
  seconds: number[];
  cpu: CpuUse[];
}

/** Untimed runs of each side first: a new node's code is not compiled yet (a serving node's is), nor are nginx's files in the page cache. */
const WARM_UPS = Math.max(0, Number(process.env.ARCA_BENCH_FORMATS_WARM ?? 10));

/**
 * Runs `fetch(side)` for Arca and nginx alternately, `reps` times each after `WARM_UPS`
 * untimed runs of each; `fresh()` empties the client's caches before each.
 */
async function alternate(reps: number, fresh: () => void, fetch: (side: 'arca' | 'nginx') => Promise<void>): Promise<{ arca: Side; nginx: Side }> {
  const out = { arca: { seconds: [] as number[], cpu: [] as CpuUse[] }, nginx: { seconds: [] as number[], cpu: [] as CpuUse[] } };
  for (let i = 0; i < WARM_UPS; i++) {
    for (const side of ['nginx', 'arca'] as const) {
      fresh();
      await fetch(side);
    }
  }
  if (WARM_UPS > 0) log(`${WARM_UPS} untimed warm-up runs per side done`);
  for (let i = 0; i < reps; i++) {
    for (const side of i % 2 === 0 ? (['nginx', 'arca'] as const) : (['arca', 'nginx'] as const)) {
      fresh();
      const w = cpuWindow();
      const t = performance.now();
      await fetch(side);
      out[side].seconds.push((performance.now() - t) / 1000);
      out[side].cpu.push(w());
      log(`${side}: ${out[side].seconds.at(-1)!.toFixed(2)} s`);
    }
  }
  return out;
}

function rowOf(id: string, test: string, unit: string, r: { arca: Side; nginx: Side } | undefined, error: string | undefined): Row {
  const rate = (s: Side) => COUNT / median(s.seconds);
  return makeRow({
    id,
    test,
    unit,
    statistic: r ? `median of ${r.arca.seconds.length}` : '—',
    arca: r && rate(r.arca),
    reference: r && { name: 'nginx (static)', value: rate(r.nginx) },
    target: TARGET,
    othersCpu: r && { arca: median(r.arca.cpu.map((c) => c.foreign)), reference: median(r.nginx.cpu.map((c) => c.foreign)) },
    error,
  });
}

/** Go: the modules on both sides, then `go mod download` of a program importing them. */
async function benchGo(go: string, node: ArcaNode, nginx: NginxServer, work: string, staticRoot: string, reps: number) {
  await createLocalRepo(node, 'go-bench', 'go');
  const consumer = join(work, 'go-consumer');
  const imports: string[] = [];
  const requires: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    const module = `example.com/bench/m${pad(i)}`;
    const mod = `module ${module}\n\ngo 1.19\n`;
    const zip = storedZip({ [`${module}@v1.0.0/go.mod`]: mod, [`${module}@v1.0.0/m.go`]: `package m${pad(i)}\n\n// Name is the module's name.\nfunc Name() string { return "m${pad(i)}" }\n` });
    const info = JSON.stringify({ Version: 'v1.0.0', Time: '2026-01-01T00:00:00Z' });
    const files: Record<string, string | Buffer> = { 'v1.0.0.info': info, 'v1.0.0.mod': mod, 'v1.0.0.zip': zip };
    for (const [name, data] of Object.entries(files)) {
      write(join(staticRoot, 'go', module, '@v', name), data);
      await must(
        `deploy ${module}/@v/${name}`,
        request(`${node.base}/api/go/go-bench/${module}/@v/${name}`, { method: 'PUT', headers: { authorization: AUTH, 'content-length': String(Buffer.byteLength(data)) }, body: data }),
      );
    }
    write(join(staticRoot, 'go', module, '@v', 'list'), 'v1.0.0\n');
    imports.push(`\tm${pad(i)} "${module}"`);
    requires.push(`\t${module} v1.0.0`);
  }
  write(join(consumer, 'go.mod'), `module bench/consumer\n\ngo 1.19\n\nrequire (\n${requires.join('\n')}\n)\n`);
  write(join(consumer, 'main.go'), `package main\n\nimport (\n\t"fmt"\n${imports.join('\n')}\n)\n\nfunc main() {\n${imports.map((_, i) => `\tfmt.Println(m${pad(i)}.Name())`).join('\n')}\n}\n`);
  const cache = join(work, 'gomodcache');
  // The go command sends credentials over https only: the repository is readable anonymously
  // here, as the static layout is (docs/formats.md, Go).
  await must(
    'enable anonymous access',
    request(`${node.base}/api/system/configuration`, { method: 'PATCH', headers: { authorization: AUTH, 'content-type': 'application/yaml' }, body: 'security:\n  anonAccessEnabled: true\n' }),
  );
  const perm = { name: 'anon-go-bench', repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['go-bench'], actions: { users: { anonymous: ['read'] } } } };
  await must(
    'let anonymous read go-bench',
    request(`${node.base}/api/v2/security/permissions/anon-go-bench`, { method: 'PUT', headers: { authorization: AUTH, 'content-type': 'application/json' }, body: JSON.stringify(perm) }),
    [200, 201, 204],
  );
  const arcaProxy = `${node.base}/api/go/go-bench`;
  await onEveryWorker('anonymous read of go-bench', `${arcaProxy}/example.com/bench/m00/@v/list`);
  return alternate(
    reps,
    () => {
      // The module cache is read-only on disk; the go command's own clean removes it.
      rmSync(cache, { recursive: true, force: true });
      rmSync(join(consumer, 'go.sum'), { force: true });
    },
    async (side) => {
      const env = {
        ...process.env,
        HOME: work,
        GOPATH: join(work, 'gopath'),
        GOMODCACHE: cache,
        GOCACHE: join(work, 'gocache'),
        GOFLAGS: '-mod=mod -modcacherw',
        GOSUMDB: 'off',
        GONOSUMDB: '*',
        GOPROXY: side === 'arca' ? arcaProxy : `${nginx.url}/artifactory/go`,
      };
      const r = await run(go, ['mod', 'download'], { cwd: consumer, env, timeoutMs: 300_000 });
      if (r.code !== 0) throw new Error(`go mod download from ${side} failed (${r.code}): ${(r.stderr + r.stdout).slice(-1500)}`);
      // Every module really came down (a run that fetched nothing would look fast).
      const got = Array.from({ length: COUNT }, (_, i) => join(cache, 'cache', 'download', 'example.com', 'bench', `m${pad(i)}`, '@v', 'v1.0.0.zip')).filter((f) => existsSync(f)).length;
      if (got !== COUNT) throw new Error(`go mod download from ${side} left ${got} of ${COUNT} module zips in the cache`);
    },
  );
}

/** An access token of the admin (cargo sends it in Authorization). */
async function adminToken(node: ArcaNode): Promise<string> {
  const body = await must(
    'create an access token',
    request(`${node.base}/api/security/token`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded' },
      body: `username=${ADMIN_USER}&scope=applied-permissions/user&expires_in=3600`,
    }),
  );
  return (JSON.parse(body.toString()) as { access_token: string }).access_token;
}

/** Cargo: the crates on both sides, then `cargo fetch` of a project depending on them. */
async function benchCargo(cargo: string, node: ArcaNode, nginx: NginxServer, work: string, staticRoot: string, reps: number) {
  await createLocalRepo(node, 'cargo-bench', 'cargo');
  const token = await adminToken(node);
  write(join(staticRoot, 'cargo', 'index', 'config.json'), JSON.stringify({ dl: `${nginx.url}/artifactory/cargo/crates/{crate}/{crate}-{version}.crate` }));
  const deps: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    const name = `bench-c${pad(i)}`;
    const crate = tgz({
      [`${name}-1.0.0/Cargo.toml`]: `[package]\nname = "${name}"\nversion = "1.0.0"\nedition = "2021"\ndescription = "Benchmark crate ${i}"\nlicense = "MIT"\n`,
      [`${name}-1.0.0/src/lib.rs`]: `pub fn name() -> &'static str {\n    "${name}"\n}\n`,
    });
    const cksum = createHash('sha256').update(crate).digest('hex');
    write(join(staticRoot, 'cargo', 'crates', name, `${name}-1.0.0.crate`), crate);
    write(join(staticRoot, 'cargo', 'index', indexPath(name)), JSON.stringify({ name, vers: '1.0.0', deps: [], cksum, features: {}, yanked: false }) + '\n');
    const meta = { name, vers: '1.0.0', deps: [], features: {}, authors: [], description: `Benchmark crate ${i}`, license: 'MIT', keywords: [], categories: [], links: null };
    await must(
      `publish ${name}`,
      request(`${node.base}/api/cargo/cargo-bench/api/v1/crates/new`, { method: 'PUT', headers: { authorization: token }, body: publishBody(meta, crate), timeoutMs: 30_000 }),
    );
    deps.push(`${name} = { version = "1", registry = "bench" }`);
  }
  const project = join(work, 'cargo-consumer');
  write(join(project, 'Cargo.toml'), `[package]\nname = "consumer"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n${deps.join('\n')}\n`);
  write(join(project, 'src', 'main.rs'), 'fn main() {}\n');
  const home = join(work, 'cargo-home');
  return alternate(
    reps,
    () => {
      rmSync(home, { recursive: true, force: true });
      rmSync(join(project, 'Cargo.lock'), { force: true });
    },
    async (side) => {
      const index = side === 'arca' ? `${node.base}/api/cargo/cargo-bench/index/` : `${nginx.url}/artifactory/cargo/index/`;
      write(join(home, 'config.toml'), `[registries.bench]\nindex = "sparse+${index}"\n\n[registry]\nglobal-credential-providers = ["cargo:token"]\n\n[net]\nretry = 0\n`);
      const env: NodeJS.ProcessEnv = { ...process.env, CARGO_HOME: home, CARGO_TERM_COLOR: 'never' };
      if (side === 'arca') env.CARGO_REGISTRIES_BENCH_TOKEN = `Bearer ${token}`;
      const r = await run(cargo, ['fetch'], { cwd: project, env, timeoutMs: 300_000 });
      if (r.code !== 0) throw new Error(`cargo fetch from ${side} failed (${r.code}): ${(r.stderr + r.stdout).slice(-1500)}`);
      // Every crate really came down (a run that fetched nothing would look fast).
      const cacheDir = join(home, 'registry', 'cache');
      const got = existsSync(cacheDir) ? readdirSync(cacheDir).flatMap((d) => readdirSync(join(cacheDir, d))).filter((f) => /^bench-c\d\d-1\.0\.0\.crate$/.test(f)).length : 0;
      if (got !== COUNT) throw new Error(`cargo fetch from ${side} left ${got} of ${COUNT} crates in ${cacheDir}`);
    },
  );
}

export async function runFormats(quick: boolean): Promise<number> {
  const nginxBin = which('nginx');
  const go = which('go');
  const cargo = which('cargo', [join(process.env.HOME ?? '/root', '.cargo', 'bin')]);
  if (!nginxBin) {
    process.stderr.write('bench --formats: needs nginx (apt-get install nginx)\n');
    return 2;
  }
  const reps = quick ? 3 : 7;
  const work = mkdtempSync(join(tmpdir(), 'arca-bench-formats-'));
  const staticRoot = join(work, 'static');
  mkdirSync(staticRoot, { recursive: true });
  write(join(staticRoot, 'ping'), 'OK');
  let node: ArcaNode | undefined;
  let nginx: NginxServer | undefined;
  let goResult: Awaited<ReturnType<typeof benchGo>> | undefined;
  let cargoResult: Awaited<ReturnType<typeof benchCargo>> | undefined;
  let goError: string | undefined = go ? undefined : 'go is not installed (apt-get install golang-go)';
  let cargoError: string | undefined = cargo ? undefined : 'cargo is not installed';
  let debianResult: Awaited<ReturnType<typeof benchDebian>> | undefined;
  let debianError: string | undefined;
  let rpm: Awaited<ReturnType<typeof benchRpm>> | undefined;
  try {
    log('starting one Arca node (embedded default) and nginx over the static layouts');
    node = await startArca({ home: join(work, 'arca'), port: await freePort(), logFile: join(work, 'arca.log') });
    nginx = await startNginx({ nginx: nginxBin, dir: join(work, 'nginx'), port: await freePort(), root: staticRoot }, '/artifactory/ping');
    if (go) {
      log(`go: ${COUNT} modules, go mod download ×${reps} per side`);
      goResult = await benchGo(go, node, nginx, work, staticRoot, reps).catch((err: Error) => {
        goError = err.message;
        return undefined;
      });
    }
    if (cargo) {
      log(`cargo: ${COUNT} crates, cargo fetch ×${reps} per side`);
      cargoResult = await benchCargo(cargo, node, nginx, work, staticRoot, reps).catch((err: Error) => {
        cargoError = err.message;
        return undefined;
      });
    }
    log('debian: apt-get next to reprepro + nginx; index regeneration at 20,000 packages');
    debianResult = await benchDebian(node, nginx, work, staticRoot, quick ? 1 : 3).catch((err: Error) => {
      debianError = err.message;
      return undefined;
    });
    rpm = await benchRpm({ node, nginxUrl: nginx.url, work, staticRoot, reps, log, alternate });
  } finally {
    await nginx?.stop();
    await node?.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const rows = [
    rowOf('go-download', `go mod download of ${COUNT} modules (empty module cache)`, 'modules/s', goResult, goError),
    rowOf('cargo-fetch', `cargo fetch of ${COUNT} crates (empty CARGO_HOME)`, 'crates/s', cargoResult, cargoError),
    ...(debianResult?.rows ?? [makeRow({ id: 'apt-install', test: 'Debian (apt)', unit: 'packages/s', statistic: '—', error: debianError })]),
    ...(rpm?.rows ?? []),
  ];
  const secs = (r: { arca: Side; nginx: Side } | undefined) => (r ? `Arca ${r.arca.seconds.map((s) => s.toFixed(2)).join(', ')} s; nginx ${r.nginx.seconds.map((s) => s.toFixed(2)).join(', ')} s` : '—');
  const lines = [
    'Arca formats benchmark: one Arca node (embedded default) and nginx serving the same files as a static layout, on this machine',
    '',
    renderTable(rows),
    '',
    `Go: ${secs(goResult)}. Cargo: ${secs(cargoResult)}.`,
    ...(debianResult?.lines ?? []),
    ...(rpm ? [rpm.summary] : []),
    'Rates are items over the median time of the client run; the target is Arca within 1.5× of the static layout (a rate of at least 2/3 of it).',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  mkdirSync(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(REPO_ROOT, 'bench', 'results', 'formats-latest.json'), JSON.stringify({ at: new Date().toISOString(), quick, rows, go: goResult, cargo: cargoResult, debian: debianResult?.results, rpm: rpm?.detail }, null, 2) + '\n');
  return rows.some((r) => r.verdict === 'ERROR') ? 1 : 0;
}
