/**
 * `npm run bench -- --oci`: Arca's registry API against the CNCF registry (the Debian
 * `docker-registry`, distribution 2.8), side by side in one run.
 *
 * Starts Arca (`bin/arca.js start`, a fresh home, a local docker repository) and
 * docker-registry (filesystem storage in the temp dir, blob descriptors cached in memory as
 * in Debian's default configuration, access log off) on free 127.0.0.1
 * ports, then measures:
 *   (o1) skopeo push of a five-layer 200 MiB image (random layers, 40 MiB each) from an
 *        `oci:` layout (`--dest-tls-verify=false`), wall time; every repetition pushes new
 *        random layers (no blob is known to either registry or to skopeo's blob cache);
 *   (o2) skopeo pull of that image into a fresh `oci:` layout (`--src-tls-verify=false`),
 *        four times per registry and repetition (A-B-B-A-B-A-A-B), the median of all;
 *   (o3) 4 KiB blob GET req/s, wrk -t2 -c64, after a warm-up run.
 * Arca is addressed with the admin's credentials (skopeo: the token service; wrk: Basic),
 * the CNCF registry without authentication (its default). One uncounted warm-up repetition
 * comes first; then five (one with --quick) alternate which registry goes first, each timed
 * step after a `sync`, once the machine is idle (so no server pays for another's delayed
 * write-back or background work) and after writing and deleting a scratch file as large as
 * the image (so each step finds recently freed pages: see recyclePages). After each push
 * to Arca the bench waits, untimed, for Arca's MD5 backfill of the new blobs and reports
 * how long it took. Target: Arca no slower than the CNCF registry on any figure.
 * Prints one table and writes bench/results/oci-latest.json; stops everything at the end.
 */
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tarOf } from '../test/e2e/harness/oci-layout.js';
import { ADMIN_PASSWORD, ADMIN_USER, ARCA_ENTRY, AUTH, startArca, type ArcaNode } from './lib/arca.js';
import { startBenchRun } from './lib/bench-run.js';
import { cpuWindow, type CpuUse } from './lib/cpu.js';
import { freePort, request } from './lib/http.js';
import { check, removeTempDirs, run, sleep, startDaemon, which, type Daemon } from './lib/proc.js';
import { makeRow, median, renderTable, type Row } from './lib/report.js';
import { runWrk, wrkProblem, type WrkResult } from './lib/wrk.js';

const REPO = 'oci-bench';
const LAYERS = 5;
const LAYER_BYTES = 40 << 20;
const MIB = 1 << 20;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

function log(msg: string): void {
  process.stderr.write(`[bench --oci ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

interface Registry {
  name: 'Arca' | 'CNCF registry';
  /** host:port for skopeo's docker:// references. */
  host: string;
  url: string;
  /** Name prefix of images (`oci-bench/` for Arca, whose first name component is the repository). */
  prefix: string;
  /** skopeo's credential arguments. */
  creds: (direction: 'src' | 'dest') => string[];
  headers: Record<string, string>;
}

/** Writes an OCI image layout with one image of LAYERS random gzip'd tar layers; returns its manifest digest. */
function writeLayout(dir: string, tag: string): { digest: string; bytes: number } {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const blob = (mediaType: string, data: Buffer) => {
    const hex = createHash('sha256').update(data).digest('hex');
    writeFileSync(join(dir, 'blobs', 'sha256', hex), data);
    return { mediaType, digest: `sha256:${hex}`, size: data.length };
  };
  const content = Buffer.allocUnsafe(LAYER_BYTES - 2048);
  const layers = [];
  const diffIds = [];
  for (let i = 0; i < LAYERS; i++) {
    randomFillSync(content);
    const tar = tarOf({ [`layer-${i}.bin`]: content });
    diffIds.push(`sha256:${createHash('sha256').update(tar).digest('hex')}`);
    // Random data does not compress: level 0 keeps the gzip stream valid without spending CPU on it.
    layers.push(blob('application/vnd.oci.image.layer.v1.tar+gzip', gzipSync(tar, { level: 0 })));
  }
  const config = blob('application/vnd.oci.image.config.v1+json', Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } })));
  const manifest = blob(OCI_MANIFEST, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers })));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } }] }));
  return { digest: manifest.digest, bytes: layers.reduce((n, l) => n + l.size, 0) };
}

async function startRegistry(binary: string, root: string, logs: string): Promise<{ daemon: Daemon; url: string }> {
  const port = await freePort();
  mkdirSync(join(root, 'data'), { recursive: true });
  const config = join(root, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      // As Debian's /etc/docker/registry/config.yml: blob descriptors cached in memory.
      '  cache:',
      '    blobdescriptor: inmemory',
      '  filesystem:',
      `    rootdirectory: ${join(root, 'data')}`,
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const fd = openSync(join(logs, 'docker-registry.log'), 'a');
  const daemon = startDaemon(binary, ['serve', config], { logFd: fd });
  closeSync(fd);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (daemon.child.exitCode !== null) throw new Error(`docker-registry exited with ${daemon.child.exitCode}: see ${join(logs, 'docker-registry.log')}`);
    const r = await request(`${url}/v2/`, { timeoutMs: 1_000 }).catch(() => undefined);
    if (r?.status === 200) break;
    if (Date.now() > deadline) throw new Error('docker-registry did not answer /v2/ within 20 s');
    await sleep(50);
  }
  return { daemon, url };
}

/** Pushes a blob over HTTP (POST, then PUT to the Location given); returns its digest. */
async function pushBlob(reg: Registry, name: string, data: Buffer): Promise<string> {
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  const start = await request(`${reg.url}/v2/${reg.prefix}${name}/blobs/uploads/`, { method: 'POST', headers: reg.headers });
  if (start.status !== 202) throw new Error(`${reg.name}: POST upload: HTTP ${start.status} ${start.body.toString().slice(0, 200)}`);
  const location = new URL(String(start.headers.location), reg.url);
  location.searchParams.set('digest', digest);
  const put = await request(location.toString(), {
    method: 'PUT',
    headers: { ...reg.headers, 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
    body: data,
  });
  if (put.status !== 201) throw new Error(`${reg.name}: PUT upload: HTTP ${put.status} ${put.body.toString().slice(0, 200)}`);
  return digest;
}

/** Waits until the cores were less than 5 % busy for a quarter of a second (at most 10 s). */
async function machineIdle(): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    const end = cpuWindow();
    await sleep(250);
    if (end().busy < 0.05) return;
  }
}

/**
 * Writes and deletes a scratch file of `bytes` in `dir`, so the timed step that follows finds
 * that many recently freed page-cache pages. On a VM whose balloon reports free pages to the
 * host (Firecracker, and others with free page reporting), a page the guest freed more than
 * about two seconds ago must be faulted in again by the host on its next use: writing 200 MiB
 * into fresh pages then costs up to ten times the system time of writing it into pages just
 * freed. Without this step, whichever registry went first in a repetition paid for the other's
 * (and skopeo's) fresh pages: with an odd number of repetitions, that decided the medians.
 */
function recyclePages(dir: string, bytes: number): void {
  const file = join(dir, 'recycle.tmp');
  const block = Buffer.alloc(4 * MIB, 1);
  const fd = openSync(file, 'w');
  try {
    for (let done = 0; done < bytes; done += block.length) writeSync(fd, block);
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
}

/** Seconds until Arca's metrics show no binary with a pending MD5 (at most 60 s). */
async function md5Settled(base: string): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const r = await request(`${base}/api/v1/metrics`, { headers: { authorization: AUTH } });
    const pending = /^arca_binaries_md5_pending (\d+)/m.exec(r.body.toString());
    if (r.status !== 200 || !pending) throw new Error(`metrics: HTTP ${r.status}, no arca_binaries_md5_pending`);
    if (pending[1] === '0') return (performance.now() - t0) / 1000;
    if (performance.now() - t0 > 60_000) throw new Error(`${pending[1]} binaries still wait for their MD5 a minute after the push`);
    await sleep(100);
  }
}

async function timed(fn: () => Promise<unknown>): Promise<{ s: number; cpu: CpuUse }> {
  const end = cpuWindow();
  const t0 = performance.now();
  await fn();
  return { s: (performance.now() - t0) / 1000, cpu: end() };
}

export async function runOci(opts: { quick: boolean; tmpdir?: string; workers?: number; keepTmp?: boolean }): Promise<number> {
  const tools = { skopeo: which('skopeo'), registry: which('docker-registry'), wrk: which('wrk') };
  const missing = Object.entries(tools).filter(([, p]) => !p);
  if (missing.length > 0) throw new Error(`missing tools: ${missing.map(([k]) => k).join(', ')} (apt-get install skopeo docker-registry wrk)`);
  if (!existsSync(ARCA_ENTRY)) throw new Error(`${ARCA_ENTRY} is missing: run 'npm run build' first`);
  const reps = opts.quick ? 1 : 5;
  const [warmS, seconds] = opts.quick ? [1, 5] : [3, 10];
  const { root } = startBenchRun({ prefix: 'arca-bench-oci-', tmpdir: opts.tmpdir, keepTmp: opts.keepTmp, limitSeconds: opts.quick ? 600 : 1500, log });

  const startedAt = new Date();
  const logs = join(root, 'logs');
  mkdirSync(logs);
  let arca: ArcaNode | undefined;
  let registry: Daemon | undefined;
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  const versions = {
    skopeo: (await run(tools.skopeo!, ['--version'], { timeoutMs: 5_000 })).stdout.trim(),
    registry: (await run(tools.registry!, ['--version'], { timeoutMs: 5_000 })).stdout.trim(),
  };
  try {
    log(`starting Arca and the CNCF registry in ${root}`);
    arca = await startArca({ home: join(root, 'arca-home'), port: await freePort(), workers: opts.workers, logFile: join(logs, 'arca.log') });
    const created = await request(`${arca.base}/api/repositories/${REPO}`, {
      method: 'PUT',
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ rclass: 'local', packageType: 'docker' }),
    });
    if (created.status !== 200) throw new Error(`create ${REPO}: HTTP ${created.status} ${created.body.toString()}`);
    const reg = await startRegistry(tools.registry!, join(root, 'registry'), logs);
    registry = reg.daemon;
    const creds = ['--src-creds', `${ADMIN_USER}:${ADMIN_PASSWORD}`];
    const regs: Registry[] = [
      { name: 'Arca', host: new URL(arca.url).host, url: arca.url, prefix: `${REPO}/`, creds: (d) => (d === 'src' ? creds : ['--dest-creds', creds[1]]), headers: { authorization: AUTH } },
      { name: 'CNCF registry', host: new URL(reg.url).host, url: reg.url, prefix: '', creds: () => [], headers: {} },
    ];

    const push: Record<Registry['name'], { s: number; cpu: CpuUse }[]> = { Arca: [], 'CNCF registry': [] };
    const pull: Record<Registry['name'], { s: number; cpu: CpuUse }[]> = { Arca: [], 'CNCF registry': [] };
    const backfill: number[] = [];
    let transferError: string | undefined;
    // Repetition -1 warms both servers up (first connections, Arca's JIT) and is not counted.
    for (let i = -1; i < reps && !transferError; i++) {
      const warm = i < 0;
      const layout = join(root, `layout-${warm ? 'warm-up' : i}`);
      const image = writeLayout(layout, 'bench');
      log(`${warm ? 'warm-up (not counted)' : `repetition ${i + 1}/${reps}`}: ${LAYERS} layers, ${(image.bytes / MIB).toFixed(0)} MiB, manifest ${image.digest.slice(0, 19)}…`);
      const order = i % 2 === 0 ? regs : [...regs].reverse();
      // Each timed step starts with no dirty pages: neither server pays for the other's (or the
      // layout's) delayed write-back.
      const settle = async () => {
        check(await run('sync', [], { timeoutMs: 120_000 }), 'sync');
        await machineIdle();
        recyclePages(root, image.bytes + 64 * MIB);
      };
      try {
        for (const r of order) {
          const ref = `docker://${r.host}/${r.prefix}bench/img${warm ? 'warm' : i}:v1`;
          await settle();
          const t = await timed(async () =>
            check(await run(tools.skopeo!, ['copy', '--retry-times', '0', '--dest-tls-verify=false', ...r.creds('dest'), `oci:${layout}:bench`, ref], { timeoutMs: 600_000 }), `skopeo push to ${r.name}`),
          );
          if (!warm) push[r.name].push(t);
          log(`push to ${r.name}: ${t.s.toFixed(2)} s (${(image.bytes / MIB / t.s).toFixed(0)} MiB/s)`);
          if (r.name === 'Arca') {
            // Arca computes registry blobs' MD5 after the push: let that finish (it is reported,
            // not timed) so it does not run inside the next timed step.
            const settled = await md5Settled(arca!.base);
            if (!warm) backfill.push(settled);
            log(`Arca's MD5 backfill of the pushed blobs finished ${settled.toFixed(2)} s after the push`);
          }
        }
        // Pulls go A-B-B-A-B-A-A-B: the same image four times from each registry, each in every
        // position once per pair. A pull's time is dominated by skopeo (hashing, writing) and
        // now and then doubles when the VM hands skopeo's writes fresh pages (see recyclePages);
        // four pulls per repetition and the median over all of them keep such outliers from
        // deciding the figure.
        const reversed = [...order].reverse();
        for (const [n, r] of (warm ? order : [...order, ...reversed, ...reversed, ...order]).entries()) {
          const out = join(root, `pulled-${i}-${n}`);
          const ref = `docker://${r.host}/${r.prefix}bench/img${warm ? 'warm' : i}:v1`;
          await settle();
          const t = await timed(async () =>
            check(await run(tools.skopeo!, ['copy', '--retry-times', '0', '--src-tls-verify=false', ...r.creds('src'), ref, `oci:${out}:bench`], { timeoutMs: 600_000 }), `skopeo pull from ${r.name}`),
          );
          const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
          if (index.manifests[0]?.digest !== image.digest) throw new Error(`the image pulled from ${r.name} is ${index.manifests[0]?.digest}, not ${image.digest}`);
          rmSync(out, { recursive: true, force: true });
          if (!warm) pull[r.name].push(t);
          log(`pull from ${r.name}: ${t.s.toFixed(2)} s (${(image.bytes / MIB / t.s).toFixed(0)} MiB/s)`);
        }
      } catch (err) {
        transferError = (err as Error).message.split('\n')[0];
        log(`push/pull failed: ${(err as Error).message}`);
      }
      rmSync(layout, { recursive: true, force: true });
    }
    details.pushSeconds = Object.fromEntries(Object.entries(push).map(([k, v]) => [k, v.map((x) => x.s)]));
    details.arcaMd5BackfillSeconds = backfill;
    details.pullSeconds = Object.fromEntries(Object.entries(pull).map(([k, v]) => [k, v.map((x) => x.s)]));
    for (const [id, what, runs] of [
      ['o1', 'skopeo push, 5 layers, 200 MiB', push],
      ['o2', 'skopeo pull, 5 layers, 200 MiB', pull],
    ] as const) {
      const a = median(runs.Arca.map((x) => x.s));
      const c = median(runs['CNCF registry'].map((x) => x.s));
      const ok = Number.isFinite(a) && Number.isFinite(c);
      const others = (xs: { cpu: CpuUse }[]) => (xs.length ? xs.reduce((n, x) => n + x.cpu.foreign, 0) / xs.length : undefined);
      rows.push({
        id,
        test: `(${id}) ${what}`,
        unit: 's',
        statistic: `median of ${runs.Arca.length}`,
        arca: ok ? a : undefined,
        reference: ok ? { name: 'CNCF', value: c } : undefined,
        ratio: ok ? a / c : undefined,
        target: { kind: 'max', value: c, text: '≤ CNCF registry' },
        verdict: transferError || !ok ? 'ERROR' : a <= c ? 'PASS' : 'MISS',
        othersCpu: { arca: others(runs.Arca), reference: others(runs['CNCF registry']) },
        error: transferError,
      });
    }

    // (o3) the same 4 KiB blob in both, GET at 64 connections.
    const small = randomBytes(4096);
    const figures: Partial<Record<Registry['name'], WrkResult & { cpu: CpuUse }>> = {};
    let wrkError: string | undefined;
    for (const r of regs) {
      try {
        const d = await pushBlob(r, 'bench/small', small);
        const url = `${r.url}/v2/${r.prefix}bench/small/blobs/${d}`;
        const probe = await request(url, { headers: r.headers });
        if (probe.status !== 200 || !probe.body.equals(small)) throw new Error(`${r.name} did not serve the 4 KiB blob back (HTTP ${probe.status})`);
        const o = { wrk: tools.wrk!, url, headers: r.headers, threads: 2, connections: 64 };
        await runWrk({ ...o, durationS: warmS });
        const end = cpuWindow();
        const w = await runWrk({ ...o, durationS: seconds });
        const cpu = end();
        const problem = wrkProblem(w);
        if (problem) throw new Error(`wrk against ${r.name}: ${problem}`);
        figures[r.name] = { ...w, raw: '', cpu };
        log(`4 KiB blob GET ${r.name}: ${Math.round(w.requestsPerSec)} req/s, p99 ${w.latency.p99?.toFixed(1)} ms`);
      } catch (err) {
        wrkError = (err as Error).message.split('\n')[0];
        log(`4 KiB blob GET ${r.name} failed: ${(err as Error).message}`);
      }
    }
    details.blobGet = figures;
    rows.push(
      makeRow({
        id: 'o3',
        test: '(o3) 4 KiB blob GET, 64 conns',
        unit: 'req/s',
        statistic: `wrk -t2 -c64 -d${seconds}s`,
        arca: figures.Arca?.requestsPerSec,
        reference: figures['CNCF registry'] ? { name: 'CNCF', value: figures['CNCF registry'].requestsPerSec } : undefined,
        target: { kind: 'min-ratio', value: 1, text: '≥ CNCF registry' },
        othersCpu: { arca: figures.Arca?.cpu.foreign, reference: figures['CNCF registry']?.cpu.foreign },
        error: wrkError,
      }),
    );
  } finally {
    await arca?.stop().catch(() => undefined);
    await registry?.stop().catch(() => undefined);
    if (!opts.keepTmp) removeTempDirs();
    else log(`kept ${root}`);
  }

  const header =
    `Arca OCI benchmark (--oci), ${opts.quick ? 'quick' : 'full'} run, ${startedAt.toISOString()}\n` +
    `machine: ${os.availableParallelism()} cores, node ${process.version}; Arca workers: ${opts.workers ?? 'default (one per CPU)'}; ${versions.registry}; ${versions.skopeo}\n` +
    `Both registries on 127.0.0.1 over plain HTTP; Arca with the admin's credentials, the CNCF registry without authentication.\n` +
    `skopeo and wrk share the cores with the servers. (o1), (o2): ratio is Arca's time / the CNCF registry's (lower is better).`;
  process.stdout.write(`\n${header}\n\n${renderTable(rows)}\n`);
  const resultsDir = join(import.meta.dirname, 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'oci-latest.json'), JSON.stringify({ schema: 1, startedAt: startedAt.toISOString(), quick: opts.quick, versions, rows, details }, null, 2) + '\n');
  process.stdout.write(`written ${join(resultsDir, 'oci-latest.json')}\n`);
  return rows.some((r) => r.verdict === 'ERROR') ? 1 : 0;
}
