/**
 * The RPM part of `npm run bench -- --formats` (issue 18), called from bench/formats.ts:
 *
 * - dnf: 50 packages (`bench-p00`…`bench-p49`, subpackages of one rpmbuild) deployed to an RPM
 *   repository of the Arca node, and the same files published statically by `createrepo_c`
 *   (gzip metadata) under nginx. Timed: `dnf makecache` then `dnf install` of all 50 into an
 *   empty `--installroot`, with an empty cache each time, Arca and nginx alternately; the
 *   medians are compared (target: Arca within 1.5× of the static time).
 * - Regeneration at 20,000 packages: a second repository is given the records of 20,000
 *   synthetic packages (their primary/filelists/other entries, made by the format's own
 *   package-xml.ts from made-up headers, in the 256 chunk files repo-index.ts keeps), stored
 *   as a replication stores them (no hooks). Deleting repodata/repomd.xml then makes the
 *   format rebuild every data file from the records (timed: the full rebuild), and adding one
 *   real package by `PUT` is timed from the request to its answer (the metadata is published
 *   before the deploy answers), a few times. The node's peak RSS (process tree) is sampled
 *   during both. Target: one added package under 1 s at 20,000.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHUNKS, chunkOf, chunkPath } from '../src/formats/rpm/layout.js';
import { packageXml } from '../src/formats/rpm/package-xml.js';
import type { RpmHeader } from '../src/formats/rpm/rpm-header.js';
import { ADMIN_PASSWORD, ADMIN_USER, AUTH, type ArcaNode } from './lib/arca.js';
import type { CpuUse } from './lib/cpu.js';
import { request } from './lib/http.js';
import { run, which } from './lib/proc.js';
import { makeRow, median, type Row } from './lib/report.js';
import { createLocalRepo, must } from './lib/repos.js';
import { TreeRssSampler, treeRss } from './lib/rss.js';

const COUNT = 50;
const SCALE = 20_000;
const pad = (i: number) => String(i).padStart(2, '0');
const MiB = 1024 * 1024;
const sha1 = (data: Buffer) => createHash('sha1').update(data).digest('hex');

export interface RpmBenchContext {
  node: ArcaNode;
  /** nginx's base URL; it serves `staticRoot` at `/artifactory/`. */
  nginxUrl: string;
  work: string;
  staticRoot: string;
  reps: number;
  log(message: string): void;
  /** bench/formats.ts's runner: warm-ups, then both sides alternately, `reps` times each. */
  alternate(reps: number, fresh: () => void, fetch: (side: 'arca' | 'nginx') => Promise<void>): Promise<{ arca: Side; nginx: Side }>;
}

interface Side {
  seconds: number[];
  cpu: CpuUse[];
}

/** One rpmbuild of `count` noarch subpackages `{prefix}NN`; returns the package files. */
function buildSubpackages(dir: string, prefix: string, count: number): string[] {
  const top = join(dir, `rpmbuild-${prefix}`);
  mkdirSync(top, { recursive: true });
  const subs = Array.from({ length: count }, (_, i) => `${prefix}${pad(i)}`);
  const spec = [
    `Name: ${prefix}base`,
    'Version: 1.0',
    'Release: 1',
    'Summary: Arca benchmark packages',
    'License: MIT',
    'BuildArch: noarch',
    '%description',
    'Benchmark packages.',
    ...subs.flatMap((s) => [`%package -n ${s}`, `Summary: Benchmark package ${s}`, `%description -n ${s}`, `Benchmark package ${s}.`]),
    '%install',
    ...subs.map((s) => `mkdir -p %{buildroot}/usr/share/${s} && echo ${s} > %{buildroot}/usr/share/${s}/${s}.txt`),
    ...subs.flatMap((s) => [`%files -n ${s}`, `/usr/share/${s}`]),
  ].join('\n');
  writeFileSync(join(top, 'bench.spec'), spec);
  execFileSync('rpmbuild', ['--define', `_topdir ${top}`, '--define', '_build_id_links none', '--quiet', '-bb', join(top, 'bench.spec')], { stdio: 'pipe' });
  const out = join(top, 'RPMS', 'noarch');
  return readdirSync(out)
    .filter((f) => subs.some((s) => f.startsWith(`${s}-1.0-1.`)))
    .map((f) => join(out, f));
}

function dnfConf(dir: string): string {
  const conf = join(dir, 'dnf.conf');
  mkdirSync(join(dir, 'repos.d'), { recursive: true });
  writeFileSync(conf, `[main]\ngpgcheck=0\nskip_if_unavailable=False\nmetadata_expire=0\ncachedir=${join(dir, 'cache')}\nlogdir=${join(dir, 'log')}\npersistdir=${join(dir, 'persist')}\n`);
  return conf;
}

/** dnf makecache + install of the 50 packages from Arca and from nginx, alternately. */
async function benchDnf(dnf: string, c: RpmBenchContext): Promise<{ arca: Side; nginx: Side }> {
  const { node, work, staticRoot } = c;
  await createLocalRepo(node, 'rpm-bench', 'rpm');
  const files = buildSubpackages(work, 'bench-p', COUNT);
  if (files.length !== COUNT) throw new Error(`rpmbuild made ${files.length} of ${COUNT} packages`);
  const mirror = join(staticRoot, 'rpm');
  mkdirSync(join(mirror, 'Packages'), { recursive: true });
  for (const f of files) {
    const data = readFileSync(f);
    const name = f.split('/').pop()!;
    writeFileSync(join(mirror, 'Packages', name), data);
    await must(`deploy ${name}`, request(`${node.base}/rpm-bench/Packages/${name}`, { method: 'PUT', headers: { authorization: AUTH }, body: data, timeoutMs: 30_000 }));
  }
  execFileSync('createrepo_c', ['--quiet', '--general-compress-type=gz', mirror]);
  const names = Array.from({ length: COUNT }, (_, i) => `bench-p${pad(i)}`);
  const dir = join(work, 'dnf');
  return c.alternate(
    c.reps,
    () => rmSync(dir, { recursive: true, force: true }),
    async (side) => {
      const conf = dnfConf(dir);
      const credentials = side === 'arca' ? `username=${ADMIN_USER}\npassword=${ADMIN_PASSWORD}\n` : '';
      const baseurl = side === 'arca' ? `${node.base}/rpm-bench` : `${c.nginxUrl}/artifactory/rpm`;
      writeFileSync(join(dir, 'repos.d', 'bench.repo'), `[bench]\nname=bench\nbaseurl=${baseurl}\nenabled=1\ngpgcheck=0\nrepo_gpgcheck=0\n${credentials}`);
      const common = ['-y', '-q', '--config', conf, `--setopt=reposdir=${join(dir, 'repos.d')}`, '--releasever', '12', '--installroot', join(dir, 'root')];
      for (const args of [['makecache'], ['install', ...names]]) {
        const r = await run(dnf, [...common, ...args], { timeoutMs: 300_000 });
        if (r.code !== 0) throw new Error(`dnf ${args[0]} from ${side} failed (${r.code}): ${(r.stderr + r.stdout).slice(-1500)}`);
      }
      // Every package really got installed (a run that installed nothing would look fast).
      const got = names.filter((n) => existsSync(join(dir, 'root', 'usr', 'share', n, `${n}.txt`))).length;
      if (got !== COUNT) throw new Error(`dnf install from ${side} installed ${got} of ${COUNT} packages`);
    },
  );
}

/** A made-up header of a mid-sized package (dependencies, a few files, two changelog entries). */
export function syntheticHeader(i: number): RpmHeader {
  const name = `scale-pkg-${i}`;
  const dep = (n: string, flags = 0, version = '') => ({ name: n, flags, version });
  return {
    name,
    epoch: 0,
    version: `${1 + (i % 7)}.${i % 13}.${i % 5}`,
    release: '1.el9',
    arch: i % 3 === 0 ? 'noarch' : 'x86_64',
    summary: `Synthetic package number ${i} for the regeneration benchmark`,
    description: `This package exists only in the metadata of the benchmark repository. It stands for a typical package: a summary, a paragraph of description, some dependencies and files. Number ${i}.`,
    packager: 'Arca Bench <bench@example.com>',
    url: `https://example.com/${name}`,
    license: 'MIT',
    vendor: 'Arca',
    group: 'Unspecified',
    buildhost: 'bench.example.com',
    sourcerpm: `${name}-1.0-1.el9.src.rpm`,
    buildTime: 1_790_000_000 + i,
    installedSize: 10_000 + i,
    archiveSize: 12_000 + i,
    headerStart: 4504,
    headerEnd: 9000 + (i % 1000),
    dependencies: {
      provides: [dep(name, 8, '0:1.0-1.el9'), dep(`${name}(x86-64)`, 8, '0:1.0-1.el9'), dep(`libscale${i}.so.1()(64bit)`)],
      requires: [dep('/bin/sh'), dep('glibc', 12, '2.34'), dep(`scale-pkg-${(i * 7919) % SCALE}`), dep('libc.so.6()(64bit)'), dep('rpmlib(CompressedFileNames)', 16777226, '3.0.4-1')],
      conflicts: [],
      obsoletes: i % 10 === 0 ? [dep(`old-scale-${i}`, 2, '1.0')] : [],
      recommends: [],
      suggests: [],
      supplements: [],
      enhances: [],
    },
    files: [
      { path: `/usr/bin/${name}`, type: 'file' },
      { path: `/usr/lib64/libscale${i}.so.1`, type: 'file' },
      { path: `/usr/share/doc/${name}`, type: 'dir' },
      { path: `/usr/share/doc/${name}/README`, type: 'file' },
      { path: `/usr/share/man/man1/${name}.1.gz`, type: 'file' },
      { path: `/etc/${name}.conf`, type: 'file' },
    ],
    changelogs: [
      { author: 'Ann <ann@example.com> - 1.0-1', date: 1_780_000_000, text: '- Initial package' },
      { author: 'Bob <bob@example.com> - 1.0-2', date: 1_785_000_000, text: '- Rebuilt for the benchmark' },
    ],
  };
}

/** Peak RSS of the node's process tree while `work` runs, in bytes. */
async function withRss<T>(node: ArcaNode, work: () => Promise<T>): Promise<{ value: T; peak: number }> {
  const sampler = new TreeRssSampler(node.pid, 20).start();
  try {
    const value = await work();
    return { value, peak: sampler.stop().peakTotal };
  } catch (err) {
    sampler.stop();
    throw err;
  }
}

/** 20,000 packages' records, a full rebuild, then single-package adds. */
async function benchScale(c: RpmBenchContext, adds: number) {
  const { node, work } = c;
  await createLocalRepo(node, 'rpm-scale', 'rpm');
  const chunks: Array<Record<string, unknown>> = Array.from({ length: CHUNKS }, () => ({}));
  for (let i = 0; i < SCALE; i++) {
    const h = syntheticHeader(i);
    const href = `Packages/${h.name}-${h.version}-${h.release}.${h.arch}.rpm`;
    const sha256 = (i.toString(16).padStart(8, '0') + 'a5'.repeat(28)).slice(0, 64);
    const xml = packageXml(h, { sha256, size: 20_000 + i, fileTime: 1_790_000_000, href });
    chunks[chunkOf(href)][href] = { ...xml, pkgid: sha256, nevra: `${h.name}-${h.version}-${h.release}.${h.arch}` };
  }
  // Stored as a replication stores files: as given, without the format's hooks.
  const seed = { authorization: AUTH, 'x-arca-replication-origin': 'bench-seed' };
  let recordBytes = 0;
  for (let cIdx = 0; cIdx < CHUNKS; cIdx++) {
    const body = Buffer.from(JSON.stringify({ packages: chunks[cIdx] }));
    recordBytes += body.length;
    await must(`seed chunk ${cIdx}`, request(`${node.base}/rpm-scale/${chunkPath('', cIdx)}`, { method: 'PUT', headers: { ...seed, 'x-checksum-sha1': sha1(body) }, body, timeoutMs: 60_000 }), [200, 201]);
  }
  const placeholder = Buffer.from('<repomd/>');
  await must('seed repomd.xml', request(`${node.base}/rpm-scale/repodata/repomd.xml`, { method: 'PUT', headers: { ...seed, 'x-checksum-sha1': sha1(placeholder) }, body: placeholder }), [200, 201]);
  c.log(`rpm: ${SCALE} package records seeded (${(recordBytes / MiB).toFixed(1)} MiB of records); full rebuild`);
  const before = treeRss(node.pid).total;
  const rebuild = await withRss(node, async () => {
    const t = performance.now();
    await must('delete repomd.xml (rebuild)', request(`${node.base}/rpm-scale/repodata/repomd.xml`, { method: 'DELETE', headers: { authorization: AUTH }, timeoutMs: 300_000 }));
    return (performance.now() - t) / 1000;
  });
  const repomd = (await must('repomd.xml', request(`${node.base}/rpm-scale/repodata/repomd.xml`, { headers: { authorization: AUTH } }))).toString();
  const primarySize = Number(/<data type="primary">[\s\S]*?<size>(\d+)<\/size>/.exec(repomd)?.[1] ?? 0);
  const filelistsSize = Number(/<data type="filelists">[\s\S]*?<size>(\d+)<\/size>/.exec(repomd)?.[1] ?? 0);
  c.log(`rpm: full rebuild of ${SCALE} packages in ${rebuild.value.toFixed(2)} s (primary.xml.gz ${(primarySize / MiB).toFixed(1)} MiB); adding ${adds} packages one at a time`);
  const files = buildSubpackages(work, 'scale-add-', adds);
  const seconds: number[] = [];
  const added = await withRss(node, async () => {
    for (const f of files) {
      const data = readFileSync(f);
      const t = performance.now();
      await must(`add ${f}`, request(`${node.base}/rpm-scale/Packages/${f.split('/').pop()}`, { method: 'PUT', headers: { authorization: AUTH }, body: data, timeoutMs: 60_000 }));
      seconds.push((performance.now() - t) / 1000);
      c.log(`rpm: one package added at ${SCALE + seconds.length - 1} in ${seconds.at(-1)!.toFixed(3)} s`);
    }
  });
  // The same PUTs into a generic repository: what a deploy costs without any metadata.
  await createLocalRepo(node, 'generic-scale', 'generic');
  const plain: number[] = [];
  for (const f of files) {
    const data = readFileSync(f);
    const t = performance.now();
    await must(`plain ${f}`, request(`${node.base}/generic-scale/${f.split('/').pop()}`, { method: 'PUT', headers: { authorization: AUTH }, body: data, timeoutMs: 60_000 }));
    plain.push((performance.now() - t) / 1000);
  }
  const after = (await must('repomd.xml', request(`${node.base}/rpm-scale/repodata/repomd.xml`, { headers: { authorization: AUTH } }))).toString();
  if (after === repomd) throw new Error('repomd.xml did not change after the adds');
  return { rebuild: rebuild.value, rebuildPeak: rebuild.peak, addSeconds: seconds, plainSeconds: plain, addPeak: added.peak, baseline: before, primarySize, filelistsSize };
}

/** The RPM rows of `bench --formats`. */
export async function benchRpm(c: RpmBenchContext): Promise<{ rows: Row[]; summary: string; detail: unknown }> {
  const dnf = which('dnf');
  const missing = ['dnf', 'createrepo_c', 'rpmbuild'].find((b) => !which(b));
  const rows: Row[] = [];
  let dnfResult: { arca: Side; nginx: Side } | undefined;
  let dnfError: string | undefined = missing ? `${missing} is not installed (apt-get install dnf createrepo-c rpm)` : undefined;
  if (!missing && dnf) {
    c.log(`rpm: ${COUNT} packages, dnf makecache + install ×${c.reps} per side`);
    dnfResult = await benchDnf(dnf, c).catch((err: Error) => {
      dnfError = err.message;
      return undefined;
    });
  }
  const rate = (s: Side) => COUNT / median(s.seconds);
  rows.push(
    makeRow({
      id: 'dnf-install',
      test: `dnf makecache + install of ${COUNT} packages (empty cache and root)`,
      unit: 'packages/s',
      statistic: dnfResult ? `median of ${dnfResult.arca.seconds.length}` : '—',
      arca: dnfResult && rate(dnfResult.arca),
      reference: dnfResult && { name: 'nginx (createrepo_c)', value: rate(dnfResult.nginx) },
      target: { kind: 'min-ratio', value: 2 / 3, text: '≤ 1.5× the static time' },
      othersCpu: dnfResult && { arca: median(dnfResult.arca.cpu.map((x) => x.foreign)), reference: median(dnfResult.nginx.cpu.map((x) => x.foreign)) },
      error: dnfError,
    }),
  );
  let scale: Awaited<ReturnType<typeof benchScale>> | undefined;
  let scaleError: string | undefined = missing ? dnfError : undefined;
  if (!missing) {
    scale = await benchScale(c, c.reps >= 7 ? 7 : 3).catch((err: Error) => {
      scaleError = err.message;
      return undefined;
    });
  }
  rows.push(
    makeRow({
      id: 'rpm-add-at-20k',
      test: `one package added at ${SCALE.toLocaleString('en-US')} (PUT until repomd.xml is published)`,
      unit: 's',
      statistic: scale ? `median of ${scale.addSeconds.length}` : '—',
      arca: scale && median(scale.addSeconds),
      target: { kind: 'max', value: 1, text: '< 1 s' },
      note: scale && `the same PUT into a generic repository: ${median(scale.plainSeconds).toFixed(2)} s; peak RSS ${(scale.addPeak / MiB).toFixed(0)} MiB (before: ${(scale.baseline / MiB).toFixed(0)} MiB)`,
      error: scaleError,
    }),
    makeRow({
      id: 'rpm-rebuild-20k',
      test: `full rebuild of the repodata of ${SCALE.toLocaleString('en-US')} packages`,
      unit: 's',
      statistic: scale ? 'one run' : '—',
      arca: scale?.rebuild,
      note: scale && `peak RSS ${(scale.rebuildPeak / MiB).toFixed(0)} MiB (before: ${(scale.baseline / MiB).toFixed(0)} MiB); primary.xml.gz ${(scale.primarySize / MiB).toFixed(1)} MiB, filelists.xml.gz ${(scale.filelistsSize / MiB).toFixed(1)} MiB`,
      error: scaleError,
    }),
  );
  const secs = dnfResult ? `Arca ${dnfResult.arca.seconds.map((s) => s.toFixed(2)).join(', ')} s; nginx ${dnfResult.nginx.seconds.map((s) => s.toFixed(2)).join(', ')} s` : '—';
  const adds = scale
    ? `adds at ${SCALE}: ${scale.addSeconds.map((s) => s.toFixed(3)).join(', ')} s (plain deploys ${scale.plainSeconds.map((s) => s.toFixed(3)).join(', ')} s); full rebuild ${scale.rebuild.toFixed(2)} s; node peak RSS ${(scale.rebuildPeak / MiB).toFixed(0)} MiB (rebuild), ${(scale.addPeak / MiB).toFixed(0)} MiB (adds), ${(scale.baseline / MiB).toFixed(0)} MiB before`
    : '—';
  return { rows, summary: `RPM: ${secs}; ${adds}.`, detail: { dnf: dnfResult, scale } };
}
