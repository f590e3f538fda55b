import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeContext, type NodeContext } from '../../src/node/context.js';
import { masterKeyFingerprint } from '../../src/core/secrets.js';
import { DIALECTS, freshDatabaseConfig } from '../helpers/databases.js';

const SHARED = DIALECTS.filter((d) => d !== 'sqlite');

describe.each(SHARED)('master key across HA nodes on %s', (dialect) => {
  let url: string;
  let drop: () => Promise<void>;
  const homes: string[] = [];
  const contexts: NodeContext[] = [];

  beforeAll(async () => {
    const fresh = await freshDatabaseConfig(dialect);
    url = fresh.url;
    drop = fresh.drop;
  });
  afterAll(async () => {
    for (const c of contexts) await c.close();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
    await drop();
  });

  function home(id: string, key?: string): string {
    const h = mkdtempSync(join(tmpdir(), `arca-mk-${id}-`));
    homes.push(h);
    mkdirSync(join(h, 'etc', 'security'), { recursive: true });
    writeFileSync(join(h, 'etc', 'db.properties'), `type=${dialect}\nurl=${url}\n`);
    writeFileSync(join(h, 'etc', 'ha-node.properties'), `node.id=${id}\ncontext.url=http://127.0.0.1:1/artifactory\n`, { mode: 0o644 });
    if (key) writeFileSync(join(h, 'etc', 'security', 'master.key'), key + '\n', { mode: 0o600 });
    return h;
  }
  const start = async (h: string) => {
    const ctx = await createNodeContext({ home: h, env: { ARCA_ADMIN_PASSWORD: 'x-Passw0rd' }, logger: pino({ level: 'silent' }) });
    contexts.push(ctx);
    return ctx;
  };

  it('lets the first node create the key and records only its fingerprint', async () => {
    const h = home('art1');
    const ctx = await start(h);
    const key = readFileSync(join(h, 'etc', 'security', 'master.key'), 'utf8').trim();
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    const row = await ctx.database.db.selectFrom('system_config').select('config_value').where('config_key', '=', 'cluster.masterKey').executeTakeFirstOrThrow();
    expect(row.config_value).not.toContain(key);
    expect(JSON.parse(row.config_value)).toMatchObject({ kid: masterKeyFingerprint(Buffer.from(key, 'hex')), setByNodeId: 'art1' });
  });

  it('refuses a secondary without master.key, naming the file to copy', async () => {
    const h = home('art2');
    await expect(start(h)).rejects.toThrow(/master.key is missing and this cluster already has a master key \(recorded by node 'art1'\): copy etc\/security\/master.key from the primary/);
    expect(existsSync(join(h, 'etc', 'security', 'master.key'))).toBe(false);
  });

  it('refuses a node whose master key differs', async () => {
    await expect(start(home('art3', randomBytes(16).toString('hex')))).rejects.toThrow(/differs from the one this cluster's database was set up with/);
  });

  it('accepts a node with the copied key', async () => {
    const key = readFileSync(join(homes[0], 'etc', 'security', 'master.key'), 'utf8').trim();
    const ctx = await start(home('art4', key));
    expect(ctx.identity.nodeId).toBe('art4');
  });
});
