import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabaseConfig } from './databases.js';
import { startNodeProcess, type NodeProcess } from './node-process.js';

export interface ProcessCluster {
  nodes: NodeProcess[];
  /** URL of the shared database (PostgreSQL unless asked otherwise). */
  dbUrl: string;
  close(): Promise<void>;
}

/**
 * `count` real `arca start` processes (HA nodes proc-1, proc-2, …, each with `workers`
 * workers) on one fresh PostgreSQL database and one shared data directory, started one after
 * another as an operator would: the first node's master key is copied to the others.
 * `dialect: 'mysql'` puts them on a fresh MySQL/MariaDB database instead.
 */
export async function startProcessCluster(
  count: number,
  opts: { workers?: number; env?: Record<string, string>; dialect?: 'postgresql' | 'mysql' } = {},
): Promise<ProcessCluster> {
  const dialect = opts.dialect ?? 'postgresql';
  const fresh = await freshDatabaseConfig(dialect);
  const shared = mkdtempSync(join(tmpdir(), 'arca-proc-shared-'));
  const dirs = [shared];
  const nodes: NodeProcess[] = [];
  const close = async () => {
    for (const n of nodes) await n.cleanup().catch(() => undefined);
    await fresh.drop().catch(() => undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i++) {
      const home = mkdtempSync(join(tmpdir(), `arca-proc-${i + 1}-`));
      dirs.push(home);
      mkdirSync(join(home, 'etc'), { recursive: true });
      writeFileSync(join(home, 'etc', 'db.properties'), `type=${dialect}\nurl=${fresh.url}\npool.max.active=5\n`);
      if (i > 0) {
        mkdirSync(join(home, 'etc', 'security'), { mode: 0o700 });
        copyFileSync(join(nodes[0].home, 'etc', 'security', 'master.key'), join(home, 'etc', 'security', 'master.key'));
      }
      const env = {
        ARCA_SHARED_NODE_HAENABLED: 'true',
        ARCA_ARTIFACTORY_NODE_HADATADIR: shared,
        ARCA_SHUTDOWNDRAINSECS: '0',
        ARCA_SHARED_NODE_ID: `proc-${i + 1}`,
        ...(i === 0 ? { ARCA_SHARED_NODE_PRIMARY: 'true' } : {}),
        ...opts.env,
      };
      nodes.push(await startNodeProcess({ home, workers: opts.workers ?? 1, env }));
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { nodes, dbUrl: fresh.url, close };
}
