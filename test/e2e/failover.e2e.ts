import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freshDatabaseConfig } from '../helpers/databases.js';
import { TcpProxy } from './harness/tcp-proxy.js';
import { ADMIN_AUTH } from '../helpers/node-context.js';
import { NGINX, TestCluster } from './harness/cluster.js';
import { startDedicatedPostgres } from './harness/dedicated-pg.js';
import { deployMany, readLoop, verifyOn, type Deployed } from './harness/load.js';

const REPO = 'ha-local';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function createRepo(base: string): Promise<number> {
  const res = await fetch(`${base}/artifactory/api/repositories/${REPO}`, {
    method: 'PUT',
    headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ rclass: 'local', packageType: 'generic' }),
  });
  return res.status;
}

async function nodeStates(base: string): Promise<Record<string, string>> {
  const res = await fetch(`${base}/artifactory/api/system/status`, { headers: { authorization: ADMIN_AUTH } });
  const body = (await res.json()) as { nodes: { id: string; state: string }[] };
  return Object.fromEntries(body.nodes.map((n) => [n.id, n.state]));
}

if (!NGINX) console.warn('[skip] failover e2e: nginx is not installed (apt-get install nginx)');

/**
 * Three node processes on a real PostgreSQL with nginx in front: deploys keep going while a
 * node is killed with SIGKILL and restarted, and while PostgreSQL is stopped for 5 s.
 */
describe.skipIf(!NGINX)('HA failover on PostgreSQL behind nginx', () => {
  let pg: Awaited<ReturnType<typeof startDedicatedPostgres>>;
  let cluster: TestCluster;
  const deployed: Deployed[] = [];

  beforeAll(async () => {
    pg = await startDedicatedPostgres();
    // Short task leases, so a task of a killed node is taken over within seconds.
    cluster = new TestCluster({ type: 'postgresql', url: pg.url }, 3, { ARCA_TASKS_LEASESECS: '6', ARCA_TASKS_TICKSECS: '1' });
    await cluster.create();
    await cluster.startAll();
    await cluster.startNginx();
    expect(await createRepo(cluster.lbUrl)).toBe(200);
  }, 180_000);

  afterAll(async () => {
    await cluster?.destroy();
    await pg?.destroy();
  }, 60_000);

  it('loses no acknowledged deploy and fails no GET while a node is killed and restarted', async () => {
    expect(Object.values(await nodeStates(cluster.lbUrl))).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);
    const reads = readLoop(cluster.lbUrl, REPO, deployed);
    const victim = cluster.nodes[1];
    let killedAt = 0;
    const result = await deployMany(cluster.lbUrl, REPO, 1000, 16, {
      sink: deployed,
      onProgress: (done) => {
        if (done === 300 && killedAt === 0) {
          killedAt = Date.now();
          void cluster.kill(victim, 'SIGKILL');
        }
      },
    });
    expect(killedAt).toBeGreaterThan(0);
    expect(result.ok.length).toBeGreaterThanOrEqual(900);

    // The killed node shows UNAVAILABLE within 35 s of the kill…
    let unavailableAfter = -1;
    while (Date.now() - killedAt < 40_000) {
      if ((await nodeStates(cluster.lbUrl))[victim.id] === 'UNAVAILABLE') {
        unavailableAfter = Date.now() - killedAt;
        break;
      }
      await sleep(500);
    }
    expect(unavailableAfter).toBeGreaterThan(0);
    expect(unavailableAfter).toBeLessThanOrEqual(35_000);

    // …and RUNNING again once restarted.
    await cluster.startNode(victim);
    expect((await nodeStates(cluster.lbUrl))[victim.id]).toBe('RUNNING');

    const reads2 = await reads.stop();
    expect(reads2.failed, reads2.errors.join('; ')).toBe(0);
    expect(reads2.wrong).toBe(0);
    expect(reads2.ok).toBeGreaterThan(100);

    for (const node of cluster.nodes) expect(await verifyOn(node.url, REPO, deployed), node.id).toEqual([]);
  }, 240_000);

  it('recovers from a 5 s PostgreSQL outage under load without a restart, losing nothing', async () => {
    const during = deployMany(cluster.lbUrl, REPO, 400, 8, { sink: deployed, prefix: 'outage' });
    await sleep(500);
    await pg.stop();
    await sleep(5000);
    await pg.start();
    await during;

    // Every node answers ping again without being restarted.
    const deadline = Date.now() + 30_000;
    for (const node of cluster.nodes) {
      let ok = false;
      let last = '';
      while (!ok && Date.now() < deadline) {
        const r = await fetch(`${node.url}/artifactory/api/system/ping`).catch((e: Error) => e);
        last = r instanceof Error ? r.message : `${r.status} ${await r.text()}`;
        ok = last === '200 OK';
        if (!ok) await sleep(250);
      }
      expect(ok, `${node.id} ping after the outage: ${last}\n${node.output.slice(-1500)}`).toBe(true);
      expect(node.child?.exitCode).toBeNull();
    }
    const after = await deployMany(cluster.lbUrl, REPO, 50, 4, { sink: deployed, prefix: 'after' });
    expect(after.failed).toBe(0);
    for (const node of cluster.nodes) expect(await verifyOn(node.url, REPO, deployed), node.id).toEqual([]);
  }, 180_000);

  it('completes on another node a backup that was running on a node killed with SIGKILL', async () => {
    // Enough bytes that the backup is still running when its node dies.
    for (let i = 0; i < 40; i++) {
      const res = await fetch(`${cluster.lbUrl}/artifactory/${REPO}/big/blob-${i}.bin`, { method: 'PUT', headers: { authorization: ADMIN_AUTH }, body: randomBytes(4 << 20) });
      expect(res.status).toBe(201);
    }
    const victim = cluster.nodes[2];
    const json = { authorization: ADMIN_AUTH, 'content-type': 'application/json' };
    const started = await fetch(`${victim.url}/artifactory/api/system/tasks/backup/run`, { method: 'POST', headers: json, body: '{}' });
    const run = (await started.json()) as { id: string; status: string; nodeId: string | null };
    let state = run;
    const until = Date.now() + 15_000;
    while (state.status !== 'RUNNING' && Date.now() < until) {
      await sleep(20);
      state = (await (await fetch(`${victim.url}/artifactory/api/system/tasks/runs/${run.id}`, { headers: json })).json()) as typeof run;
    }
    expect(state).toMatchObject({ status: 'RUNNING', nodeId: victim.id });
    await cluster.kill(victim, 'SIGKILL');

    type Run = { id: string; status: string; nodeId: string; attempt: number; trigger: string; error: string | null };
    let finished: Run | undefined;
    let original: Run | undefined;
    const deadline = Date.now() + 90_000;
    while (!finished && Date.now() < deadline) {
      await sleep(500);
      const runs = ((await (await fetch(`${cluster.lbUrl}/artifactory/api/system/tasks/runs?task=backup`, { headers: json })).json()) as { runs: Run[] }).runs;
      original = runs.find((r) => r.id === run.id);
      finished = runs.find((r) => r.id !== run.id && r.attempt === 2 && r.status === 'SUCCEEDED');
    }
    expect(original).toMatchObject({ status: 'ABANDONED', nodeId: victim.id });
    expect(original?.error).toMatch(/expired before the run ended; taken over by node/);
    expect(finished).toBeDefined();
    expect(finished!.nodeId).not.toBe(victim.id);
    await cluster.startNode(victim);
  }, 180_000);
});

const MYSQL = inject('mysqlUrl');
if (!MYSQL) console.warn('[skip] MariaDB failover e2e: no MySQL/MariaDB server (set ARCA_TEST_MYSQL_URL)');

/**
 * The same cluster on MariaDB. The database outage is a TCP proxy between the nodes and the
 * server that drops every connection and refuses new ones for 5 s (the shared server itself
 * keeps running for the other suites).
 */
describe.skipIf(!NGINX || !MYSQL)('HA failover on MariaDB behind nginx', () => {
  let fresh: Awaited<ReturnType<typeof freshDatabaseConfig>>;
  let proxy: TcpProxy;
  let cluster: TestCluster;
  const deployed: Deployed[] = [];

  beforeAll(async () => {
    fresh = await freshDatabaseConfig('mysql');
    const target = new URL(fresh.url);
    proxy = new TcpProxy(target.hostname, Number(target.port || 3306));
    const port = await proxy.start();
    target.host = `127.0.0.1:${port}`;
    cluster = new TestCluster({ type: 'mysql', url: target.toString() });
    await cluster.create();
    await cluster.startAll();
    await cluster.startNginx();
    expect(await createRepo(cluster.lbUrl)).toBe(200);
  }, 180_000);

  afterAll(async () => {
    await cluster?.destroy();
    await proxy?.stop();
    await fresh?.drop();
  }, 60_000);

  it('keeps every acknowledged deploy through a node kill and a 5 s database outage', async () => {
    const reads = readLoop(cluster.lbUrl, REPO, deployed);
    const victim = cluster.nodes[2];
    let killed = false;
    await deployMany(cluster.lbUrl, REPO, 400, 16, {
      sink: deployed,
      onProgress: (done) => {
        if (done === 150 && !killed) {
          killed = true;
          void cluster.kill(victim, 'SIGKILL');
        }
      },
    });
    const r = await reads.stop();
    expect(r.failed, r.errors.join('; ')).toBe(0);
    await cluster.startNode(victim);

    const during = deployMany(cluster.lbUrl, REPO, 300, 8, { sink: deployed, prefix: 'outage' });
    await sleep(300);
    await proxy.cut();
    await sleep(5000);
    await proxy.restore();
    await during;
    for (const node of cluster.nodes) {
      let ok = false;
      const deadline = Date.now() + 30_000;
      while (!ok && Date.now() < deadline) {
        ok = await fetch(`${node.url}/artifactory/api/system/ping`).then((res) => res.status === 200, () => false);
        if (!ok) await sleep(250);
      }
      expect(ok, `${node.id} ping after the outage\n${node.output.slice(-1500)}`).toBe(true);
      expect(node.child?.exitCode).toBeNull();
    }
    const after = await deployMany(cluster.lbUrl, REPO, 30, 4, { sink: deployed, prefix: 'after' });
    expect(after.failed).toBe(0);
    for (const node of cluster.nodes) expect(await verifyOn(node.url, REPO, deployed), node.id).toEqual([]);
  }, 240_000);
});
