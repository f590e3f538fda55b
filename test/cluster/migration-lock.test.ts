import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createNodeContext, type NodeContext } from '../../src/node/context.js';
import { DIALECTS, freshDatabaseConfig } from '../helpers/databases.js';

describe.each(DIALECTS.filter((d) => d !== 'sqlite'))('migrations under the cluster lock on %s', (dialect) => {
  const homes: string[] = [];
  const contexts: NodeContext[] = [];
  let drop: (() => Promise<void>) | undefined;
  afterAll(async () => {
    for (const c of contexts) await c.close();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
    await drop?.();
  });

  it('lets three nodes start together on a new database: one migrates, none fails', async () => {
    const fresh = await freshDatabaseConfig(dialect);
    drop = fresh.drop;
    const key = 'cd'.repeat(16);
    const start = (id: string) => {
      const h = mkdtempSync(join(tmpdir(), `arca-mig-${id}-`));
      homes.push(h);
      mkdirSync(join(h, 'etc', 'security'), { recursive: true });
      writeFileSync(join(h, 'etc', 'db.properties'), `type=${dialect}\nurl=${fresh.url}\n`);
      writeFileSync(join(h, 'etc', 'ha-node.properties'), `node.id=${id}\ncontext.url=http://127.0.0.1:1/artifactory\n`, { mode: 0o644 });
      writeFileSync(join(h, 'etc', 'security', 'master.key'), key + '\n', { mode: 0o600 });
      return createNodeContext({ home: h, env: { ARCA_ADMIN_PASSWORD: 'x-Passw0rd' }, logger: pino({ level: 'silent' }) });
    };
    const started = await Promise.all(['m1', 'm2', 'm3'].map(start));
    contexts.push(...started);
    const db = started[0].database.db;
    const applied = await db.selectFrom('arca_migrations' as never).select('name' as never).execute();
    expect(applied.length).toBeGreaterThanOrEqual(6);
    const lock = await started[0].locks.inspect('arca:migrations');
    expect(lock?.token).toBe(3);
    expect(lock?.owner ?? null).toBeNull();
  });
});
