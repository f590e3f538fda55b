/**
 * Child process of bench/formats-debian.ts: an in-process node (embedded default) whose
 * Debian repository gets `count` packages in one import, then one more package deployed
 * through the HTTP API, three times (a new one each time), then one delete. Prints one JSON line.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { packagesStanza, parseControl } from '../src/formats/debian/control.js';
import { addPackages, readState, type PackageRecord } from '../src/formats/debian/package-index.js';
import { buildApp } from '../src/http/app.js';
import { createNodeContext } from '../src/node/context.js';
import { ADMIN_AUTH, ADMIN_PASSWORD } from '../src/node/testing/credentials.js';
import { buildDeb } from '../test/helpers/debian-packages.js';

const count = Number(process.argv[2] ?? 20_000);
const work = process.argv[3] ?? mkdtempSync('/tmp/arca-debregen-');
const mb = (b: number) => b / 1024 / 1024;

/** A record as a real package of the archive would give (a typical control file's fields and length). */
function recordOf(i: number): PackageRecord {
  const name = `lib-bench-${i}`;
  const control = parseControl(
    [
      `Package: ${name}`,
      'Source: bench-source',
      `Version: 1.${i % 50}.${i}-1`,
      'Architecture: amd64',
      'Maintainer: Debian Bench Team <bench@example.org>',
      `Installed-Size: ${100 + (i % 900)}`,
      `Depends: libc6 (>= 2.34), lib-bench-${(i * 7) % count} (>= 1.0)`,
      'Section: libs',
      'Priority: optional',
      'Multi-Arch: same',
      `Homepage: https://example.org/bench/${name}`,
      `Description: benchmark library number ${i}`,
      ' This package exists only to measure index regeneration: its description is as long as',
      ' a typical library description in the Debian archive, over a few lines of text.',
    ].join('\n') + '\n',
  );
  const path = `pool/main/l/${name}/${name}_1.${i % 50}.${i}-1_amd64.deb`;
  const h = (alg: string) => createHash(alg).update(path).digest('hex');
  return { path, package: name, version: control.version, architecture: 'amd64', dists: ['bookworm'], comps: ['main'], archs: ['amd64'], stanza: packagesStanza(control, { filename: path, size: 50_000 + i, md5: h('md5'), sha1: h('sha1'), sha256: h('sha256') }) };
}

let peak = 0;
const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);

/** A node on the embedded default (SQLite and the file store) in a temp home, served through inject(). */
async function startNode() {
  const home = mkdtempSync(join(tmpdir(), 'arca-debregen-home-'));
  mkdirSync(join(home, 'etc'), { recursive: true });
  const ctx = await createNodeContext({ home, env: { ARCA_ADMIN_PASSWORD: ADMIN_PASSWORD, ARCA_SHARED_NODE_ID: 'bench-node' }, logger: pino({ level: 'silent' }) });
  const app = await buildApp(ctx);
  await app.ready();
  ctx.state.ready = true;
  await ctx.registry.setState('RUNNING');
  return {
    ctx,
    request: (opts: { method: 'GET' | 'PUT' | 'DELETE'; url: string; headers?: Record<string, string>; payload?: string | Buffer }) => app.inject({ ...opts, headers: { authorization: ADMIN_AUTH, ...opts.headers } }),
    async close() {
      await app.close();
      await ctx.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

const node = await startNode();
try {
  const created = await node.request({ method: 'PUT', url: '/artifactory/api/repositories/deb-regen', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ rclass: 'local', packageType: 'debian' }) });
  if (created.statusCode !== 200) throw new Error(`create: ${created.statusCode} ${created.body}`);
  const repo = await node.ctx.repos.get('deb-regen');
  const store = node.ctx.packages.deploy.storeFor(repo!, 'admin');
  const records = Array.from({ length: count }, (_, i) => recordOf(i));
  let t = performance.now();
  await addPackages(store, records);
  const importSeconds = (performance.now() - t) / 1000;
  process.stderr.write(`[regen] imported ${count} in ${importSeconds.toFixed(1)} s, rss ${mb(process.memoryUsage().rss).toFixed(0)} MB\n`);
  const addOneSeconds: number[] = [];
  let last = '';
  for (let k = 0; k < 3; k++) {
    const name = `one-more-${k}`;
    const deb = buildDeb(work, { name, version: '1.0', arch: 'amd64' });
    last = `pool/main/o/${name}/${name}_1.0_amd64.deb`;
    t = performance.now();
    const res = await node.request({ method: 'PUT', url: `/artifactory/api/deb/deb-regen/${last};deb.distribution=bookworm;deb.component=main`, payload: deb.data });
    addOneSeconds.push((performance.now() - t) / 1000);
    if (res.statusCode !== 201) throw new Error(`deploy: ${res.statusCode} ${res.body}`);
  }
  t = performance.now();
  const del = await node.request({ method: 'DELETE', url: `/artifactory/api/deb/deb-regen/${last}` });
  const deleteOneSeconds = (performance.now() - t) / 1000;
  if (del.statusCode !== 204) throw new Error(`delete: ${del.statusCode} ${del.body}`);
  const state = (await readState(store, 'bookworm'))!;
  const g = state.components.main.amd64.current;
  const listed = Object.values(g.buckets).reduce((n, b) => n + b.count, 0);
  if (listed !== count + 2) throw new Error(`Packages lists ${listed}, not ${count + 2}`);
  const head = await node.request({ method: 'GET', url: '/artifactory/api/deb/deb-regen/dists/bookworm/main/binary-amd64/Packages.gz' });
  if (head.statusCode !== 200 || createHash('sha256').update(head.rawPayload).digest('hex') !== g.gz.sha256) throw new Error('Packages.gz does not match its Release entry');
  clearInterval(sample);
  const maxRss = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(`${JSON.stringify({ packages: count, importSeconds, addOneSeconds, deleteOneSeconds, peakRssMb: mb(Math.max(peak, maxRss)), rssAfterMb: mb(process.memoryUsage().rss), packagesBytes: g.packages.size, packagesGzBytes: g.gz.size })}\n`);
} finally {
  clearInterval(sample);
  await node.close();
}
