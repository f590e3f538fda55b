/**
 * `npm run bench -- --ha`: a cluster of 1, 2 and 3 Arca nodes (one process each) on one
 * PostgreSQL behind nginx; 4 KiB GETs and deploys through the balancer, CPU time per request,
 * and the failover window after a SIGKILL.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_AUTH } from '../test/helpers/credentials.js';
import { NGINX, TestCluster, type ClusterNode } from '../test/e2e/harness/cluster.js';
import { startDedicatedPostgres } from '../test/e2e/harness/dedicated-pg.js';
import { REPO_ROOT } from './lib/arca.js';
import { which } from './lib/proc.js';
import { runWrk } from './lib/wrk.js';

const REPO = 'bench-local';
const CLOCK_TICK = 100; // USER_HZ on Linux

function log(msg: string): void {
  process.stderr.write(`[bench --ha ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** CPU seconds (user + system) a node process has used so far. */
function cpuSeconds(node: ClusterNode): number {
  const pid = node.child?.pid;
  if (!pid) return 0;
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLOCK_TICK;
}

const clusterCpu = (nodes: ClusterNode[]) => nodes.reduce((s, n) => s + cpuSeconds(n), 0);

/** A wrk Lua script that PUTs a fresh path per request (thread id + counter), 4 KiB bodies. */
function deployScript(dir: string): string {
  const file = join(dir, 'deploy.lua');
  writeFileSync(
    file,
    `local counter = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  body = string.rep("x", 4096)
end
function request()
  counter = counter + 1
  local path = "/artifactory/${REPO}/deploys/t" .. tid .. "/" .. counter .. ".bin"
  return wrk.format("PUT", path, { ["Authorization"] = "${ADMIN_AUTH}" }, body .. counter)
end
`,
  );
  return file;
}

interface Step {
  nodes: number;
  getRps: number;
  getCpuMs: number;
  getP99Ms: number;
  deployRps: number;
  deployCpuMs: number;
}

async function measure(cluster: TestCluster, active: ClusterNode[], wrk: string, lua: string, seconds: number): Promise<Step> {
  const url = `${cluster.lbUrl}/artifactory/${REPO}/small/4k.bin`;
  await runWrk({ wrk, url, headers: { Authorization: ADMIN_AUTH }, threads: 2, connections: 64, durationS: 2 });
  let cpu0 = clusterCpu(active);
  const get = await runWrk({ wrk, url, headers: { Authorization: ADMIN_AUTH }, threads: 2, connections: 64, durationS: seconds });
  const getCpu = clusterCpu(active) - cpu0;
  cpu0 = clusterCpu(active);
  const put = await runWrk({ wrk, url: `${cluster.lbUrl}/`, headers: {}, threads: 2, connections: 16, durationS: seconds, script: lua });
  const putCpu = clusterCpu(active) - cpu0;
  if (get.non2xx3xx > 0 || put.non2xx3xx > 0) log(`warning: non-2xx answers (GET ${get.non2xx3xx}, PUT ${put.non2xx3xx})`);
  return {
    nodes: active.length,
    getRps: get.requestsPerSec,
    getCpuMs: (getCpu * 1000) / get.requests,
    getP99Ms: get.latency.p99 ?? NaN,
    deployRps: put.requestsPerSec,
    deployCpuMs: (putCpu * 1000) / put.requests,
  };
}

/**
 * SIGKILLs a node under GET load and reads nginx's access log: the window is the time from
 * the kill to the last request nginx still sent to that node (first or retried attempt).
 */
async function failover(
  cluster: TestCluster,
  victim: ClusterNode,
): Promise<{ windowMs: number; reprobes: number[]; failed: number; total: number; maxLatencyMs: number }> {
  let stop = false;
  let failed = 0;
  let total = 0;
  let maxLatencyMs = 0;
  const url = `${cluster.lbUrl}/artifactory/${REPO}/small/4k.bin`;
  const client = async () => {
    while (!stop) {
      const t = performance.now();
      const ok = await fetch(url, { headers: { authorization: ADMIN_AUTH }, signal: AbortSignal.timeout(10_000) }).then(
        async (r) => (await r.arrayBuffer(), r.status === 200),
        () => false,
      );
      total++;
      if (!ok) failed++;
      maxLatencyMs = Math.max(maxLatencyMs, performance.now() - t);
    }
  };
  const clients = Array.from({ length: 8 }, client);
  await new Promise((r) => setTimeout(r, 2000));
  const killedAt = Date.now();
  await cluster.kill(victim, 'SIGKILL');
  log(`killed; ${total} GETs so far`);
  await new Promise((r) => setTimeout(r, 15_000));
  stop = true;
  log(`stopping the clients; ${total} GETs, ${failed} failed`);
  await Promise.all(clients);
  // Requests nginx still sent to the dead node after the kill. With passive checks nginx keeps
  // it out for fail_timeout and then tries it again once; the window is the first burst, the
  // later lone attempts are the re-probes.
  const addr = `127.0.0.1:${victim.port}`;
  const attempts: number[] = [];
  for (const line of readFileSync(join(cluster.nginxPrefix, 'access.log'), 'utf8').split('\n')) {
    const [msec, , ...upstreams] = line.split(' ');
    const at = Number(msec) * 1000;
    if (at >= killedAt && upstreams.join(' ').includes(addr)) attempts.push(at);
  }
  attempts.sort((a, b) => a - b);
  let windowEnd = killedAt;
  for (const at of attempts) {
    if (at - windowEnd > 1000 && windowEnd > killedAt) break;
    windowEnd = at;
  }
  const reprobes = attempts.filter((at) => at > windowEnd + 1000).map((at) => Math.round(at - killedAt));
  return { windowMs: windowEnd - killedAt, reprobes, failed, total, maxLatencyMs };
}

export async function runHa(quick: boolean): Promise<number> {
  const wrk = which('wrk');
  if (!wrk || !NGINX) {
    process.stderr.write(`bench --ha: needs wrk and nginx (apt-get install wrk nginx)\n`);
    return 2;
  }
  const seconds = quick ? 4 : 10;
  const pg = await startDedicatedPostgres();
  const cluster = new TestCluster({ type: 'postgresql', url: pg.url }, 3);
  const steps: Step[] = [];
  let fo: Awaited<ReturnType<typeof failover>> | undefined;
  try {
    await cluster.create();
    const lua = deployScript(cluster.dir);
    for (let n = 1; n <= 3; n++) {
      const active = cluster.nodes.slice(0, n);
      log(`starting node ${n} of ${n}`);
      await cluster.startNode(cluster.nodes[n - 1]);
      await cluster.stopNginx();
      await cluster.startNginx({ nodes: active, upstreamLog: true });
      if (n === 1) {
        await fetch(`${cluster.lbUrl}/artifactory/api/repositories/${REPO}`, {
          method: 'PUT',
          headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
          body: JSON.stringify({ rclass: 'local', packageType: 'generic' }),
        });
        await fetch(`${cluster.lbUrl}/artifactory/${REPO}/small/4k.bin`, { method: 'PUT', headers: { authorization: ADMIN_AUTH }, body: randomBytes(4096) });
      }
      log(`measuring ${n} node(s)`);
      steps.push(await measure(cluster, active, wrk, lua, seconds));
    }
    log('failover: SIGKILL node art2 under GET load');
    fo = await failover(cluster, cluster.nodes[1]);
  } finally {
    await cluster.destroy();
    await pg.destroy();
  }
  const fmt = (v: number, d = 0) => (Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '—');
  const lines = [
    'Arca HA benchmark: nodes (1 process each) on one PostgreSQL behind nginx (arca lb nginx), wrk through the balancer',
    `${'nodes'.padEnd(6)}${'GET 4 KiB req/s'.padStart(17)}${'GET p99 ms'.padStart(12)}${'GET CPU ms/req'.padStart(16)}${'deploy req/s'.padStart(14)}${'deploy CPU ms/req'.padStart(19)}`,
    ...steps.map(
      (s) =>
        `${String(s.nodes).padEnd(6)}${fmt(s.getRps).padStart(17)}${fmt(s.getP99Ms, 1).padStart(12)}${fmt(s.getCpuMs, 3).padStart(16)}${fmt(s.deployRps).padStart(14)}${fmt(s.deployCpuMs, 3).padStart(19)}`,
    ),
    fo
      ? `failover window (SIGKILL → nginx stops sending to the node): ${fmt(fo.windowMs)} ms; later re-probes at +${fo.reprobes.join(', +') || '—'} ms (fail_timeout); GETs: ${fo.total}, failed: ${fo.failed}, slowest: ${fmt(fo.maxLatencyMs)} ms`
      : 'failover: not measured',
    'CPU ms/req: user+system CPU of all node processes divided by requests (wrk and nginx not included). All processes share this machine\'s cores.',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  mkdirSync(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(REPO_ROOT, 'bench', 'results', 'ha-latest.json'), JSON.stringify({ at: new Date().toISOString(), steps, failover: fo }, null, 2) + '\n');
  return fo && fo.failed === 0 ? 0 : 1;
}
