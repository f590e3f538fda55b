import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLockManager } from '../../src/cluster/locks/open-lock-manager.js';
import { systemClock } from '../../src/core/clock.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { DIALECTS, freshDatabaseConfig } from '../helpers/databases.js';
import { ADMIN_AUTH } from '../helpers/node-context.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';

interface Run {
  id: string;
  task: string;
  slot: string | null;
  status: string;
  nodeId: string;
  attempt: number;
  error: string | null;
  params: unknown;
  result: Record<string, unknown> | null;
}

const until = async <T>(what: string, fn: () => Promise<T | undefined>, ms = 40_000): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
};

/** Two real nodes on one database, with GC every 2 s: the scheduler across processes. */
describe.each(DIALECTS.filter((d) => d !== 'sqlite'))('cluster tasks across real node processes on %s', (dialect) => {
  let fresh: Awaited<ReturnType<typeof freshDatabaseConfig>>;
  let database: Database;
  const nodes: NodeProcess[] = [];
  const homes: string[] = [];
  const runs = async (node: NodeProcess, task: string): Promise<Run[]> => {
    const res = await fetch(`${node.base}/api/system/tasks/runs?task=${task}&limit=1000`, { headers: { authorization: ADMIN_AUTH } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { runs: Run[] }).runs;
  };

  beforeAll(async () => {
    fresh = await freshDatabaseConfig(dialect);
    database = await openDatabase(fresh.config);
    // One binary store for both nodes (the seed's artifactory.ha.data.dir on NFS).
    const shared = mkdtempSync(join(tmpdir(), 'arca-tasks-shared-'));
    homes.push(shared);
    for (const id of ['node-a', 'node-b']) {
      const home = mkdtempSync(join(tmpdir(), `arca-tasks-${id}-`));
      homes.push(home);
      mkdirSync(join(home, 'etc', 'security'), { recursive: true });
      writeFileSync(join(home, 'etc', 'db.properties'), `type=${dialect}\nurl=${fresh.url}\n`);
      // The second node needs the cluster's master key (the seed's step 4).
      if (nodes.length > 0) copyFileSync(join(homes[1], 'etc', 'security', 'master.key'), join(home, 'etc', 'security', 'master.key'));
      nodes.push(
        await startNodeProcess({
          home,
          env: { ARCA_SHARED_NODE_ID: id, ARCA_ARTIFACTORY_NODE_HADATADIR: shared, ARCA_GC_INTERVALSECS: '2', ARCA_GC_GRACESECS: '0', ARCA_TASKS_TICKSECS: '1', ARCA_TASKS_LEASESECS: '4', ARCA_SHUTDOWNDRAINSECS: '0' },
        }),
      );
    }
  });
  afterAll(async () => {
    for (const n of nodes) await n.cleanup();
    await database?.close();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
    await fresh?.drop();
  });

  it('runs each GC slot exactly once across the two nodes', async () => {
    const done = await until('four scheduled GC runs', async () => {
      const all = (await runs(nodes[0], 'gc')).filter((r) => r.status === 'SUCCEEDED');
      return all.length >= 4 ? all : undefined;
    });
    const slots = done.map((r) => r.slot);
    expect(new Set(slots).size).toBe(slots.length);
    for (const s of slots) expect(Date.parse(s!) % 2000).toBe(0);
    expect(new Set(done.map((r) => r.nodeId)).size).toBeGreaterThanOrEqual(1);
    expect((await runs(nodes[1], 'gc')).map((r) => r.id)).toEqual(expect.arrayContaining(done.map((r) => r.id)));
  });

  it('takes over a backup left RUNNING by a node that died, once its lease expires, and completes it', async () => {
    const target = mkdtempSync(join(tmpdir(), 'arca-tasks-backup-'));
    const put = await fetch(`${nodes[0].base}/api/repositories/files-local`, {
      method: 'PUT',
      headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ rclass: 'local', packageType: 'generic' }),
    });
    expect(put.status).toBe(200);
    expect((await fetch(`${nodes[1].base}/files-local/a.txt`, { method: 'PUT', headers: { authorization: ADMIN_AUTH }, body: 'hello' })).status).toBe(201);
    // A "ghost" node takes the storage group's lock and starts a backup, then dies.
    const locks = await openLockManager(fresh.config, systemClock, { poolMaxActive: 1 });
    const lease = await locks.acquire('task:storage', 'ghost/1/dead', 3000, { timeoutMs: 30_000, pollMs: 50 });
    const now = Date.now();
    await database.db
      .insertInto('task_runs')
      .values({
        run_id: 'ghost-run', task_name: 'backup', trigger_type: 'manual', slot: null, attempt: 1, status: 'RUNNING', node_id: 'ghost',
        fencing_token: lease.token, queued_at: now, started_at: now, ended_at: null, requested_by: 'admin',
        params: JSON.stringify({ dir: target }), result: null, counts: null, error: null,
      })
      .execute();
    try {
      let seen: Run[] = [];
      const finished = await until('the backup to be taken over', async () => {
        seen = await runs(nodes[0], 'backup');
        return seen.find((r) => r.status === 'SUCCEEDED');
      }).catch((err: Error) => {
        throw new Error(`${err.message}; backup runs: ${JSON.stringify(seen)}`);
      });
      expect(finished).toMatchObject({ attempt: 2, params: { dir: target }, counts: expect.objectContaining({ files: 1, binaries: 1 }) });
      expect(['node-a', 'node-b']).toContain(finished.nodeId);
      const ghost = (await runs(nodes[1], 'backup')).find((r) => r.id === 'ghost-run')!;
      expect(ghost).toMatchObject({ status: 'ABANDONED', nodeId: 'ghost', error: expect.stringMatching(/lease of node 'ghost'.*taken over by node 'node-/) });
      const [name] = readdirSync(target);
      expect(existsSync(join(target, name, 'manifest.json'))).toBe(true);
      // The ghost's lease is no longer current: its writes are fenced.
      expect(await locks.renew(lease, 3000)).toBeUndefined();
    } finally {
      await locks.close();
      rmSync(target, { recursive: true, force: true });
    }
  });
});
