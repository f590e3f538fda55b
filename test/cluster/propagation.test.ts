import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bumpVersion } from '../../src/cluster/config-versions.js';
import { DIALECTS } from '../helpers/databases.js';
import { startCluster, within, type ClusterNode, type TestCluster } from '../helpers/cluster-nodes.js';
import { basic } from '../helpers/node-context.js';

const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
const DEV = basic('dev', 'Dev-passw0rd!');

/** The bound: a change through any node takes effect on every node within 2 s. */
const BOUND_MS = 2000;

async function status(node: ClusterNode, url: string, authorization?: string): Promise<number> {
  return (await node.request({ url, headers: authorization === undefined ? {} : { authorization } })).statusCode;
}

/**
 * Two in-process nodes on one database. Each step first makes the second node cache the old
 * state, changes it through the first node, and measures until the second node serves the
 * new state.
 */
describe.each(DIALECTS)('configuration propagation between two nodes on %s', (dialect) => {
  let cluster: TestCluster;
  let a: ClusterNode;
  let b: ClusterNode;

  beforeAll(async () => {
    cluster = await startCluster(dialect, 2);
    [a, b] = cluster.nodes;
  });
  afterAll(() => cluster?.close());

  it('serves a repository created through one node from the other within 2 s', async () => {
    const listed = async () => ((await b.request({ url: '/artifactory/api/repositories' })).json() as { key: string }[]).map((r) => r.key);
    expect(await listed()).not.toContain('prop-local');
    expect((await a.request({ method: 'PUT', url: '/artifactory/api/repositories/prop-local', ...json({ rclass: 'local', packageType: 'generic' }) })).statusCode).toBe(200);
    const ms = await within(BOUND_MS, async () => (await listed()).includes('prop-local'));
    expect(ms).toBeLessThan(BOUND_MS);
  });

  it('applies a permission granted through one node on the other within 2 s, and its removal too', async () => {
    expect((await a.request({ method: 'PUT', url: '/artifactory/api/security/users/dev', ...json({ email: 'dev@example.com', password: 'Dev-passw0rd!' }) })).statusCode).toBe(201);
    expect((await a.request({ method: 'PUT', url: '/artifactory/api/repositories/perm-local', ...json({ rclass: 'local', packageType: 'generic' }) })).statusCode).toBe(200);
    expect((await a.request({ method: 'PUT', url: '/artifactory/perm-local/team/a.txt', payload: 'hello' })).statusCode).toBe(201);
    const url = '/artifactory/perm-local/team/a.txt';
    await within(BOUND_MS, async () => (await status(b, url, DEV)) === 404);
    const target = { name: 'prop-read', repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['perm-local'], actions: { users: { dev: ['read'] } } } };
    expect((await a.request({ method: 'POST', url: '/artifactory/api/v2/security/permissions/prop-read', ...json(target) })).statusCode).toBe(201);
    expect(await within(BOUND_MS, async () => (await status(b, url, DEV)) === 200)).toBeLessThan(BOUND_MS);
    expect((await a.request({ method: 'DELETE', url: '/artifactory/api/v2/security/permissions/prop-read' })).statusCode).toBe(200);
    expect(await within(BOUND_MS, async () => (await status(b, url, DEV)) === 404)).toBeLessThan(BOUND_MS);
  });

  it('applies a system setting changed through one node on the other within 2 s', async () => {
    expect(await status(b, '/artifactory/api/repositories', '')).toBe(401);
    const patch = await a.request({ method: 'PATCH', url: '/artifactory/api/system/configuration', headers: { 'content-type': 'application/yaml' }, payload: 'security:\n  anonAccessEnabled: true\n' });
    expect(patch.statusCode).toBe(200);
    expect(await within(BOUND_MS, async () => (await status(b, '/artifactory/api/repositories', '')) === 200)).toBeLessThan(BOUND_MS);
  });

  it('refuses a deleted user on the other node within 2 s', async () => {
    expect(await status(b, '/artifactory/api/repositories', DEV)).toBe(200);
    expect((await a.request({ method: 'DELETE', url: '/artifactory/api/security/users/dev' })).statusCode).toBe(200);
    expect(await within(BOUND_MS, async () => (await status(b, '/artifactory/api/repositories', DEV)) === 401)).toBeLessThan(BOUND_MS);
  });
});

/**
 * PostgreSQL's fast path alone: with the poll stretched to ten minutes, only NOTIFY can carry a
 * change across, so each step proves the notification, the reconnection after the listening
 * connection dies, and the catch-up poll after reconnecting.
 */
describe('PostgreSQL LISTEN/NOTIFY', () => {
  let cluster: TestCluster;
  let a: ClusterNode;
  let b: ClusterNode;

  const terminateListeners = async () => {
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    try {
      const r = await admin.query(
        "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'arca-config-listener' and datname = current_database()",
      );
      return r.rowCount ?? 0;
    } finally {
      await admin.end();
    }
  };
  const anonStatus = () => status(b, '/artifactory/api/repositories', '');
  const setAnon = async (on: boolean) => {
    const r = await a.request({ method: 'PATCH', url: '/artifactory/api/system/configuration', headers: { 'content-type': 'application/yaml' }, payload: `security:\n  anonAccessEnabled: ${on}\n` });
    expect(r.statusCode).toBe(200);
  };

  beforeAll(async () => {
    cluster = await startCluster('postgresql', 2, { env: { ARCA_PROPAGATION_POLLINTERVALMS: '600000' } });
    [a, b] = cluster.nodes;
    await within(5000, async () => a.ctx.versions.pushConnected && b.ctx.versions.pushConnected);
  });
  afterAll(() => cluster?.close());

  it('carries a change to the other node within a fraction of the bound without polling', async () => {
    expect(await anonStatus()).toBe(401);
    await setAnon(true);
    expect(await within(BOUND_MS, async () => (await anonStatus()) === 200)).toBeLessThan(500);
  });

  it('reconnects after its connection is killed and catches up on what it missed meanwhile', async () => {
    expect(await terminateListeners()).toBe(2);
    // Changed while the listeners are down: no notification reaches them.
    await setAnon(false);
    await within(10_000, async () => b.ctx.versions.pushConnected);
    expect(await within(BOUND_MS, async () => (await anonStatus()) === 401)).toBeLessThan(BOUND_MS);
    // And the new connection receives notifications again.
    await setAnon(true);
    expect(await within(BOUND_MS, async () => (await anonStatus()) === 200)).toBeLessThan(500);
  });

  it('sends no notification for a change that rolls back', async () => {
    const seen: number[] = [];
    b.ctx.versions.on('system', () => seen.push(Date.now()));
    await a.ctx.database.db
      .transaction()
      .execute(async (trx) => {
        await bumpVersion(trx, 'system');
        throw new Error('roll back');
      })
      .catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toEqual([]);
  });
});
