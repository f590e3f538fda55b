import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, sep } from 'node:path';
import { promisify } from 'node:util';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, ADMIN_PASSWORD } from '../helpers/credentials.js';
import { ARCA_BIN } from '../helpers/node-process.js';
import { startS3rver, S3RVER_ACCESS_KEY, S3RVER_SECRET_KEY, type S3rverServer } from '../helpers/s3rver.js';
import { NGINX, TestCluster, type ClusterNode } from './harness/cluster.js';
import { startDedicatedPostgres } from './harness/dedicated-pg.js';
import { deployMany, verifyOn, type Deployed } from './harness/load.js';

const REPO = 'storage-local';
const SHA1 = /^[0-9a-f]{40}$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const run = promisify(execFile);

async function createRepo(base: string): Promise<void> {
  const res = await fetch(`${base}/artifactory/api/repositories/${REPO}`, {
    method: 'PUT',
    headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ rclass: 'local', packageType: 'generic' }),
  });
  expect(res.status).toBe(200);
}

/** SHA-1s stored in a node's own binary store (not its read cache, staging or temp files). */
function storedBinaries(node: ClusterNode): Set<string> {
  const found = new Set<string>();
  const data = join(node.home, 'data');
  if (!existsSync(data)) return found;
  for (const e of readdirSync(data, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !SHA1.test(e.name)) continue;
    const parts = e.parentPath.slice(data.length).split(sep);
    if (parts.some((p) => ['cache', 'eventual', 'tmp', '_pre', '_queue', '_add', '_delete'].includes(p))) continue;
    found.add(e.name);
  }
  return found;
}

function copiesPerBinary(nodes: ClusterNode[]): Map<string, number> {
  const copies = new Map<string, number>();
  for (const n of nodes) for (const s of storedBinaries(n)) copies.set(s, (copies.get(s) ?? 0) + 1);
  return copies;
}

async function runTask(base: string, task: string, waitSecs = 180): Promise<{ status: string; counts: Record<string, number> | null; error: string | null }> {
  const res = await fetch(`${base}/artifactory/api/system/tasks/${task}/run?wait=${waitSecs}`, {
    method: 'POST',
    headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
    body: '{}',
  });
  expect([200, 202]).toContain(res.status);
  return (await res.json()) as { status: string; counts: Record<string, number> | null; error: string | null };
}

async function verifyCli(base: string): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, [ARCA_BIN, 'binarystore', 'verify', '--url', base, '--password', ADMIN_PASSWORD, '--wait', '300']);
    return { code: 0, stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout };
  }
}

if (!NGINX) console.warn('[skip] cluster storage e2e: nginx is not installed (apt-get install nginx)');

const CLUSTER_ENV = { ARCA_TASKS_LEASESECS: '6', ARCA_TASKS_TICKSECS: '1', ARCA_HA_HEARTBEATSTALESECS: '8' };

/** Three nodes on the PostgreSQL at `pgUrl`, each with its own data folder, sharing `binarystoreXml`. */
function threeNodes(pgUrl: string, binarystoreXml: string): TestCluster {
  return new TestCluster({ type: 'postgresql', url: pgUrl }, 3, CLUSTER_ENV, { binarystoreXml, localData: true });
}

/** Creates and starts the nodes, puts nginx in front of them and creates the test repository. */
async function bringUp(cluster: TestCluster): Promise<void> {
  await cluster.create();
  await cluster.startAll();
  await cluster.startNginx();
  await createRepo(cluster.lbUrl);
}

describe.skipIf(!NGINX)('cluster-file-system: three nodes, redundancy 2, behind nginx', () => {
  let pg: Awaited<ReturnType<typeof startDedicatedPostgres>>;
  let cluster: TestCluster;
  const deployed: Deployed[] = [];

  beforeAll(async () => {
    pg = await startDedicatedPostgres();
    cluster = threeNodes(pg.url, '<config version="2">\n  <chain template="cluster-file-system"/>\n</config>\n');
    await bringUp(cluster);
  }, 180_000);

  afterAll(async () => {
    await cluster?.destroy();
    await pg?.destroy();
  }, 60_000);

  it('keeps two copies of each of 1,000 binaries, serves them all after a SIGKILL, and balancing restores two copies', async () => {
    const result = await deployMany(cluster.lbUrl, REPO, 1000, 16, { sink: deployed, prefix: 'cfs' });
    expect(result.failed).toBe(0);
    expect(deployed).toHaveLength(1000);
    // lenientLimit 1: the second copy may follow in the background.
    let copies = copiesPerBinary(cluster.nodes);
    for (let i = 0; i < 300 && [...copies.values()].some((c) => c < 2); i++) {
      await sleep(200);
      copies = copiesPerBinary(cluster.nodes);
    }
    const histogram = (m: Map<string, number>) => {
      const h: Record<number, number> = {};
      for (const c of m.values()) h[c] = (h[c] ?? 0) + 1;
      return h;
    };
    if (histogram(copies)[2] !== 1000) for (const n of cluster.nodes) console.log(n.id, n.output.slice(-4000));
    expect(copies.size).toBe(1000);
    expect(histogram(copies)).toEqual({ 2: 1000 });

    const victim = cluster.nodes[1];
    await cluster.kill(victim);
    const survivors = cluster.nodes.filter((n) => n !== victim);
    expect(await verifyOn(cluster.lbUrl, REPO, deployed)).toEqual([]);

    // Wait until the registry sees the victim as gone, then balance onto the two survivors.
    await sleep(10_000);
    const balance = await runTask(cluster.lbUrl, 'binstore-balance');
    expect(balance.status).toBe('SUCCEEDED');
    const after = copiesPerBinary(survivors);
    expect(after.size).toBe(1000);
    expect(histogram(after)).toEqual({ 2: 1000 });
    const verify = await verifyCli(cluster.lbUrl);
    expect(verify.stdout).toContain('OK: every binary is intact');
    expect(verify.code).toBe(0);
  }, 300_000);
});

describe.skipIf(!NGINX)('cluster-s3-storage-v3 on s3rver: staged uploads survive a killed node', () => {
  let pg: Awaited<ReturnType<typeof startDedicatedPostgres>>;
  let s3: S3rverServer;
  let cluster: TestCluster;
  const BUCKET = 'arca-e2e';

  beforeAll(async () => {
    pg = await startDedicatedPostgres();
    s3 = await startS3rver({ buckets: [BUCKET] });
    const port = new URL(s3.endpoint).port;
    cluster = threeNodes(pg.url, `<config version="2">
  <chain template="cluster-s3-storage-v3"/>
  <provider id="s3-storage-v3" type="s3-storage-v3">
    <endpoint>127.0.0.1</endpoint><port>${port}</port><useHttp>true</useHttp><enablePathStyleAccess>true</enablePathStyleAccess>
    <region>us-east-1</region><bucketName>${BUCKET}</bucketName>
    <identity>${S3RVER_ACCESS_KEY}</identity><credential>${S3RVER_SECRET_KEY}</credential>
    <testConnection>false</testConnection>
  </provider>
  <provider id="retry-s3" type="retry"><interval>500</interval></provider>
  <provider id="eventual-cluster-s3" type="eventual-cluster"><dispatcherInterval>500</dispatcherInterval></provider>
</config>
`);
    await bringUp(cluster);
  }, 180_000);

  afterAll(async () => {
    await cluster?.destroy();
    await s3?.close();
    await pg?.destroy();
  }, 60_000);

  it('pushes every staged binary to the bucket although a node dies while the bucket is down and restarts later', async () => {
    const client = s3.client();
    await s3.stop();
    const deployed: Deployed[] = [];
    const result = await deployMany(cluster.lbUrl, REPO, 200, 8, { sink: deployed, prefix: 's3' });
    expect(result.failed).toBe(0);
    const shas = new Map<string, string>();
    for (const d of deployed) {
      const res = await fetch(`${cluster.lbUrl}/artifactory/api/storage/${REPO}/${d.path}`, { headers: { authorization: ADMIN_AUTH } });
      const info = (await res.json()) as { checksums: { sha1: string } };
      shas.set(d.path, info.checksums.sha1);
    }
    // Every upload is staged on the nodes while the bucket is unreachable; one node dies now.
    await cluster.kill(cluster.nodes[2]);
    await s3.start();
    const missing = async () => {
      const out: string[] = [];
      for (const sha1 of new Set(shas.values())) {
        const ok = await client
          .send(new HeadObjectCommand({ Bucket: BUCKET, Key: `filestore/${sha1.slice(0, 2)}/${sha1}` }))
          .then(() => true)
          .catch(() => false);
        if (!ok) out.push(sha1);
      }
      return out;
    };
    // With lenientLimit 1 a binary may have been staged only on the killed node (its second
    // copy still in flight): it is on that node's disk queue, which resumes when it restarts.
    await cluster.startNode(cluster.nodes[2]);
    let left = await missing();
    for (let i = 0; i < 120 && left.length > 0; i++) {
      await sleep(1000);
      left = await missing();
    }
    if (left.length > 0) for (const n of cluster.nodes) console.log(n.id, n.output.slice(-6000));
    expect(left).toEqual([]);
    expect(await verifyOn(cluster.lbUrl, REPO, deployed)).toEqual([]);
    // Every node sees every binary through the shared bucket: balancing must not take that for
    // surplus copies and delete objects from the bucket.
    const balance = await runTask(cluster.lbUrl, 'binstore-balance');
    expect(balance.status).toBe('SUCCEEDED');
    expect(balance.counts?.removed ?? 0).toBe(0);
    expect(await missing()).toEqual([]);
    expect(await verifyOn(cluster.lbUrl, REPO, deployed)).toEqual([]);
    client.destroy();
  }, 300_000);
});
