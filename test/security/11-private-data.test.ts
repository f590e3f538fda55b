import { chmodSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH } from '../helpers/credentials.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';

/**
 * Issue 12, item 11: the database (with its -wal/-shm), the file store, data/, etc/, logs/
 * and backup/ are private (files 0600, directories 0700), also when created later, and a home
 * left world-readable by an older version is fixed at start with a log line.
 */
const mode = (p: string) => statSync(p).mode & 0o777;

/** Every path under `dir` (depth-first), with `dir` itself. */
function walk(dir: string, out: string[] = [dir]): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) walk(p, out);
  }
  return out;
}

async function deploy(node: NodeProcess, path: string, body: string): Promise<void> {
  const res = await fetch(`${node.base}/${path}`, { method: 'PUT', body, headers: { authorization: ADMIN_AUTH } });
  expect(res.status, await res.text()).toBe(201);
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond() && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 50));
}

/** Checks that nothing under the private parts of `home` is readable by group or others. */
function expectPrivate(home: string): void {
  const bad: string[] = [];
  for (const top of ['etc', 'data', 'logs', 'backup']) {
    for (const p of walk(join(home, top))) {
      if (p.endsWith('/ha-node.properties')) continue;
      const want = statSync(p).isDirectory() ? 0o700 : 0o600;
      if (mode(p) !== want) bad.push(`${p} ${mode(p).toString(8)}`);
    }
  }
  expect(bad, 'paths that are not private').toEqual([]);
}

describe('item 11: data at rest is private', () => {
  let node: NodeProcess | undefined;
  afterAll(async () => {
    await node?.cleanup();
  });

  it('a new home: database with -wal/-shm, file store, etc/, data/, logs/, backup/ (also what is created later)', async () => {
    node = await startNodeProcess({ workers: 2 });
    const home = node.home;
    const put = await fetch(`${node.base}/api/repositories/generic-local`, {
      method: 'PUT',
      headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ rclass: 'local', packageType: 'generic' }),
    });
    expect(put.status).toBe(200);
    // Binaries created after start: a small one and one larger than a batch (staged with O_DIRECT where possible).
    await deploy(node, 'generic-local/a/small.txt', 'hello');
    await deploy(node, 'generic-local/a/large.bin', 'x'.repeat(3 << 20));
    const backup = await fetch(`${node.base}/api/system/tasks/backup/run?wait=60`, { method: 'POST', headers: { authorization: ADMIN_AUTH } });
    const run = await backup.text();
    expect(run).toMatch(/SUCCEEDED|"status":"DONE"|succeeded/i);
    expect(readdirSync(join(home, 'backup')).length, 'a backup was written').toBeGreaterThan(0);
    await waitFor(() => existsSync(join(home, 'logs', 'request.log')));

    expect(existsSync(join(home, 'data', 'arca.db-wal')), 'the WAL exists while the node runs').toBe(true);
    expect(existsSync(join(home, 'data', 'arca.db-shm'))).toBe(true);
    for (const f of ['data/arca.db', 'data/arca.db-wal', 'data/arca.db-shm', 'logs/arca.log', 'logs/request.log', 'etc/system.yaml', 'etc/db.properties', 'etc/binarystore.xml']) {
      expect(mode(join(home, f)), f).toBe(0o600);
    }
    for (const d of ['etc', 'etc/security', 'data', 'data/filestore', 'data/tmp', 'logs', 'backup']) expect(mode(join(home, d)), d).toBe(0o700);
    expect(readdirSync(join(home, 'data', 'filestore')).length).toBeGreaterThan(0);
    expectPrivate(home);
    await node.stop();
  });

  it('a home left world-readable by an older version is fixed at start, with a log line naming what changed', async () => {
    const home = node!.home;
    await node!.stop();
    // What 0.1.0 left: directories 755, files 644.
    for (const top of ['etc', 'data', 'logs', 'backup']) for (const p of walk(join(home, top))) chmodSync(p, statSync(p).isDirectory() ? 0o755 : 0o644);
    expect(mode(join(home, 'data', 'arca.db'))).toBe(0o644);
    const shard = readdirSync(join(home, 'data', 'filestore'))[0];
    node = await startNodeProcess({ home, workers: 1 });
    const out = node.output();
    const line = out.split('\n').find((l) => l.includes('data at rest is private'));
    expect(line, out).toBeDefined();
    for (const p of ['data/arca.db 644 -> 600', 'etc/system.yaml 644 -> 600', 'data/filestore 755 -> 700', `data/filestore/${shard} 755 -> 700`, 'logs 755 -> 700', 'backup 755 -> 700', 'etc 755 -> 700']) {
      expect(line).toContain(`${home}/${p}`);
    }
    for (const f of ['data/arca.db', 'etc/system.yaml', 'etc/security/master.key', 'logs/arca.log']) expect(mode(join(home, f)), f).toBe(0o600);
    for (const d of ['etc', 'data', 'data/filestore', `data/filestore/${shard}`, 'data/tmp', 'logs', 'backup']) expect(mode(join(home, d)), d).toBe(0o700);
    // Directories are 0700, so what lies below them (binaries, backups) is out of reach whatever its own mode.
    expect(mode(join(home, 'data', 'arca.db-wal'))).toBe(0o600);
    // A second start has nothing left to change.
    await node.stop();
    node = await startNodeProcess({ home, workers: 1 });
    expect(node.output()).not.toContain('data at rest is private');
  });
});
