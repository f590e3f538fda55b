import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseConfig } from '../helpers/databases.js';
import { within } from '../helpers/cluster-nodes.js';
import { basic } from '../helpers/node-context.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { raw, type RawRequest } from '../helpers/raw-http.js';

const PROPS = 'artifactory.system.properties';
const props = (minutes: number) => `artifactory.map.provider.type=db\nartifactory.ui.session.timeout.minutes=${minutes}\n`;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const jsonBody = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const DEV = basic('dev', 'Dev-passw0rd!');

/**
 * Two real `arca start` processes of two workers each (so four processes, each with its own
 * LISTEN connection) on one PostgreSQL database and one shared data directory: node A is the
 * primary, node B a member.
 */
describe('two node processes on one PostgreSQL database', () => {
  let drop: () => Promise<void>;
  let a: NodeProcess;
  let b: NodeProcess;
  const dirs: string[] = [];
  const homes: Record<'a' | 'b', string> = { a: '', b: '' };
  let env: Record<'a' | 'b', Record<string, string>>;
  const on = (n: NodeProcess, req: RawRequest) => raw(n.url, req);

  const start = (which: 'a' | 'b') => startNodeProcess({ home: homes[which], workers: 2, env: env[which] });

  beforeAll(async () => {
    const fresh = await freshDatabaseConfig('postgresql');
    drop = fresh.drop;
    const shared = mkdtempSync(join(tmpdir(), 'arca-proc-shared-'));
    dirs.push(shared);
    for (const w of ['a', 'b'] as const) {
      homes[w] = mkdtempSync(join(tmpdir(), `arca-proc-${w}-`));
      dirs.push(homes[w]);
      mkdirSync(join(homes[w], 'etc'), { recursive: true });
      writeFileSync(join(homes[w], 'etc', 'db.properties'), `type=postgresql\nurl=${fresh.url}\npool.max.active=5\n`);
      writeFileSync(join(homes[w], 'etc', PROPS), props(w === 'a' ? 45 : 15));
    }
    const common = { ARCA_SHARED_NODE_HAENABLED: 'true', ARCA_ARTIFACTORY_NODE_HADATADIR: shared, ARCA_SHUTDOWNDRAINSECS: '0' };
    env = {
      a: { ...common, ARCA_SHARED_NODE_ID: 'proc-a', ARCA_SHARED_NODE_PRIMARY: 'true' },
      b: { ...common, ARCA_SHARED_NODE_ID: 'proc-b' },
    };
    a = await start('a');
    mkdirSync(join(homes.b, 'etc', 'security'), { mode: 0o700 });
    copyFileSync(join(homes.a, 'etc', 'security', 'master.key'), join(homes.b, 'etc', 'security', 'master.key'));
    b = await start('b');
  });
  afterAll(async () => {
    await a?.cleanup();
    await b?.cleanup();
    await drop?.();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('applies a change made through one process on every worker of the other within 2 s', async () => {
    expect((await on(a, { method: 'PUT', path: '/artifactory/api/repositories/proc-local', ...jsonBody({ rclass: 'local', packageType: 'generic' }) })).status).toBe(200);
    expect((await on(a, { method: 'PUT', path: '/artifactory/api/security/users/dev', ...jsonBody({ email: 'dev@example.com', password: 'Dev-passw0rd!' }) })).status).toBe(201);
    expect((await on(a, { method: 'PUT', path: '/artifactory/proc-local/a.txt', body: 'across processes' })).status).toBe(201);
    const read = () => on(b, { path: '/artifactory/proc-local/a.txt', headers: { authorization: DEV } });
    // Warm B's workers' permission caches with the refusal first.
    for (let i = 0; i < 6; i++) expect((await read()).status).toBe(404);
    const target = { name: 'proc-read', repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['proc-local'], actions: { users: { dev: ['read'] } } } };
    expect((await on(a, { method: 'POST', path: '/artifactory/api/v2/security/permissions/proc-read', ...jsonBody(target) })).status).toBe(201);
    // Fresh connections spread over B's two workers: every one of them must have the grant.
    const ms = await within(2000, async () => {
      const statuses = await Promise.all(Array.from({ length: 6 }, read));
      return statuses.every((r) => r.status === 200);
    });
    expect(ms).toBeLessThan(2000);
    expect((await read()).text()).toBe('across processes');
  });

  it("runs the primary's system properties on the member, and a UI login through one node works through the other", async () => {
    expect(readFileSync(join(homes.b, 'etc', PROPS), 'utf8')).toBe(props(45));
    const login = await on(a, { method: 'POST', path: '/artifactory/ui/api/v1/ui/auth/login', anonymous: true, ...jsonBody({ user: 'dev', password: 'Dev-passw0rd!' }) });
    expect(login.status).toBe(200);
    const cookie = String(login.headers['set-cookie']).split(';')[0];
    const current = await on(b, { path: '/artifactory/ui/api/v1/ui/auth/current', anonymous: true, headers: { cookie } });
    expect(current.json()).toMatchObject({ name: 'dev' });
    expect((await on(b, { method: 'POST', path: '/artifactory/ui/api/v1/ui/auth/logout', anonymous: true, headers: { cookie } })).status).toBe(200);
    expect((await on(a, { path: '/artifactory/ui/api/v1/ui/auth/current', anonymous: true, headers: { cookie } })).status).toBe(401);
  });

  it('takes a changed file at restart: the member is listed as outdated until it restarts too', async () => {
    writeFileSync(join(homes.a, 'etc', PROPS), props(50));
    expect(await a.stop()).toBe(0);
    a = await start('a');
    let status = (await on(b, { path: '/artifactory/api/system/configFiles' })).json();
    expect(status.files.find((f: { name: string }) => f.name === PROPS)).toMatchObject({ sha256: sha(props(50)), updatedBy: 'proc-a' });
    expect(status.outdated).toEqual(['proc-b']);
    expect(await b.stop()).toBe(0);
    b = await start('b');
    status = (await on(a, { path: '/artifactory/api/system/configFiles' })).json();
    expect(status.outdated).toEqual([]);
    expect(readFileSync(join(homes.b, 'etc', PROPS), 'utf8')).toBe(props(50));
    expect(b.output()).toContain("replaced by the copy of node 'proc-a'");
  });
});
