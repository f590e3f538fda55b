import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import type { DialectName } from '../../db/database.js';
import { freshDatabaseConfig } from '../../db/testing/databases.js';
import { buildApp } from '../../http/app.js';
import { createNodeContext, type NodeContext } from '../context.js';
import { ADMIN_AUTH, ADMIN_PASSWORD } from './credentials.js';

export { ADMIN_AUTH, ADMIN_PASSWORD, basic } from './credentials.js';

export interface TestNode {
  ctx: NodeContext;
  app: FastifyInstance;
  home: string;
  /** inject() with admin credentials unless `headers.authorization` is given (use '' for none). */
  request(opts: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/**
 * A real node context and app in this process, on a fresh database of `dialect` and a temp
 * home, for fast tests through `app.inject()`.
 */
export async function startTestNode(dialect: DialectName = 'sqlite', env: Record<string, string> = {}): Promise<TestNode> {
  const home = mkdtempSync(join(tmpdir(), 'arca-test-home-'));
  const fresh = await freshDatabaseConfig(dialect);
  mkdirSync(join(home, 'etc'), { recursive: true });
  if (dialect !== 'sqlite') writeFileSync(join(home, 'etc', 'db.properties'), `type=${dialect}\nurl=${fresh.url}\n`);
  const ctx = await createNodeContext({
    home,
    env: { ARCA_ADMIN_PASSWORD: ADMIN_PASSWORD, ARCA_SHARED_NODE_ID: 'test-node', ...env },
    logger: pino({ level: process.env.ARCA_TEST_LOG_LEVEL ?? 'silent' }),
  });
  const app = await buildApp(ctx);
  await app.ready();
  ctx.state.ready = true;
  await ctx.registry.setState('RUNNING');
  return {
    ctx,
    app,
    home,
    request(opts) {
      const headers = { ...(opts.headers ?? {}) } as Record<string, string>;
      if (headers.authorization === undefined) headers.authorization = ADMIN_AUTH;
      if (headers.authorization === '') delete headers.authorization;
      return app.inject({ ...opts, headers });
    },
    async close() {
      await app.close();
      await ctx.close();
      await fresh.drop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
