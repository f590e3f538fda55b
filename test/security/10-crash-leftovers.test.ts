import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostTag } from '../../src/binstore/temp-files.js';
import { ADMIN_AUTH } from '../helpers/credentials.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { streamingUpload } from '../helpers/raw-http.js';
import { startCluster } from '../helpers/cluster-nodes.js';

/**
 * Issue 12, item 10: nothing of a crash lingers. A node removes its own leftovers at start,
 * and a periodic sweep removes other temp files that are provably dead (never an upload in
 * flight); both are logged and counted in arca_tmp_swept_files_total / _bytes_total.
 */
const MiB = 1 << 20;
const nodes: NodeProcess[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.cleanup();
});

async function start(opts: Parameters<typeof startNodeProcess>[0] = {}): Promise<NodeProcess> {
  const node = await startNodeProcess(opts);
  nodes.push(node);
  return node;
}

async function createRepo(node: NodeProcess): Promise<void> {
  const res = await fetch(`${node.base}/api/repositories/generic-local`, {
    method: 'PUT',
    headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ rclass: 'local', packageType: 'generic' }),
  });
  expect(res.status, await res.text()).toBe(200);
}

/** The temp files directly in data/tmp with their sizes. */
function tmpFiles(home: string): Map<string, number> {
  const dir = join(home, 'data', 'tmp');
  const out = new Map<string, number>();
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isFile()) out.set(e.name, statSync(join(dir, e.name)).size);
  return out;
}

async function waitFor(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function metric(node: NodeProcess, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${node.base}/api/v1/metrics`, { headers: { authorization: ADMIN_AUTH } })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && labels.split(',').every((kv) => l.includes(kv)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/** Every process of the node (the supervisor and its workers). */
function processTree(pid: number): number[] {
  const kids = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
  return [pid, ...kids.flatMap(processTree)];
}

describe('item 10: nothing of a crash lingers in the temp directories', () => {
  it('kill -9 during large uploads: the restarted node removes the partial uploads at start, logs and counts them', async () => {
    const node = await start({ workers: 2 });
    await createRepo(node);
    const uploads = Array.from({ length: 4 }, (_, i) => streamingUpload(node.url, `/artifactory/generic-local/big/${i}.bin`));
    for (const u of uploads) for (let k = 0; k < 12; k++) await u.write(Buffer.alloc(MiB, k));
    await waitFor('four partial uploads of 8 MiB or more in data/tmp', () => [...tmpFiles(node.home).values()].filter((s) => s >= 8 * MiB).length >= 4);
    const pids = processTree(node.child.pid!);
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await node.stop();
    for (const u of uploads) u.abort();
    await waitFor('every process of the node to be gone', () => pids.every((pid) => spawnSync('kill', ['-0', String(pid)]).status !== 0), 10_000);
    const left = tmpFiles(node.home);
    const leftBytes = [...left.values()].reduce((a, b) => a + b, 0);
    expect(left.size, 'the crash left partial uploads behind').toBeGreaterThanOrEqual(4);
    expect(leftBytes).toBeGreaterThanOrEqual(32 * MiB);

    const again = await start({ home: node.home, workers: 2 });
    const remaining = [...tmpFiles(again.home).keys()].filter((n) => left.has(n));
    expect(remaining, 'leftovers of the killed run').toEqual([]);
    const line = again
      .output()
      .split('\n')
      .find((l) => l.includes('temp files: removed'));
    expect(line, again.output()).toBeDefined();
    const logged = JSON.parse(line!) as { files: number; bytes: number; msg: string };
    expect(logged.files).toBeGreaterThanOrEqual(left.size);
    expect(logged.bytes).toBeGreaterThanOrEqual(leftBytes);
    expect(logged.msg).toMatch(/at start/);
    expect(await metric(again, 'arca_tmp_swept_files_total', 'reason="process-gone",when="start"')).toBeGreaterThanOrEqual(left.size);
    expect(await metric(again, 'arca_tmp_swept_bytes_total', 'reason="process-gone",when="start"')).toBeGreaterThanOrEqual(leftBytes);
  });

  it("the periodic sweep removes a foreign dead leftover and keeps a live process's upload in flight", async () => {
    const node = await start({ workers: 2, env: { ARCA_TMP_SWEEPINTERVALSECS: '1' } });
    await createRepo(node);
    const body = Buffer.alloc(6 * MiB, 7);
    const upload = streamingUpload(node.url, '/artifactory/generic-local/live/upload.bin');
    await upload.write(body.subarray(0, 4 * MiB));
    await waitFor('the in-flight upload in data/tmp', () => tmpFiles(node.home).size >= 1);
    const inFlight = [...tmpFiles(node.home).keys()];

    const tmp = join(node.home, 'data', 'tmp');
    const gonePid = Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']));
    const planted = {
      // Another host's node that is not registered (not running).
      foreignNode: `upload-ghost-node.${hostTag('elsewhere.example')}.0123456789abcdef.4242.${randomUUID()}.tmp`,
      // A process of this host that is gone.
      goneProcess: `upload-ghost-node.${hostTag()}.0123456789abcdef.${gonePid}.${randomUUID()}.tmp`,
      // A file named as 0.1.0 named them, untouched for two days.
      legacyStale: `upload-${randomUUID()}.tmp`,
    };
    for (const n of Object.values(planted)) writeFileSync(join(tmp, n), Buffer.alloc(MiB, 1));
    const twoDaysAgo = (Date.now() - 2 * 86_400_000) / 1000;
    utimesSync(join(tmp, planted.legacyStale), twoDaysAgo, twoDaysAgo);

    await waitFor('the sweep to remove the dead leftovers', () => Object.values(planted).every((n) => !existsSync(join(tmp, n))), 15_000);
    for (const n of inFlight) expect(existsSync(join(tmp, n)), `in-flight upload ${n} is kept`).toBe(true);
    await upload.write(body.subarray(4 * MiB));
    const res = await upload.end();
    expect(res.status, res.text()).toBe(201);
    const got = Buffer.from(await (await fetch(`${node.base}/generic-local/live/upload.bin`, { headers: { authorization: ADMIN_AUTH } })).arrayBuffer());
    expect(createHash('sha1').update(got).digest('hex')).toBe(createHash('sha1').update(body).digest('hex'));

    const lines = node
      .output()
      .split('\n')
      .filter((l) => l.includes('temp files: removed') && l.includes('periodic'));
    expect(lines.length, node.output()).toBeGreaterThan(0);
    expect(lines.reduce((n, l) => n + (JSON.parse(l) as { files: number }).files, 0)).toBeGreaterThanOrEqual(3);
    for (const reason of ['node-not-running', 'process-gone', 'stale']) {
      expect(await metric(node, 'arca_tmp_swept_files_total', `reason="${reason}",when="periodic"`), reason).toBeGreaterThanOrEqual(1);
    }
    expect(await metric(node, 'arca_tmp_swept_bytes_total', 'when="periodic"')).toBeGreaterThanOrEqual(MiB);
  });

  it('on a temp directory shared by two nodes (PostgreSQL), another host\'s files are kept while their node start runs', async () => {
    const cluster = await startCluster('postgresql', 2);
    try {
      const [one, two] = cluster.nodes;
      const tmp = join(one.ctx.identity.haDataDir!, 'tmp');
      expect(one.ctx.tempHousekeeping.dirs()).toContain(tmp);
      const runs = await one.ctx.registry.runs();
      const tag = (id: string) => runs.get(id)!.instance.replace(/[^0-9a-zA-Z]/g, '').slice(0, 16);
      const elsewhere = hostTag('another-host.example');
      const file = (node: string, instance: string) => `upload-${node}.${elsewhere}.${instance}.77.${randomUUID()}.tmp`;
      const live = file('node-2', tag('node-2'));
      const earlierStart = file('node-2', 'feedfacefeedface');
      for (const n of [live, earlierStart]) writeFileSync(join(tmp, n), Buffer.alloc(4096));
      const first = await one.ctx.tempHousekeeping.sweep('periodic');
      expect(first.byReason['node-not-running']?.files).toBe(1);
      expect(existsSync(join(tmp, earlierStart))).toBe(false);
      expect(existsSync(join(tmp, live)), "a running node's upload on another host").toBe(true);
      // Once that node has stopped, its files are dead.
      await two.ctx.registry.setState('STOPPED');
      await one.ctx.tempHousekeeping.sweep('periodic');
      expect(existsSync(join(tmp, live))).toBe(false);
    } finally {
      await cluster.close();
    }
  });
});
