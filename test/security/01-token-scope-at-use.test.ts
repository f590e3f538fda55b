import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { within } from '../helpers/cluster-nodes.js';
import { basic } from '../helpers/credentials.js';
import type { NodeProcess } from '../helpers/node-process.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';
import { raw, type RawRequest, type RawResponse } from '../helpers/raw-http.js';

/**
 * Issue 12, item 1: a token's privileges are decided each time it is used, from the user's
 * current state (admin flag, group membership, admin-privileged groups, existence, the
 * creator of a transient subject's token), on every node within the 1 s propagation bound.
 * Two real `arca start` nodes (two workers each) on one PostgreSQL database: the change is
 * made through node A, the token is used on node B.
 */
const PROPAGATION_MS = 1000;
const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('token scopes are evaluated at use, across two nodes on PostgreSQL', () => {
  let cluster: ProcessCluster;
  let a: NodeProcess;
  let b: NodeProcess;
  const on = (n: NodeProcess, req: RawRequest) => raw(n.url, req);
  /** Six fresh connections at once, so both workers of the node answer. */
  const burst = (n: NodeProcess, req: RawRequest) => Promise.all(Array.from({ length: 6 }, () => on(n, req)));
  const ok = async (res: RawResponse | Promise<RawResponse>, status: number) => {
    const r = await res;
    expect(r.status, r.text()).toBe(status);
    return r;
  };
  const putUser = (name: string, body: Record<string, unknown>) => ok(on(a, { method: 'PUT', path: `/artifactory/api/security/users/${name}`, ...json({ password: 'Passw0rd-1', ...body }) }), 201);
  const createToken = async (auth: string, body: Record<string, unknown>) =>
    (await ok(on(a, { method: 'POST', path: '/access/api/v1/tokens', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(body) }), 200)).json() as {
      access_token: string;
      refresh_token?: string;
    };
  const refresh = (n: NodeProcess, refreshToken: string) =>
    on(n, { method: 'POST', path: '/artifactory/api/security/token', anonymous: true, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=refresh_token&refresh_token=${refreshToken}` });
  /** Waits until every answer of a burst on node B is refused; returns how long that took. */
  const refusedOnB = (req: RawRequest) => within(PROPAGATION_MS, async () => (await burst(b, req)).every((r) => r.status === 401 || r.status === 403));

  beforeAll(async () => {
    cluster = await startProcessCluster(2, { workers: 2 });
    [a, b] = cluster.nodes;
    await ok(on(a, { method: 'PUT', path: '/artifactory/api/repositories/scoped-local', ...json({ rclass: 'local', packageType: 'generic' }) }), 200);
    await ok(on(a, { method: 'PUT', path: '/artifactory/scoped-local/secret.txt', body: 'group data' }), 201);
    await ok(on(a, { method: 'PUT', path: '/artifactory/api/security/groups/deployers', ...json({}) }), 201);
    await ok(on(a, { method: 'PUT', path: '/artifactory/api/security/groups/ops-admins', ...json({ adminPrivileges: true }) }), 201);
    const target = { name: 'deployers-read', repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['scoped-local'], actions: { groups: { deployers: ['read'] } } } };
    await ok(on(a, { method: 'PUT', path: '/artifactory/api/v2/security/permissions/deployers-read', ...json(target) }), 201);
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('takes admin from an admin-scoped token within 1 s on the other node once its user is demoted, so it can no longer create an admin user', async () => {
    await putUser('boss', { admin: true });
    const t = await createToken(basic('boss', 'Passw0rd-1'), { scope: 'applied-permissions/admin', refreshable: true });
    const listUsers = { path: '/artifactory/api/security/users', headers: bearer(t.access_token) };
    for (const r of await burst(b, listUsers)) expect(r.status).toBe(200);

    await ok(on(a, { method: 'POST', path: '/artifactory/api/security/users/boss', ...json({ admin: false }) }), 200);
    const ms = await refusedOnB(listUsers);
    expect(ms).toBeLessThan(PROPAGATION_MS);

    for (const n of [b, a]) {
      const evil = await on(n, { method: 'PUT', path: '/artifactory/api/security/users/evil', headers: { ...bearer(t.access_token), 'content-type': 'application/json' }, body: JSON.stringify({ password: 'Evil-Pw1', admin: true }) });
      expect([401, 403]).toContain(evil.status);
    }
    await ok(on(a, { path: '/artifactory/api/security/users/evil' }), 404);
    // A refresh re-checks the scope: no new admin token is minted.
    const refused = await refresh(b, t.refresh_token!);
    expect(refused.status).toBe(401);
    expect(refused.text()).toContain('no longer');
  });

  it('takes a group from a groups-scoped token within 1 s on the other node once the user leaves it, and refuses to refresh it', async () => {
    await putUser('dana', { groups: ['deployers'] });
    const t = await createToken(basic('dana', 'Passw0rd-1'), { scope: 'applied-permissions/groups:deployers', refreshable: true });
    const read = { path: '/artifactory/scoped-local/secret.txt', headers: bearer(t.access_token) };
    for (const r of await burst(b, read)) expect(r.status).toBe(200);

    await ok(on(a, { method: 'POST', path: '/artifactory/api/security/users/dana', ...json({ groups: [] }) }), 200);
    expect(await refusedOnB(read)).toBeLessThan(PROPAGATION_MS);
    const refused = await refresh(b, t.refresh_token!);
    expect(refused.status).toBe(401);
    expect(refused.text()).toContain('no longer');
    // Rejoining the group backs the token again: the scope is evaluated, never frozen.
    await ok(on(a, { method: 'POST', path: '/artifactory/api/security/users/dana', ...json({ groups: ['deployers'] }) }), 200);
    await within(PROPAGATION_MS, async () => (await burst(b, read)).every((r) => r.status === 200));
  });

  it('takes admin from a user whose admin-privileged group loses its privileges, within 1 s on the other node', async () => {
    await putUser('olga', { groups: ['ops-admins'] });
    const t = await createToken(basic('olga', 'Passw0rd-1'), {});
    const listUsers = { path: '/artifactory/api/security/users', headers: bearer(t.access_token) };
    for (const r of await burst(b, listUsers)) expect(r.status).toBe(200);
    await ok(on(a, { method: 'POST', path: '/artifactory/api/security/groups/ops-admins', ...json({ adminPrivileges: false }) }), 200);
    expect(await refusedOnB(listUsers)).toBeLessThan(PROPAGATION_MS);
  });

  it("kills a transient subject's group token within 1 s on the other node once the admin who created it is demoted", async () => {
    await putUser('admin2', { admin: true });
    const t = await createToken(basic('admin2', 'Passw0rd-1'), { username: 'ci-bot', scope: 'applied-permissions/groups:deployers' });
    const read = { path: '/artifactory/scoped-local/secret.txt', headers: bearer(t.access_token) };
    for (const r of await burst(b, read)) expect(r.status).toBe(200);
    await ok(on(a, { method: 'POST', path: '/artifactory/api/security/users/admin2', ...json({ admin: false }) }), 200);
    expect(await refusedOnB(read)).toBeLessThan(PROPAGATION_MS);
  });

  it("kills a deleted user's tokens within 1 s on the other node", async () => {
    await putUser('gone', {});
    const t = await createToken(basic('gone', 'Passw0rd-1'), {});
    const self = { path: '/artifactory/api/security/users/gone', headers: bearer(t.access_token) };
    for (const r of await burst(b, self)) expect(r.status).toBe(200);
    await ok(on(a, { method: 'DELETE', path: '/artifactory/api/security/users/gone' }), 200);
    expect(await refusedOnB(self)).toBeLessThan(PROPAGATION_MS);
  });
});
