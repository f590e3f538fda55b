import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newDocument, signLicense } from '../../src/cluster/licenses/license-key.js';
import { freshDatabaseConfig } from '../helpers/databases.js';
import { ADMIN_AUTH, ADMIN_PASSWORD } from '../helpers/credentials.js';
import { ARCA_BIN } from '../helpers/node-process.js';
import { freePort } from '../helpers/ports.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const key = (to: string, validThrough: string) => signLicense(newDocument(to, 'Enterprise', validThrough, Date.now()), privateKey);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Proc {
  id: string;
  base: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
}

async function until(limitMs: number, what: string, check: () => Promise<boolean>, proc?: Proc): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} not within ${limitMs} ms${proc ? `:\n${proc.output()}` : ''}`);
    await sleep(100);
  }
}

/**
 * Real `arca start` processes of one cluster on PostgreSQL with the license manager on: the
 * license is taken and returned by the node's processes themselves (two workers on node-1).
 */
describe('licenses across real node processes on PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof freshDatabaseConfig>>;
  const homes: string[] = [];
  const procs: Proc[] = [];
  const ports: number[] = [];
  const publicB64 = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

  const start = async (i: number, workers: number): Promise<Proc> => {
    const id = `node-${i + 1}`;
    const child = spawn(process.execPath, [ARCA_BIN, 'start', '--home', homes[i], '--port', String(ports[i]), '--host', '127.0.0.1', '--workers', String(workers)], {
      env: { ...process.env, ARCA_ADMIN_PASSWORD: ADMIN_PASSWORD, ARCA_SHARED_NODE_ID: id, ARCA_LICENSE_PUBLICKEY: publicB64, ARCA_SHARED_NODE_CONTEXTURL: `http://127.0.0.1:${ports[i]}/artifactory` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const p: Proc = { id, base: `http://127.0.0.1:${ports[i]}/artifactory`, child, exited: new Promise((r) => child.once('exit', (c) => r(c))), output: () => out };
    procs[i] = p;
    // Readiness, not ping: an unlicensed node serves but its ping answers 503.
    await until(30_000, `${id} ready`, async () => {
      if (child.exitCode !== null) throw new Error(`${id} exited with ${child.exitCode}:\n${out}`);
      return (await fetch(`${p.base}/api/v1/system/readiness`)).status === 200;
    }, p);
    return p;
  };
  const licenses = async (p: Proc) => {
    const body = (await (await fetch(`${p.base}/api/system/licenses`, { headers: { authorization: ADMIN_AUTH } })).json()) as { licenses: { licensedTo: string; nodeId: string; nodeUrl: string }[] };
    return body.licenses;
  };
  const ping = async (p: Proc) => {
    const r = await fetch(`${p.base}/api/system/ping`);
    return { status: r.status, body: await r.text() };
  };

  beforeAll(async () => {
    db = await freshDatabaseConfig('postgresql');
    for (let i = 0; i < 2; i++) {
      const home = mkdtempSync(join(tmpdir(), `arca-lic-proc-${i + 1}-`));
      homes.push(home);
      ports.push(await freePort());
      mkdirSync(join(home, 'etc'), { recursive: true });
      writeFileSync(join(home, 'etc', 'db.properties'), `type=postgresql\nurl=${db.url}\npool.max.active=4\n`);
    }
    writeFileSync(join(homes[0], 'etc', 'artifactory.cluster.license'), `${key('First Ltd', '2099-12-31')}\n`);
  });
  afterAll(async () => {
    for (const p of procs) {
      if (p && p.child.exitCode === null) {
        p.child.kill('SIGKILL');
        await p.exited;
      }
    }
    await db?.drop();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  });

  it('takes the bootstrap license, licenses a second node when a key is added, and returns the license on SIGTERM', async () => {
    const a = await start(0, 2);
    expect(await ping(a)).toEqual({ status: 200, body: 'OK' });
    mkdirSync(join(homes[1], 'etc', 'security'), { recursive: true, mode: 0o700 });
    copyFileSync(join(homes[0], 'etc', 'security', 'master.key'), join(homes[1], 'etc', 'security', 'master.key'));
    const b = await start(1, 1);
    const unlicensed = await ping(b);
    expect(unlicensed.status).toBe(503);
    expect(unlicensed.body).toContain("node 'node-2' needs a license");

    const added = await fetch(`${b.base}/api/system/licenses`, {
      method: 'POST',
      headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
      body: JSON.stringify([{ licenseKey: key('Second Ltd', '2098-01-01') }]),
    });
    expect(added.status).toBe(200);
    await until(10_000, 'node-2 licensed', async () => (await ping(b)).status === 200, b);
    expect((await licenses(a)).map((l) => [l.licensedTo, l.nodeId, l.nodeUrl])).toEqual([
      ['First Ltd', 'node-1', a.base],
      ['Second Ltd', 'node-2', b.base],
    ]);
    // Both workers of node-1 answer with the license (ping is served by either).
    for (let i = 0; i < 6; i++) expect((await ping(a)).status).toBe(200);

    // SIGTERM: node-1 (two workers) stops and gives its license back at once, long before
    // the stale period would.
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect((await licenses(b)).find((l) => l.licensedTo === 'First Ltd')?.nodeId).toBe('Not in use');
    expect(a.output()).toContain('Returned license');

    // It starts again and takes the free license.
    const again = await start(0, 1);
    await until(10_000, 'node-1 licensed again', async () => (await ping(again)).status === 200, again);
    expect((await licenses(b)).map((l) => l.nodeId)).toEqual(['node-1', 'node-2']);
  });
});
