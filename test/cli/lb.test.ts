import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { ARCA_BIN, startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { haproxyCheck, HAPROXY, NGINX, nginxTest, NO_HAPROXY, NO_NGINX, startHaproxy, startNginx, type Balancer } from '../helpers/balancers.js';
import { raw } from '../helpers/raw-http.js';
import { ADMIN_AUTH } from '../helpers/node-context.js';

const run = promisify(execFile);
type Result = { code?: number; stdout: string; stderr: string };
const arca = (...args: string[]): Promise<Result> => run(process.execPath, [ARCA_BIN, ...args]).catch((e: Result) => e);

if (NO_NGINX) console.warn(`[lb.test] ${NO_NGINX}`);
if (NO_HAPROXY) console.warn(`[lb.test] ${NO_HAPROXY}`);

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'arca-lb-'));
  // nginx workers run as an unprivileged user and write their temp files in the prefix.
  chmodSync(d, 0o755);
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const NODES = 'http://127.0.0.1:18081/artifactory,http://127.0.0.1:18082/artifactory/,http://127.0.0.1:18083/artifactory';

describe('arca lb: command line', () => {
  it('needs exactly one source of nodes', async () => {
    const none = await arca('lb', 'nginx');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('exactly one of --home and --nodes');
    expect((await arca('lb', 'apache', '--nodes', NODES)).code).toBe(2);
    expect((await arca('lb')).code).toBe(2);
  });

  it('says so when a home has no registered HA node', async () => {
    const node = await startNodeProcess();
    try {
      const res = await arca('lb', 'nginx', '--home', node.home);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/has no context URL/);
      expect(res.stderr).toMatch(/No nodes to balance/);
    } finally {
      await node.cleanup();
    }
  });

  it('writes the configuration to --output', async () => {
    const dir = tempDir();
    const res = await arca('lb', 'haproxy', '--nodes', NODES, '--output', join(dir, 'haproxy.cfg'));
    expect(res.stderr).toContain('wrote');
    expect(res.stdout).toBe('');
  });
});

describe.skipIf(!NGINX)('arca lb nginx: nginx accepts the configuration', () => {
  it('as a complete configuration (nginx -t)', async () => {
    const dir = tempDir();
    const { stdout } = await run(process.execPath, [ARCA_BIN, 'lb', 'nginx', '--nodes', NODES, '--listen', '127.0.0.1:18080']);
    writeFileSync(join(dir, 'nginx.conf'), stdout);
    const t = nginxTest(dir, join(dir, 'nginx.conf'));
    expect(t.ok, t.output).toBe(true);
  });

  it('as a snippet inside an http block (nginx -t)', async () => {
    const dir = tempDir();
    const { stdout } = await run(process.execPath, [ARCA_BIN, 'lb', 'nginx', '--snippet', '--nodes', NODES, '--server-name', 'repo.example.com', '--timeout', '3600']);
    expect(stdout).not.toMatch(/^events/m);
    expect(stdout).toContain('proxy_read_timeout 3600s;');
    writeFileSync(join(dir, 'arca.conf'), stdout);
    writeFileSync(
      join(dir, 'nginx.conf'),
      `pid nginx.pid;\nerror_log error.log;\nevents {}\nhttp {\n  access_log off;\n  client_body_temp_path body;\n  proxy_temp_path proxy;\n  include ${join(dir, 'arca.conf')};\n}\n`,
    );
    const t = nginxTest(dir, join(dir, 'nginx.conf'));
    expect(t.ok, t.output).toBe(true);
  });
});

describe.skipIf(!HAPROXY)('arca lb haproxy: haproxy accepts the configuration', () => {
  it('haproxy -c', async () => {
    const dir = tempDir();
    const { stdout } = await run(process.execPath, [ARCA_BIN, 'lb', 'haproxy', '--nodes', NODES, '--listen', '127.0.0.1:18080']);
    writeFileSync(join(dir, 'haproxy.cfg'), stdout);
    const c = haproxyCheck(join(dir, 'haproxy.cfg'));
    expect(c.ok, c.output).toBe(true);
  });
});

describe.skipIf(!NGINX && !HAPROXY)('a balancer in front of two real nodes', () => {
  const nodes: NodeProcess[] = [];
  const balancers: (Balancer & { url: string })[] = [];
  beforeAll(async () => {
    for (const id of ['lb-a', 'lb-b']) nodes.push(await startNodeProcess({ env: { ARCA_SHARED_NODE_ID: id } }));
  });
  afterAll(async () => {
    for (const b of balancers.splice(0)) await b.stop();
    for (const n of nodes.splice(0)) await n.cleanup();
  });

  async function throughBalancer(kind: 'nginx' | 'haproxy') {
    const dir = tempDir();
    const port = await freePort();
    const file = join(dir, kind === 'nginx' ? 'nginx.conf' : 'haproxy.cfg');
    const list = nodes.map((n) => n.base).join(',');
    await run(process.execPath, [ARCA_BIN, 'lb', kind, '--nodes', list, '--listen', `127.0.0.1:${port}`, '--output', file]);
    const b = kind === 'nginx' ? await startNginx(dir, file, port) : await startHaproxy(file, port);
    const lb = `http://127.0.0.1:${port}`;
    balancers.push(Object.assign(b, { url: lb }));
    // haproxy sends traffic once its first readiness check passed.
    const deadline = Date.now() + 10_000;
    while ((await raw(lb, { path: '/artifactory/api/system/ping', anonymous: true }).catch(() => ({ status: 0 }))).status !== 200) {
      if (Date.now() > deadline) throw new Error(`${kind} never answered 200:\n${b.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const res = await raw(lb, { path: '/artifactory/api/system/ping', anonymous: true });
      expect(res.status).toBe(200);
      expect(res.text()).toBe('OK');
      seen.add(String(res.headers['x-artifactory-node-id']));
    }
    expect([...seen].sort()).toEqual(['lb-a', 'lb-b']);

    // The nodes see the balancer's address in X-Forwarded-*: absolute URLs point at it.
    await raw(lb, { method: 'PUT', path: '/artifactory/api/repositories/lb-local', headers: { 'content-type': 'application/json' }, body: '{"rclass":"local"}' });
    for (let i = 0; i < 2; i++) {
      // Each node has its own database here: make sure both have the repository.
      await raw(nodes[i].url, { method: 'PUT', path: '/artifactory/api/repositories/lb-local', headers: { 'content-type': 'application/json' }, body: '{"rclass":"local"}' });
    }
    const body = Buffer.alloc(256 * 1024, 7);
    const put = await fetch(`${lb}/artifactory/lb-local/big/file-${kind}.bin`, {
      method: 'PUT',
      headers: { authorization: ADMIN_AUTH, 'content-type': 'application/octet-stream' },
      body: new ReadableStream({
        start(c) {
          c.enqueue(body.subarray(0, 100_000));
          c.enqueue(body.subarray(100_000));
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(put.status).toBe(201);
    expect(((await put.json()) as { downloadUri: string }).downloadUri).toBe(`${lb}/artifactory/lb-local/big/file-${kind}.bin`);
  }

  it.skipIf(!NGINX)('nginx passes requests to both nodes, streams a chunked upload and forwards the client facts', async () => {
    await throughBalancer('nginx');
  });

  it.skipIf(!HAPROXY)('haproxy passes requests to both nodes once their readiness check passes', async () => {
    await throughBalancer('haproxy');
  });

  it('GETs through the balancers survive a node killed with SIGKILL', async () => {
    const lbs = balancers.map((b) => b.url);
    expect(lbs.length).toBeGreaterThan(0);
    await nodes[1].stop('SIGKILL');
    for (const lb of lbs) {
      for (let i = 0; i < 12; i++) {
        const res = await raw(lb, { path: '/artifactory/api/system/version' });
        expect(res.status, lb).toBe(200);
        expect(res.headers['x-artifactory-node-id']).toBe('lb-a');
      }
    }
  });
});
