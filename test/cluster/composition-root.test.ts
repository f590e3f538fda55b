import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createNodeContext } from '../../src/node/context.js';
import { freshDatabaseConfig } from '../helpers/databases.js';
import { npm } from '../../src/formats/npm/index.js';
import { oci } from '../../src/formats/oci/index.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function home(dbProperties?: string): string {
  const h = mkdtempSync(join(tmpdir(), 'arca-root-'));
  cleanups.push(() => rmSync(h, { recursive: true, force: true }));
  mkdirSync(join(h, 'etc'), { recursive: true });
  if (dbProperties) writeFileSync(join(h, 'etc', 'db.properties'), dbProperties);
  return h;
}

const options = (h: string) => ({ home: h, env: { ARCA_ADMIN_PASSWORD: 'x-Passw0rd', ARCA_SHARED_NODE_ID: 'root-node' }, logger: pino({ level: 'silent' }) });

/** Connections PostgreSQL holds open to database `name` (read from the admin database). */
async function connectionsTo(name: string): Promise<number> {
  const c = new pg.Client({ connectionString: inject('pgUrl') });
  await c.connect();
  try {
    const r = await c.query<{ n: string }>('select count(*) as n from pg_stat_activity where datname = $1', [name]);
    return Number(r.rows[0].n);
  } finally {
    await c.end();
  }
}

describe('the composition root', () => {
  it('encrypts a remote repository password before it is stored, with no route ever registered', async () => {
    const ctx = await createNodeContext(options(home()));
    cleanups.push(() => ctx.close());
    await ctx.repos.create('remote-with-password', { rclass: 'remote', packageType: 'generic', url: 'https://repo.example.org/', username: 'bob', password: 's3cret-pw' });
    const row = await ctx.database.db.selectFrom('repositories').select('config').where('repo_key', '=', 'remote-with-password').executeTakeFirstOrThrow();
    expect(row.config).not.toContain('s3cret-pw');
    expect(JSON.parse(row.config).password).toMatch(/^ENC\(/);
    // The shared package services read it back decrypted for the upstream.
    const repo = (await ctx.repos.get('remote-with-password'))!;
    expect(ctx.packages.remote.settings(repo).password).toBe('s3cret-pw');
  });

  it('gives the formats the one set of package services the context holds', async () => {
    const ctx = await createNodeContext(options(home()));
    cleanups.push(() => ctx.close());
    expect(ctx.formatServices.of(npm).services).toBe(ctx.packages);
    expect(ctx.formatServices.of(oci).reg.store).toBeDefined();
  });

  it('closes what it opened when a late start-up step fails (no PostgreSQL connection is left)', async () => {
    const fresh = await freshDatabaseConfig('postgresql');
    cleanups.push(() => fresh.drop());
    const name = new URL(fresh.url).pathname.slice(1);
    const h = home(`type=postgresql\nurl=${fresh.url}\n`);
    // The last wiring step, the cluster tasks, refuses a malformed session cleanup cron.
    writeFileSync(join(h, 'etc', 'artifactory.system.properties'), 'artifactory.db.session.cleanup.cron=every now and then\n');
    await expect(createNodeContext(options(h))).rejects.toThrow('artifactory.db.session.cleanup.cron');
    let open = await connectionsTo(name);
    for (let i = 0; i < 40 && open > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      open = await connectionsTo(name);
    }
    expect(open).toBe(0);
  });

  it('closes once: a second close() neither fails nor closes again', async () => {
    const ctx = await createNodeContext(options(home()));
    await ctx.close();
    await expect(ctx.close()).resolves.toBeUndefined();
    await expect(ctx.database.db.selectFrom('repositories').select('repo_key').execute()).rejects.toThrow();
  });
});
