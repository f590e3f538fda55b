import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { parseMasterKey } from '../../src/config/master-key.js';
import { decryptSecret } from '../../src/core/secrets.js';
import { ARCA_BIN, freePort, startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { raw, streamingUpload } from '../helpers/raw-http.js';
import { freshDatabaseConfig } from '../helpers/databases.js';

const run = promisify(execFile);
const homes: string[] = [];
const nodes: NodeProcess[] = [];
function tempHome(): string {
  const h = mkdtempSync(join(tmpdir(), 'arca-cli-'));
  homes.push(h);
  return h;
}

afterEach(async () => {
  for (const n of nodes.splice(0)) await n.cleanup();
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

describe('arca start', () => {
  it('creates the home layout and prints the banner with the HA Node ID', async () => {
    const home = tempHome();
    const node = await startNodeProcess({ home, workers: 2, env: { JF_SHARED_NODE_ID: 'art-b' } });
    nodes.push(node);
    for (const p of ['etc/system.yaml', 'etc/db.properties', 'etc/binarystore.xml', 'etc/security/master.key', 'data/filestore', 'data/tmp', 'logs', 'backup']) {
      expect(() => statSync(join(home, p)), p).not.toThrow();
    }
    expect(statSync(join(home, 'etc/security/master.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(home, 'etc/security/master.key'), 'utf8').trim()).toMatch(/^[0-9a-f]{32}$/);
    // With two workers, one may answer ping before the supervisor has printed the banner.
    for (let i = 0; i < 100 && !node.output().includes('Arca data dir:'); i++) await new Promise((r) => setTimeout(r, 100));
    const out = node.output();
    expect(out).toContain("HA Node ID: 'art-b'");
    expect(out).toMatch(/Version: \d+\.\d+\.\d+/);
    expect(out).toContain(`Arca Home: '${home}'`);
    expect(out).toContain(`Arca data dir: '${join(home, 'data')}'`);
    expect(readFileSync(join(home, 'logs', 'arca.log'), 'utf8')).toContain("HA Node ID: 'art-b'");
    const ping = await raw(node.url, { path: '/artifactory/api/system/ping', anonymous: true });
    expect(ping.headers['x-artifactory-node-id']).toBe('art-b');
  });

  it("starts its workers with the initial old space of arca.workerHeapMb (none with 0) and glibc's malloc settings (the operator's own win)", async () => {
    /** The command line and environment of each of the node's worker processes (children of the supervisor). */
    const workersOf = (pid: number) =>
      readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .flatMap((d) => {
          try {
            const stat = readFileSync(`/proc/${d}/stat`, 'latin1');
            if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== pid) return [];
            return [{ args: readFileSync(`/proc/${d}/cmdline`, 'latin1').split('\0'), env: readFileSync(`/proc/${d}/environ`, 'latin1').split('\0') }];
          } catch {
            return [];
          }
        });
    const byDefault = await startNodeProcess({ workers: 2 });
    nodes.push(byDefault);
    const workers = workersOf(byDefault.child.pid!);
    expect(workers).toHaveLength(2);
    for (const { args, env } of workers) {
      expect(args).toContain('--initial-old-space-size=128');
      expect(env).toEqual(expect.arrayContaining(['MALLOC_ARENA_MAX=2', 'MALLOC_TRIM_THRESHOLD_=1048576', 'MALLOC_MMAP_THRESHOLD_=131072']));
    }
    const off = await startNodeProcess({ workers: 2, env: { ARCA_WORKERHEAPMB: '0', MALLOC_ARENA_MAX: '4' } });
    nodes.push(off);
    const plain = workersOf(off.child.pid!);
    expect(plain).toHaveLength(2);
    for (const { args, env } of plain) {
      expect(args.some((a) => a.startsWith('--initial-old-space-size'))).toBe(false);
      expect(env.filter((v) => v.startsWith('MALLOC_ARENA_MAX='))).toEqual(['MALLOC_ARENA_MAX=4']);
      expect(env).toContain('MALLOC_TRIM_THRESHOLD_=1048576');
    }
  });

  it('writes a random initial admin password (0600) when ARCA_ADMIN_PASSWORD is not set', async () => {
    const home = tempHome();
    const node = await startNodeProcess({ home, env: { ARCA_ADMIN_PASSWORD: '' } });
    nodes.push(node);
    const file = join(home, 'etc/security/initial-admin-password');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const password = readFileSync(file, 'utf8').trim();
    expect(password.length).toBeGreaterThanOrEqual(16);
    const auth = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
    expect((await raw(node.url, { path: '/artifactory/api/repositories', headers: { authorization: auth } })).status).toBe(200);
    expect((await raw(node.url, { path: '/artifactory/api/repositories', headers: { authorization: `Basic ${Buffer.from('admin:password').toString('base64')}` } })).status).toBe(401);
  });

  it('refuses to start with a malformed master key', async () => {
    const home = tempHome();
    mkdirSync(join(home, 'etc', 'security'), { recursive: true });
    writeFileSync(join(home, 'etc', 'security', 'master.key'), 'zz-not-hex');
    const port = await freePort();
    const res = await run(process.execPath, [ARCA_BIN, 'start', '--home', home, '--port', String(port), '--host', '127.0.0.1', '--workers', '1']).catch((e) => e);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/Malformed master key in .*master.key/);
  });

  it('uses a 64-hex master key that is already there', async () => {
    const home = tempHome();
    mkdirSync(join(home, 'etc', 'security'), { recursive: true });
    const key = randomBytes(32).toString('hex');
    writeFileSync(join(home, 'etc', 'security', 'master.key'), key + '\n', { mode: 0o600 });
    const node = await startNodeProcess({ home });
    nodes.push(node);
    expect(readFileSync(join(home, 'etc', 'security', 'master.key'), 'utf8').trim()).toBe(key);
  });

  it('honours ARCA_HOME, ARCA_PORT and ARCA_HOST', async () => {
    const home = tempHome();
    const port = await freePort();
    const child = spawn(process.execPath, [ARCA_BIN, 'start', '--workers', '1'], {
      env: { ...process.env, ARCA_HOME: home, ARCA_PORT: String(port), ARCA_HOST: '127.0.0.1', ARCA_ADMIN_PASSWORD: 'x-secret-1' },
      stdio: 'ignore',
    });
    try {
      let ok = false;
      for (let i = 0; i < 100 && !ok; i++) {
        ok = await fetch(`http://127.0.0.1:${port}/artifactory/api/system/ping`).then((r) => r.ok, () => false);
        if (!ok) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ok).toBe(true);
      expect(statSync(join(home, 'etc', 'security', 'master.key')).isFile()).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('on SIGTERM finishes an in-flight upload, then exits 0', async () => {
    const node = await startNodeProcess({ workers: 2 });
    nodes.push(node);
    await raw(node.url, { method: 'PUT', path: '/artifactory/api/repositories/g', headers: { 'content-type': 'application/json' }, body: '{"rclass":"local"}' });
    const data = randomBytes(2 << 20);
    const upload = streamingUpload(node.url, '/artifactory/g/in-flight.bin');
    await upload.write(data.subarray(0, 1 << 20));
    await new Promise((r) => setTimeout(r, 200));
    const exit = node.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    await upload.write(data.subarray(1 << 20));
    const res = await upload.end();
    expect(res.status).toBe(201);
    expect(res.json().size).toBe(String(data.length));
    expect(await exit).toBe(0);
    expect(node.output()).toContain('stopping');
  });
});

describe('arca start in HA mode', () => {
  it('refuses the embedded SQLite database', async () => {
    const home = tempHome();
    mkdirSync(join(home, 'etc'), { recursive: true });
    writeFileSync(join(home, 'etc', 'ha-node.properties'), 'node.id=art1\ncontext.url=http://127.0.0.1:1/artifactory\n', { mode: 0o644 });
    const port = await freePort();
    const res = await run(process.execPath, [ARCA_BIN, 'start', '--home', home, '--port', String(port), '--host', '127.0.0.1', '--workers', '2']).catch((e) => e);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/configured for HA .* embedded SQLite, which serves one node only/);
  });

  it('refuses a second node with the id of a RUNNING one, and shows both nodes of a cluster', async () => {
    const fresh = await freshDatabaseConfig('postgresql');
    try {
      const homeFor = (id: string, port: number) => {
        const home = tempHome();
        mkdirSync(join(home, 'etc', 'security'), { recursive: true });
        writeFileSync(join(home, 'etc', 'db.properties'), `type=postgresql\nurl=${fresh.url}\n`);
        writeFileSync(join(home, 'etc', 'ha-node.properties'), `node.id=${id}\ncontext.url=http://127.0.0.1:${port}/artifactory/\nprimary=${id === 'art1'}\n`, { mode: 0o644 });
        writeFileSync(join(home, 'etc', 'security', 'master.key'), 'ab'.repeat(16) + '\n', { mode: 0o600 });
        return home;
      };
      const first = await startNodeProcess({ home: homeFor('art1', 0), workers: 2 });
      nodes.push(first);
      expect(first.output()).toContain("HA Node ID: 'art1'");
      const twinPort = await freePort();
      const twin = await run(process.execPath, [ARCA_BIN, 'start', '--home', homeFor('art1', twinPort), '--port', String(twinPort), '--host', '127.0.0.1', '--workers', '1']).catch((e) => e);
      expect(twin.code).toBe(1);
      expect(twin.stderr).toMatch(/Node id 'art1' is already RUNNING/);
      const second = await startNodeProcess({ home: homeFor('art2', 0), workers: 1 });
      nodes.push(second);
      const status = await raw(first.url, { path: '/artifactory/api/system/status' });
      expect(status.json().nodes.map((n: { id: string; state: string; role: string }) => [n.id, n.state, n.role])).toEqual([
        ['art1', 'RUNNING', 'PRIMARY'],
        ['art2', 'RUNNING', 'MEMBER'],
      ]);
      expect(await second.stop()).toBe(0);
      const after = await raw(first.url, { path: '/artifactory/api/system/status' });
      expect(after.json().nodes.find((n: { id: string }) => n.id === 'art2').state).toBe('STOPPED');
    } finally {
      for (const n of nodes.splice(0)) await n.cleanup();
      await fresh.drop();
    }
  });
});

describe('arca encrypt', () => {
  it('prints a value encrypted with the home master key', async () => {
    const home = tempHome();
    const { stdout } = await run(process.execPath, [ARCA_BIN, 'encrypt', 'db-pass', '--home', home]);
    const value = stdout.trim();
    expect(value).toMatch(/^ENC\(v1:[A-Za-z0-9_-]+\)$/);
    const key = parseMasterKey(readFileSync(join(home, 'etc/security/master.key'), 'utf8'), 'master.key');
    expect(decryptSecret(key, value)).toBe('db-pass');
  });

  it('prints usage and exits 2 without a value', async () => {
    const res = await run(process.execPath, [ARCA_BIN, 'encrypt']).catch((e) => e);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('Usage: arca encrypt');
  });
});
