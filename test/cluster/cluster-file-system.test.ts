import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster, type ClusterNode } from '../e2e/harness/cluster.js';
import { ADMIN_AUTH } from '../helpers/credentials.js';
import { freshDatabaseConfig } from '../helpers/databases.js';

const REPO = 'cfs-local';
const BINARYSTORE = '<config version="2">\n  <chain template="cluster-file-system"/>\n</config>\n';
const sha1Of = (data: Buffer) => createHash('sha1').update(data).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SHA-1s in a node's local shard: `<home>/data/filestore/<xx>/<sha1>` (not its cache or staging). */
function localShard(node: ClusterNode): Set<string> {
  const root = join(node.home, 'data', 'filestore');
  const found = new Set<string>();
  if (!existsSync(root)) return found;
  for (const dir of readdirSync(root)) {
    if (!/^[0-9a-f]{2}$/.test(dir)) continue;
    for (const name of readdirSync(join(root, dir))) if (/^[0-9a-f]{40}$/.test(name)) found.add(name);
  }
  return found;
}

function copies(nodes: ClusterNode[], sha1s: string[]): number[] {
  const shards = nodes.map(localShard);
  return sha1s.map((h) => shards.filter((s) => s.has(h)).length);
}

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 40_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/**
 * Three real node processes on one PostgreSQL database, each with its own data directory and
 * binarystore.xml `<chain template="cluster-file-system"/>`: binaries live on two nodes'
 * local file stores, reach the other nodes over the signed node API, survive a SIGKILLed node,
 * and balancing brings every binary back to two copies.
 */
describe('cluster-file-system across three node processes', () => {
  let fresh: Awaited<ReturnType<typeof freshDatabaseConfig>>;
  let cluster: TestCluster;
  const artifacts: { path: string; data: Buffer; sha1: string }[] = [];

  beforeAll(async () => {
    fresh = await freshDatabaseConfig('postgresql');
    // Balancing runs when the test asks for it (a scheduled run could race the writers' own background copies).
    const env = { ARCA_SHUTDOWNDRAINSECS: '0', ARCA_BINARYSTORE_BALANCEINTERVALSECS: '0' };
    cluster = new TestCluster({ type: 'postgresql', url: fresh.url }, 3, env, { binarystoreXml: BINARYSTORE, localData: true });
    await cluster.create();
    await cluster.startAll();
  }, 180_000);

  afterAll(async () => {
    await cluster?.destroy();
    await fresh?.drop();
  });

  const call = (node: ClusterNode, method: string, path: string, body?: Buffer | string) =>
    fetch(`${node.url}/artifactory${path}`, { method, headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' }, body });

  it('keeps every binary deployed through node 1 on exactly two nodes', async () => {
    const [n1] = cluster.nodes;
    expect((await call(n1, 'PUT', `/api/repositories/${REPO}`, JSON.stringify({ rclass: 'local', packageType: 'generic' }))).status).toBe(200);
    const sizes = [10, 1000, 40_000, 300_000, 2_000_000, 5, 70_000, 123_456, 1_500_000, 64];
    for (let i = 0; i < sizes.length; i++) {
      const data = randomBytes(sizes[i]);
      const path = `lib/a-${i}.bin`;
      const res = await fetch(`${n1.url}/artifactory/${REPO}/${path}`, { method: 'PUT', headers: { authorization: ADMIN_AUTH }, body: data });
      expect(res.status, await res.clone().text()).toBe(201);
      artifacts.push({ path, data, sha1: sha1Of(data) });
    }
    const sha1s = artifacts.map((a) => a.sha1);
    // Node 1 keeps its copy; the second copy goes to node 2 or node 3 in turn (in the background).
    await until('two copies of every binary', () => (copies(cluster.nodes, sha1s).every((c) => c === 2) ? true : undefined)).catch((err: Error) => {
      throw new Error(`${err.message}: copies ${copies(cluster.nodes, sha1s).join(',')}\n${cluster.nodes.map((n) => `--- ${n.id}\n${n.output.slice(-3000)}`).join('\n')}`);
    });
    const shards = cluster.nodes.map(localShard);
    expect(sha1s.every((h) => shards[0].has(h))).toBe(true);
    expect(sha1s.filter((h) => shards[1].has(h)).length).toBeGreaterThan(0);
    expect(sha1s.filter((h) => shards[2].has(h)).length).toBeGreaterThan(0);
    // The node API takes signed node requests only: user credentials do not open it.
    const asAdmin = await call(n1, 'GET', '/api/binstore/node/binaries?after=');
    expect(asAdmin.status).toBe(401);
    expect(await asAdmin.text()).toContain('node authentication headers are missing');
    // Every node serves every artifact, from its own shard or streamed from a peer.
    for (const node of cluster.nodes) {
      for (const a of artifacts) {
        const res = await call(node, 'GET', `/${REPO}/${a.path}`);
        expect(res.status).toBe(200);
        expect(sha1Of(Buffer.from(await res.arrayBuffer()))).toBe(a.sha1);
      }
    }
  }, 150_000);

  it('serves every artifact from the other nodes after one is SIGKILLed, and balancing restores two copies', async () => {
    const [n1, n2, n3] = cluster.nodes;
    const sha1s = artifacts.map((a) => a.sha1);
    const onN2 = sha1s.filter((h) => localShard(n2).has(h));
    expect(onN2.length).toBeGreaterThan(0);
    await cluster.kill(n2, 'SIGKILL');
    for (const node of [n1, n3]) {
      for (const a of artifacts) {
        const res = await call(node, 'GET', `/${REPO}/${a.path}`);
        expect(res.status).toBe(200);
        expect(sha1Of(Buffer.from(await res.arrayBuffer()))).toBe(a.sha1);
      }
    }
    // The binaries whose second copy was on node 2 now have one copy on the live nodes.
    expect(copies([n1, n3], onN2)).toEqual(onN2.map(() => 1));

    const res = await call(n1, 'POST', '/api/system/tasks/binstore-balance/run?wait=120', '{}');
    expect([200, 202]).toContain(res.status);
    const run = (await res.json()) as { status: string; counts: Record<string, number>; error: string | null };
    expect(run.error).toBeNull();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.counts).toMatchObject({ checked: sha1s.length, copied: onN2.length, removed: 0 });
    expect(run.counts.bytesCopied).toBe(artifacts.filter((a) => onN2.includes(a.sha1)).reduce((n, a) => n + a.data.length, 0));
    expect(copies([n1, n3], sha1s)).toEqual(sha1s.map(() => 2));
  }, 150_000);
});
