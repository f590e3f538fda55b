import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freshDatabaseConfig } from '../helpers/databases.js';
import { ADMIN_PASSWORD } from '../helpers/node-context.js';
import { ARCA_BIN } from '../helpers/node-process.js';
import { freePortRange, HAPROXY, NGINX, NO_HAPROXY, NO_NGINX, startHaproxy, startNginx, type Balancer } from '../helpers/balancers.js';
import { freePort } from '../helpers/ports.js';
import { raw } from '../helpers/raw-http.js';

const run = promisify(execFile);
type Result = { code?: number; stdout: string; stderr: string };
const arca = (...args: string[]): Promise<Result> => run(process.execPath, [ARCA_BIN, ...args]).catch((e: Result) => e);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

if (NO_NGINX) console.warn(`[ha-cluster.test] ${NO_NGINX}`);
if (NO_HAPROXY) console.warn(`[ha-cluster.test] haproxy part left out: ${NO_HAPROXY}`);

interface HomeProcess {
  id: string;
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
}

/** `arca start --home DIR`: port, address and identity all come from the files `ha init` wrote. */
async function startHome(id: string, home: string, contextUrl: string, env: Record<string, string>): Promise<HomeProcess> {
  const child = spawn(process.execPath, [ARCA_BIN, 'start', '--home', home], {
    env: { ...process.env, ARCA_ADMIN_PASSWORD: ADMIN_PASSWORD, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${id} exited with ${child.exitCode}:\n${out}`);
    const ok = await fetch(`${contextUrl}/api/system/ping`).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${id} did not answer within 30 s:\n${out}`);
    }
    await sleep(100);
  }
  return { id, url: contextUrl, child, exited, output: () => out };
}

describe.skipIf(!NGINX)('arca ha init + three nodes on PostgreSQL + nginx + arca ha verify', () => {
  const processes: HomeProcess[] = [];
  const balancers: Balancer[] = [];
  let dir = '';
  let dropDb: (() => Promise<void>) | undefined;

  afterAll(async () => {
    for (const b of balancers) await b.stop();
    for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(processes.map((p) => p.exited));
    await dropDb?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('builds a working cluster in one command and verifies it; a node leaving drains without a failed request', async () => {
    const db = await freshDatabaseConfig('postgresql');
    dropDb = db.drop;
    dir = mkdtempSync(join(tmpdir(), 'arca-ha-'));
    chmodSync(dir, 0o755);
    const basePort = await freePortRange(3);
    const lbPort = await freePort();

    // 1. ha init writes three homes and the balancer configuration.
    const init = await arca('ha', 'init', '--nodes', '3', '--db', db.url, '--dir', dir, '--base-port', String(basePort), '--host', '127.0.0.1', '--lb-listen', `127.0.0.1:${lbPort}`, '--workers', '1');
    expect(init.code ?? 0, init.stderr).toBe(0);
    for (let i = 1; i <= 3; i++) expect(init.stdout).toContain(`arca start --home ${join(dir, `node${i}`)}`);
    expect(init.stdout).toContain(`nginx -p ${join(dir, 'nginx')} -c nginx.conf`);
    const key = readFileSync(join(dir, 'node1/etc/security/master.key'), 'utf8');
    for (let i = 1; i <= 3; i++) {
      const etc = join(dir, `node${i}`, 'etc');
      expect(readFileSync(join(etc, 'security/master.key'), 'utf8')).toBe(key);
      expect(statSync(join(etc, 'security/master.key')).mode & 0o777).toBe(0o600);
      expect(statSync(join(etc, 'ha-node.properties')).mode & 0o777).toBe(0o644);
      const props = readFileSync(join(etc, 'ha-node.properties'), 'utf8');
      expect(props).toContain(`node.id=node${i}`);
      expect(props).toContain(`context.url=http://127.0.0.1:${basePort + i - 1}/artifactory`);
      expect(props).toContain(`artifactory.ha.data.dir=${join(dir, 'shared/data')}`);
      expect(props).toContain('primary=false');
      const dbProps = readFileSync(join(etc, 'db.properties'), 'utf8');
      expect(dbProps).toContain('type=postgresql');
      expect(dbProps).toMatch(/^password=ENC\(v1:/m);
      expect(dbProps).not.toContain('postgres:postgres@');
      expect(readFileSync(join(etc, 'system.yaml'), 'utf8')).toContain(`port: ${basePort + i - 1}`);
    }
    const again = await arca('ha', 'init', '--db', db.url, '--dir', dir);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('Refusing to overwrite');

    // 2. The nodes start from their homes alone: the first one, then the other two together.
    const env = { ARCA_SHUTDOWNDRAINSECS: '6' };
    const url = (i: number) => `http://127.0.0.1:${basePort + i - 1}/artifactory`;
    processes.push(await startHome('node1', join(dir, 'node1'), url(1), env));
    processes.push(...(await Promise.all([2, 3].map((i) => startHome(`node${i}`, join(dir, `node${i}`), url(i), env)))));
    expect(processes[0].output()).toContain("HA Node ID: 'node1'");

    // 3. arca lb reads the registered nodes from the shared database.
    const lbText = await arca('lb', 'nginx', '--home', join(dir, 'node2'), '--snippet');
    for (let i = 1; i <= 3; i++) expect(lbText.stdout).toContain(`server 127.0.0.1:${basePort + i - 1} max_fails=2 fail_timeout=10s; # node${i} (RUNNING when generated)`);

    // 4. nginx runs the configuration ha init wrote.
    const nginx = await startNginx(join(dir, 'nginx'), 'nginx.conf', lbPort);
    balancers.push(nginx);
    const lb = `http://127.0.0.1:${lbPort}`;

    // 5. ha verify passes every check, and sets the URL base on the way.
    const verify = await arca('ha', 'verify', '--url', lb, '--user', 'admin', '--password', ADMIN_PASSWORD, '--set-url-base');
    expect(verify.code ?? 0, `${verify.stdout}${verify.stderr}`).toBe(0);
    expect(verify.stdout).not.toMatch(/^\s+(FAIL|WARN)/m);
    for (const check of ['every node RUNNING', 'one version', 'one master key', 'URL base is the balancer', 'node ids in responses', 'write through one node, read through every node']) {
      expect(verify.stdout).toMatch(new RegExp(`PASS  ${check}`));
    }
    expect(verify.stdout).toContain(`URL base is the balancer: ${lb}/artifactory`);

    // 6. haproxy, when installed, in front of the same nodes (active readiness checks).
    let hlb: string | undefined;
    if (HAPROXY) {
      const hPort = await freePort();
      const cfg = join(dir, 'haproxy', 'from-registry.cfg');
      const gen = await arca('lb', 'haproxy', '--home', join(dir, 'node1'), '--listen', `127.0.0.1:${hPort}`, '--output', cfg);
      expect(gen.code ?? 0, gen.stderr).toBe(0);
      balancers.push(await startHaproxy(cfg, hPort));
      hlb = `http://127.0.0.1:${hPort}`;
      // Every server up: three consecutive node ids seen.
      const deadline = Date.now() + 15_000;
      const seen = new Set<string>();
      while (seen.size < 3) {
        const r = await raw(hlb, { path: '/artifactory/api/system/ping', anonymous: true }).catch(() => undefined);
        if (r?.status === 200) seen.add(String(r.headers['x-artifactory-node-id']));
        if (Date.now() > deadline) throw new Error(`haproxy did not reach all nodes: ${[...seen]}`);
      }
    }

    // 7. A file deployed through the balancer, then read through it while node3 leaves.
    const put = await raw(lb, { method: 'PUT', path: '/artifactory/api/repositories/ha-e2e', headers: { 'content-type': 'application/json' }, body: '{"rclass":"local"}' });
    expect(put.status).toBe(200);
    const content = Buffer.from('through the balancer\n'.repeat(500));
    for (;;) {
      // The new repository reaches every node's cache within the propagation delay.
      const ok = await Promise.all([1, 2, 3].map((i) => raw(url(i).replace('/artifactory', ''), { path: '/artifactory/api/repositories/ha-e2e' })));
      if (ok.every((r) => r.status === 200)) break;
      await sleep(100);
    }
    expect((await raw(lb, { method: 'PUT', path: '/artifactory/ha-e2e/a/file.txt', body: content })).status).toBe(201);

    const node3 = processes[2];
    const results: { via: string; at: number; status: number; node?: string; ok: boolean }[] = [];
    let t0 = 0;
    let done = false;
    const reader = async (via: string, base: string) => {
      while (!done) {
        const r = await raw(base, { path: '/artifactory/ha-e2e/a/file.txt' }).catch(() => undefined);
        results.push({ via, at: Date.now() - t0, status: r?.status ?? 0, node: r?.headers['x-artifactory-node-id'] as string | undefined, ok: !!r && sha256(r.body) === sha256(content) });
        await sleep(10);
      }
    };
    t0 = Date.now();
    const readers = [reader('nginx', lb), ...(hlb ? [reader('haproxy', hlb)] : [])];
    await sleep(300);
    const termAt = Date.now() - t0;
    node3.child.kill('SIGTERM');
    expect(await node3.exited).toBe(0);
    const exitAt = Date.now() - t0;
    await sleep(1000);
    done = true;
    await Promise.all(readers);

    const failed = results.filter((r) => r.status !== 200 || !r.ok);
    expect(failed, JSON.stringify(failed.slice(0, 5))).toEqual([]);
    expect(exitAt - termAt).toBeGreaterThanOrEqual(5900);
    for (const via of ['nginx', ...(hlb ? ['haproxy'] : [])]) {
      const mine = results.filter((r) => r.via === via);
      expect(mine.length).toBeGreaterThan(50);
      expect(mine.some((r) => r.node === 'node3' && r.at < termAt)).toBe(true);
      expect(mine.filter((r) => r.at > exitAt).every((r) => r.node !== 'node3')).toBe(true);
    }
    if (hlb) {
      // haproxy saw readiness turn 503 and stopped sending to node3 while it still listened.
      const last = Math.max(...results.filter((r) => r.via === 'haproxy' && r.node === 'node3').map((r) => r.at));
      expect(last - termAt).toBeLessThan(5500);
    }

    // 8. ha verify now fails, and names the node that is gone.
    const after = await arca('ha', 'verify', '--url', lb, '--user', 'admin', '--password', ADMIN_PASSWORD);
    expect(after.code).toBe(1);
    expect(after.stdout, after.stderr).toMatch(/FAIL {2}every node RUNNING: .*node3 STOPPED/);
  }, 120_000);
});

describe.skipIf(!NGINX || !inject('mysqlUrl'))('arca ha init on MariaDB/MySQL: two nodes + nginx + arca ha verify', () => {
  const processes: HomeProcess[] = [];
  let nginx: Balancer | undefined;
  let dir = '';
  let dropDb: (() => Promise<void>) | undefined;

  afterAll(async () => {
    await nginx?.stop();
    for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(processes.map((p) => p.exited));
    await dropDb?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('verifies a cluster whose homes name a MariaDB/MySQL database', async () => {
    const db = await freshDatabaseConfig('mysql');
    dropDb = db.drop;
    dir = mkdtempSync(join(tmpdir(), 'arca-ha-my-'));
    chmodSync(dir, 0o755);
    const basePort = await freePortRange(2);
    const lbPort = await freePort();
    const init = await arca('ha', 'init', '--nodes', '2', '--db', db.url, '--dir', dir, '--base-port', String(basePort), '--lb-listen', `127.0.0.1:${lbPort}`, '--workers', '1');
    expect(init.code ?? 0, init.stderr).toBe(0);
    expect(readFileSync(join(dir, 'node2/etc/db.properties'), 'utf8')).toContain('type=mysql');
    const url = (i: number) => `http://127.0.0.1:${basePort + i - 1}/artifactory`;
    processes.push(await startHome('node1', join(dir, 'node1'), url(1), {}));
    processes.push(await startHome('node2', join(dir, 'node2'), url(2), {}));
    nginx = await startNginx(join(dir, 'nginx'), 'nginx.conf', lbPort);
    const verify = await arca('ha', 'verify', '--url', `http://127.0.0.1:${lbPort}/artifactory`, '--password', ADMIN_PASSWORD, '--set-url-base');
    expect(verify.code ?? 0, `${verify.stdout}${verify.stderr}`).toBe(0);
    expect(verify.stdout).toMatch(/PASS {2}every node RUNNING: 2 nodes: node1 RUNNING, node2 RUNNING/);
    expect(verify.stdout).toMatch(/^8 passed, 0 failed$/m);
  }, 90_000);
});
