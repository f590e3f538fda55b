import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import { cleanupExpiredDbSessions } from '../../src/security/session-store-db.js';
import { DIALECTS } from '../helpers/databases.js';
import { startCluster, type ClusterNode, type TestCluster } from '../helpers/cluster-nodes.js';
import { ADMIN_PASSWORD, basic } from '../helpers/node-context.js';
import { CURRENT_URL, LOGOUT_URL, sessionToken, uiLogin, withCookie } from '../helpers/ui-session.js';

const MINUTE = 60_000;
const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });

/**
 * UI sessions in the default `db` mode, through two in-process nodes on one database with one
 * fake clock: a login through either node is valid on both, logout through either ends it on
 * both at once, and the idle timeout (30 minutes) slides with each request.
 */
describe.each(DIALECTS)('UI login sessions in the database on %s', (dialect) => {
  let cluster: TestCluster;
  let a: ClusterNode;
  let b: ClusterNode;
  const clock = new FakeClock(Date.UTC(2026, 5, 1, 12));

  beforeAll(async () => {
    cluster = await startCluster(dialect, 2, { clock });
    [a, b] = cluster.nodes;
    expect((await a.request({ method: 'PUT', url: '/artifactory/api/security/users/dev', ...json({ email: 'dev@example.com', password: 'Dev-passw0rd!' }) })).statusCode).toBe(201);
  });
  afterAll(() => cluster?.close());

  it('logs in with {user, password}, sets an HttpOnly SameSite cookie and answers the user model', async () => {
    const r = await uiLogin(a, 'admin', ADMIN_PASSWORD);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ name: 'admin', admin: true, anonymous: false, profileUpdatable: true });
    const cookie = String(r.headers['set-cookie']);
    expect(cookie).toMatch(/^ARCA_SESSION=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(r.headers['cache-control']).toBe('no-store');
    const https = await uiLogin(a, 'admin', ADMIN_PASSWORD, { 'x-forwarded-proto': 'https' });
    expect(String(https.headers['set-cookie'])).toMatch(/; Secure$/);
    // The 7.x path (UI at /ui) is the same endpoint.
    const seven = await a.request({ method: 'POST', url: '/ui/api/v1/ui/auth/login', ...json({ user: 'dev', password: 'Dev-passw0rd!' }), headers: { authorization: '', 'content-type': 'application/json' } });
    expect(seven.statusCode).toBe(200);
    expect(seven.json()).toMatchObject({ name: 'dev', admin: false });
  });

  it('refuses a wrong password (401, no cookie) and a body without user or password (400)', async () => {
    const r = await uiLogin(a, 'dev', 'wrong');
    expect(r.statusCode).toBe(401);
    expect(r.headers['set-cookie']).toBeUndefined();
    expect((await a.request({ method: 'POST', url: '/artifactory/ui/api/v1/ui/auth/login', headers: { authorization: '', 'content-type': 'application/json' }, payload: '{"user":"dev"}' })).statusCode).toBe(400);
  });

  it('authenticates every API through the other node with the cookie alone', async () => {
    const token = sessionToken(await uiLogin(a, 'admin', ADMIN_PASSWORD));
    const current = await withCookie(b, token, CURRENT_URL);
    expect(current.statusCode).toBe(200);
    expect(current.json()).toMatchObject({ name: 'admin', admin: true });
    expect((await withCookie(b, token, '/artifactory/api/security/users')).statusCode).toBe(200);
    expect((await withCookie(b, 'A'.repeat(43), '/artifactory/api/security/users')).statusCode).toBe(401);
    expect((await withCookie(b, 'not-a-token', CURRENT_URL)).statusCode).toBe(401);
  });

  it('ends a session everywhere at once on logout through either node', async () => {
    const token = sessionToken(await uiLogin(a, 'dev', 'Dev-passw0rd!'));
    expect((await withCookie(a, token, CURRENT_URL)).json()).toMatchObject({ name: 'dev' });
    const out = await withCookie(b, token, LOGOUT_URL, { method: 'POST' });
    expect(out.statusCode).toBe(200);
    expect(String(out.headers['set-cookie'])).toContain('ARCA_SESSION=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
    expect((await withCookie(a, token, CURRENT_URL)).statusCode).toBe(401);
    expect((await withCookie(b, token, CURRENT_URL)).statusCode).toBe(401);
  });

  it('expires a session after 30 idle minutes, each request starting the timeout again', async () => {
    const token = sessionToken(await uiLogin(a, 'dev', 'Dev-passw0rd!'));
    clock.advance(20 * MINUTE);
    expect((await withCookie(b, token, CURRENT_URL)).statusCode).toBe(200);
    clock.advance(20 * MINUTE);
    // 40 minutes after login, 20 after the last request.
    expect((await withCookie(a, token, CURRENT_URL)).statusCode).toBe(200);
    clock.advance(30 * MINUTE + 1);
    expect((await withCookie(b, token, CURRENT_URL)).statusCode).toBe(401);
    expect((await withCookie(a, token, CURRENT_URL)).statusCode).toBe(401);
  });

  it('leaves the cleanup only expired sessions to remove', async () => {
    const db = a.ctx.database.db;
    await db.deleteFrom('ui_sessions').execute();
    const stale = sessionToken(await uiLogin(a, 'dev', 'Dev-passw0rd!'));
    clock.advance(20 * MINUTE);
    const fresh = sessionToken(await uiLogin(b, 'dev', 'Dev-passw0rd!'));
    clock.advance(15 * MINUTE);
    expect(await cleanupExpiredDbSessions(a.ctx.database, clock.now())).toBe(1);
    const left = await db.selectFrom('ui_sessions').select(['node_id', 'user_name']).execute();
    expect(left).toEqual([{ node_id: 'node-2', user_name: 'dev' }]);
    expect((await withCookie(a, fresh, CURRENT_URL)).statusCode).toBe(200);
    expect((await withCookie(a, stale, CURRENT_URL)).statusCode).toBe(401);
    // Through the service, as the scheduled task calls it.
    clock.advance(31 * MINUTE);
    expect(await a.ctx.security.sessions!.cleanup()).toBe(1);
  });

  it('registers the cleanup as the cluster task session-cleanup, runnable on demand', async () => {
    const listed = (await a.request({ url: '/artifactory/api/system/tasks' })).json() as { tasks: { name: string }[] };
    expect(listed.tasks.map((t) => t.name)).toContain('session-cleanup');
    await a.ctx.database.db.deleteFrom('ui_sessions').execute();
    sessionToken(await uiLogin(a, 'dev', 'Dev-passw0rd!'));
    clock.advance(31 * MINUTE);
    const run = await b.request({ method: 'POST', url: '/artifactory/api/system/tasks/session-cleanup/run?wait=30' });
    expect(run.json()).toMatchObject({ task: 'session-cleanup', status: 'SUCCEEDED', counts: { removed: 1 } });
  });

  it('lets other credentials win over the cookie', async () => {
    const token = sessionToken(await uiLogin(a, 'admin', ADMIN_PASSWORD));
    const r = await withCookie(b, token, CURRENT_URL, { headers: { authorization: basic('dev', 'Dev-passw0rd!') } });
    expect(r.json()).toMatchObject({ name: 'dev', admin: false });
  });

  it('refuses a state-changing cookie request from another site, and accepts one from its own', async () => {
    const token = sessionToken(await uiLogin(a, 'admin', ADMIN_PASSWORD));
    const create = (origin: string, name: string) =>
      withCookie(b, token, `/artifactory/api/repositories/${name}`, {
        method: 'PUT',
        headers: { origin, host: 'arca.example.com', 'content-type': 'application/json' },
        payload: JSON.stringify({ rclass: 'local', packageType: 'generic' }),
      });
    expect((await create('https://evil.example.net', 'csrf-local')).statusCode).toBe(403);
    expect((await create('https://arca.example.com', 'ui-local')).statusCode).toBe(200);
    const read = await withCookie(b, token, '/artifactory/api/repositories', { headers: { origin: 'https://evil.example.net' } });
    expect(read.statusCode).toBe(200);
  });

  it("ends a deleted user's sessions, and refuses a login for a user without UI access", async () => {
    expect((await a.request({ method: 'PUT', url: '/artifactory/api/security/users/temp', ...json({ email: 't@example.com', password: 'Temp-passw0rd!' }) })).statusCode).toBe(201);
    const token = sessionToken(await uiLogin(a, 'temp', 'Temp-passw0rd!'));
    expect((await a.request({ method: 'DELETE', url: '/artifactory/api/security/users/temp' })).statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, 1200));
    expect((await withCookie(b, token, CURRENT_URL)).statusCode).toBe(401);

    const user = { email: 'ci@example.com', password: 'Ci-passw0rd!', disableUIAccess: true };
    expect((await a.request({ method: 'PUT', url: '/artifactory/api/security/users/ci', ...json(user) })).statusCode).toBe(201);
    expect((await uiLogin(b, 'ci', 'Ci-passw0rd!')).statusCode).toBe(403);
  });
});
