/**
 * The Debian part of `npm run bench -- --formats` (issue 18):
 *
 * - apt: 50 packages (`bench-dNN` 1.0, built by dpkg-deb) deployed to a Debian repository of the
 *   Arca node, and the same packages published by reprepro (signed with a gpg key made for the
 *   run) into the static tree nginx serves. Timed: `apt-get update` + `apt-get install
 *   --download-only` of all 50 into an apt root of its own, emptied before each run, against
 *   Arca or against nginx, alternately. Target: Arca within 1.5× of the static time.
 * - Index regeneration at 20,000 packages, in a node of its own (a child process running an
 *   in-process node on the embedded default, so its peak RSS is the node's alone): 20,000
 *   packages listed in one import (`addPackages`), then ONE more package deployed through the
 *   HTTP API (the .deb checked, stored, its bucket rewritten, the whole Packages files hashed,
 *   the state switched), then deleted. Targets: the one added package under 1 s; peak RSS
 *   reported (the node's usual memory is a few hundred MB).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AptRoot, buildDeb } from '../test/helpers/debian-packages.js';
import { GpgHome, RepreproRepo } from '../test/helpers/debian-static.js';
import type { ArcaNode } from './lib/arca.js';
import { ADMIN_PASSWORD, AUTH, REPO_ROOT } from './lib/arca.js';
import { request } from './lib/http.js';
import type { NginxServer } from './lib/nginx.js';
import { makeRow, median, type Row } from './lib/report.js';
import { createLocalRepo, must } from './lib/repos.js';

const COUNT = 50;
const pad = (i: number) => String(i).padStart(2, '0');

function log(msg: string): void {
  process.stderr.write(`[bench --formats debian ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** apt-get update + install --download-only of the 50 packages, against Arca and nginx alternately. */
async function benchApt(node: ArcaNode, nginx: NginxServer, work: string, staticRoot: string, reps: number) {
  await createLocalRepo(node, 'deb-bench', 'debian');
  const debs = join(work, 'debs');
  mkdirSync(debs, { recursive: true });
  const gpg = new GpgHome(join(work, 'gnupg'));
  const mirror = new RepreproRepo(join(staticRoot, 'debian'), gpg, [{ codename: 'bookworm', components: ['main'], architectures: ['amd64'] }]);
  const names: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    const name = `bench-d${pad(i)}`;
    const deb = buildDeb(debs, { name, version: '1.0', arch: 'amd64', payload: `${name}\n${createHash('sha256').update(name).digest('hex').repeat(64)}\n` });
    mirror.include('bookworm', deb.path);
    await must(`deploy ${name}`, request(`${node.base}/api/deb/deb-bench/pool/main/b/${name}/${name}_1.0_amd64.deb;deb.distribution=bookworm;deb.component=main`, { method: 'PUT', headers: { authorization: AUTH }, body: deb.data, timeoutMs: 30_000 }));
    names.push(name);
  }
  // reprepro's own bookkeeping is not served.
  for (const d of ['conf', 'db']) rmSync(join(staticRoot, 'debian', d), { recursive: true, force: true });
  const arcaKey = await request(`${node.base}/api/gpg/key/public`, { headers: { authorization: AUTH } });
  const roots = { arca: join(work, 'apt-arca'), nginx: join(work, 'apt-nginx') };
  const out = { arca: { seconds: [] as number[] }, nginx: { seconds: [] as number[] } };
  for (let i = 0; i < reps; i++) {
    for (const side of i % 2 === 0 ? (['nginx', 'arca'] as const) : (['arca', 'nginx'] as const)) {
      rmSync(roots[side], { recursive: true, force: true });
      const apt = new AptRoot(roots[side]);
      const extra: string[] = [];
      if (side === 'arca') {
        const url = new URL(`${node.base}/api/deb/deb-bench`);
        writeFileSync(join(apt.dir, 'etc/apt/auth.conf'), `machine http://${url.host}${url.pathname} login admin password ${ADMIN_PASSWORD}\n`);
        extra.push('-o', `Dir::Etc::netrc=${join(apt.dir, 'etc/apt/auth.conf')}`);
        const options = arcaKey.status === 200 ? `[signed-by=${apt.keyring('arca', arcaKey.body.toString())}]` : '[trusted=yes]';
        apt.sources([`deb ${options} ${url.href} bookworm main`]);
      } else {
        apt.sources([`deb [signed-by=${apt.keyring('mirror', gpg.publicKey())}] ${nginx.url}/artifactory/debian bookworm main`]);
      }
      const t = performance.now();
      const update = await apt.apt([...extra, 'update']);
      if (update.code !== 0 || /^(W|E):/m.test(update.out)) throw new Error(`apt-get update from ${side} failed: ${update.out.slice(-1500)}`);
      const install = await apt.apt([...extra, 'install', '--download-only', ...names], 300_000);
      if (install.code !== 0) throw new Error(`apt-get install from ${side} failed: ${install.out.slice(-1500)}`);
      out[side].seconds.push((performance.now() - t) / 1000);
      const got = readdirSync(apt.archives()).filter((f) => /^bench-d\d\d_1\.0_amd64\.deb$/.test(f)).length;
      if (got !== COUNT) throw new Error(`apt-get from ${side} downloaded ${got} of ${COUNT} packages`);
      log(`apt ${side}: ${out[side].seconds.at(-1)!.toFixed(2)} s`);
    }
  }
  return { ...out, signed: arcaKey.status === 200 };
}

interface RegenResult {
  packages: number;
  importSeconds: number;
  addOneSeconds: number[];
  deleteOneSeconds: number;
  peakRssMb: number;
  rssAfterMb: number;
  packagesBytes: number;
  packagesGzBytes: number;
}

/** Runs the regeneration measurement in a child process (its own node, its own peak RSS). */
function runRegen(count: number, work: string): Promise<RegenResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bench', 'formats-debian-regen.ts'), String(count), work], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`the regeneration run exited with ${code}: ${out.slice(-500)}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1)!) as RegenResult);
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}

/** The Debian rows of `--formats` (apt next to reprepro + nginx; regeneration at 20,000 packages). */
export async function benchDebian(node: ArcaNode, nginx: NginxServer, work: string, staticRoot: string, reps: number, regenCount = 20_000): Promise<{ rows: Row[]; lines: string[]; results: unknown }> {
  const haveTools = ['/usr/bin/apt-get', '/usr/bin/dpkg-deb', '/usr/bin/reprepro', '/usr/bin/gpg'].every((p) => existsSync(p));
  let apt: Awaited<ReturnType<typeof benchApt>> | undefined;
  let aptError: string | undefined = haveTools ? undefined : 'apt-get, dpkg-deb, reprepro or gpg is not installed';
  if (haveTools) {
    log(`apt: ${COUNT} packages, apt-get update + install --download-only ×${reps} per side`);
    apt = await benchApt(node, nginx, join(work, 'debian'), staticRoot, reps).catch((err: Error) => {
      aptError = err.message;
      return undefined;
    });
  }
  log(`regeneration: ${regenCount} packages, then one more`);
  const regenWork = mkdtempSync(join(tmpdir(), 'arca-bench-debregen-'));
  let regen: RegenResult | undefined;
  let regenError: string | undefined;
  try {
    regen = await runRegen(regenCount, regenWork);
  } catch (err) {
    regenError = (err as Error).message;
  } finally {
    rmSync(regenWork, { recursive: true, force: true });
  }
  const rate = (s: number[]) => COUNT / median(s);
  const rows: Row[] = [
    makeRow({
      id: 'apt-install',
      test: `apt-get update + install --download-only of ${COUNT} packages (empty apt root)`,
      unit: 'packages/s',
      statistic: apt ? `median of ${apt.arca.seconds.length}` : '—',
      arca: apt && rate(apt.arca.seconds),
      reference: apt && { name: 'nginx (reprepro)', value: rate(apt.nginx.seconds) },
      target: { kind: 'min-ratio', value: 2 / 3, text: '≤ 1.5× the static time' },
      error: aptError,
    }),
    makeRow({
      id: 'debian-add-one',
      test: `Debian: deploy of one package into a distribution of ${regenCount.toLocaleString('en-US')} (indexes regenerated)`,
      unit: 's',
      statistic: regen ? `median of ${regen.addOneSeconds.length}` : '—',
      arca: regen && median(regen.addOneSeconds),
      target: { kind: 'max', value: 1, text: '< 1 s' },
      error: regenError,
    }),
    makeRow({
      id: 'debian-regen-rss',
      test: `Debian: peak RSS of the node while indexing ${regenCount.toLocaleString('en-US')} packages`,
      unit: 'MB',
      statistic: 'one run',
      arca: regen?.peakRssMb,
      note: regen && `import of ${regenCount} in ${regen.importSeconds.toFixed(1)} s; Packages ${(regen.packagesBytes / 1e6).toFixed(1)} MB, Packages.gz ${(regen.packagesGzBytes / 1e6).toFixed(1)} MB`,
      error: regenError,
    }),
  ];
  const lines = [
    `Debian apt: ${apt ? `Arca ${apt.arca.seconds.map((s) => s.toFixed(2)).join(', ')} s; nginx ${apt.nginx.seconds.map((s) => s.toFixed(2)).join(', ')} s${apt.signed ? '' : ' (Arca unsigned: no key store on this build)'}` : aptError}.`,
    `Debian regeneration: ${regen ? `import of ${regen.packages} in ${regen.importSeconds.toFixed(1)} s; one more package ${regen.addOneSeconds.map((s) => s.toFixed(3)).join(', ')} s; its delete ${regen.deleteOneSeconds.toFixed(3)} s; peak RSS ${regen.peakRssMb.toFixed(0)} MB (after: ${regen.rssAfterMb.toFixed(0)} MB)` : regenError}.`,
  ];
  return { rows, lines, results: { apt, regen } };
}
