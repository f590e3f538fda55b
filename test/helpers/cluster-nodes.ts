import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import type { Clock } from '../../src/core/clock.js';
import type { DialectName } from '../../src/db/database.js';
import { buildApp } from '../../src/http/app.js';
import { createNodeContext, type NodeContext } from '../../src/node/context.js';
import { freshDatabaseConfig } from './databases.js';
import { ADMIN_AUTH, ADMIN_PASSWORD } from './node-context.js';

export interface ClusterNode {
  id: string;
  home: string;
  ctx: NodeContext;
  app: FastifyInstance;
  /** inject() with admin credentials unless `headers.authorization` is given (use '' for none). */
  request(opts: InjectOptions): Promise<LightMyRequestResponse>;
}

export interface ClusterOptions {
  /** Environment of every node (the node id is added per node). */
  env?: Record<string, string>;
  /** Extra environment of node i (0-based), e.g. to make it the primary. */
  nodeEnv?: (i: number) => Record<string, string>;
  /** Writes files into node i's home before its first start (its `etc/` exists by then). */
  prepare?: (i: number, home: string) => void;
  clock?: Clock;
  /** A PostgreSQL database of the test's own (say, one it can stop) instead of a fresh one. */
  pgUrl?: string;
}

export interface TestCluster {
  nodes: ClusterNode[];
  dialect: DialectName;
  /** URL of the shared database (PostgreSQL, MySQL) or the SQLite file. */
  url: string;
  /** Stops node i and starts it again on the same home and database. */
  restart(i: number): Promise<ClusterNode>;
  close(): Promise<void>;
}

/**
 * `count` in-process nodes (each its own home, context and app) sharing one fresh database of
 * `dialect` and one binary-store directory, started one after another as an operator would:
 * the first node's master key is copied to the others. Node ids are node-1, node-2, …
 */
export async function startCluster(dialect: DialectName, count: number, options: ClusterOptions = {}): Promise<TestCluster> {
  const fresh = options.pgUrl ? { config: undefined, url: options.pgUrl, drop: async () => undefined } : await freshDatabaseConfig(dialect);
  const homes: string[] = [];
  const nodes: ClusterNode[] = [];
  // One binary store for all nodes: the seed's shared (NFS) `artifactory.ha.data.dir`.
  const shared = mkdtempSync(join(tmpdir(), 'arca-cluster-data-'));
  const dbProperties = dialect === 'sqlite' ? `type=sqlite\nurl=jdbc:sqlite:${fresh.config?.sqliteFile}\n` : `type=${dialect}\nurl=${fresh.url}\npool.max.active=5\n`;

  const boot = async (i: number): Promise<ClusterNode> => {
    const home = homes[i];
    const id = `node-${i + 1}`;
    const ctx = await createNodeContext({
      home,
      env: { ARCA_ADMIN_PASSWORD: ADMIN_PASSWORD, ARCA_SHARED_NODE_ID: id, ARCA_ARTIFACTORY_NODE_HADATADIR: shared, ...options.env, ...options.nodeEnv?.(i) },
      logger: pino({ level: 'silent' }),
      clock: options.clock,
    });
    const app = await buildApp(ctx);
    await app.ready();
    ctx.state.ready = true;
    await ctx.registry.setState('RUNNING');
    return {
      id,
      home,
      ctx,
      app,
      request(opts) {
        const headers = { ...(opts.headers ?? {}) } as Record<string, string>;
        if (headers.authorization === undefined) headers.authorization = ADMIN_AUTH;
        if (headers.authorization === '') delete headers.authorization;
        return app.inject({ ...opts, headers });
      },
    };
  };
  const stop = async (n: ClusterNode) => {
    await n.app.close();
    await n.ctx.registry.setState('STOPPED').catch(() => undefined);
    await n.ctx.close();
  };

  try {
    for (let i = 0; i < count; i++) {
      const home = mkdtempSync(join(tmpdir(), `arca-cluster-${i + 1}-`));
      homes.push(home);
      mkdirSync(join(home, 'etc'), { recursive: true });
      writeFileSync(join(home, 'etc', 'db.properties'), dbProperties);
      const firstKey = join(homes[0], 'etc', 'security', 'master.key');
      if (i > 0 && existsSync(firstKey)) {
        mkdirSync(join(home, 'etc', 'security'), { mode: 0o700 });
        copyFileSync(firstKey, join(home, 'etc', 'security', 'master.key'));
      }
      options.prepare?.(i, home);
      nodes.push(await boot(i));
    }
  } catch (err) {
    for (const n of nodes) await stop(n).catch(() => undefined);
    await fresh.drop().catch(() => undefined);
    for (const d of [...homes, shared]) rmSync(d, { recursive: true, force: true });
    throw err;
  }

  return {
    nodes,
    dialect,
    url: fresh.url,
    async restart(i) {
      await stop(nodes[i]);
      nodes[i] = await boot(i);
      return nodes[i];
    },
    async close() {
      for (const n of nodes) await stop(n).catch(() => undefined);
      await fresh.drop();
      for (const d of [...homes, shared]) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** Polls `check` every 20 ms until it holds; returns the milliseconds it took (throws after `limitMs`). */
export async function within(limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > limitMs) throw new Error(`condition not met within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
