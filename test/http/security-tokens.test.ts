import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createNodeContext, type NodeContext } from '../../src/node/context.js';
import { DIALECTS } from '../helpers/databases.js';
import { ADMIN_PASSWORD, basic, startTestNode, type TestNode } from '../helpers/node-context.js';

const LEGACY = '/artifactory/api/security/token';
const ACCESS = '/access/api/v1/tokens';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const ALICE = basic('alice', 'Alice-Pw1');

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe.each(DIALECTS)('access tokens on %s', (dialect) => {
  let node: TestNode;

  const form = (fields: Record<string, string>, authorization?: string) =>
    node.request({ method: 'POST', url: LEGACY, headers: { ...FORM, ...(authorization === undefined ? {} : { authorization }) }, payload: new URLSearchParams(fields).toString() });
  const token = async (fields: Record<string, string>, authorization?: string) => {
    const res = await form(fields, authorization);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { access_token: string; refresh_token?: string; expires_in: number; scope: string; token_type: string };
  };
  const read = (headers: Record<string, string>, path = 'libs-local/a.txt') => node.request({ method: 'GET', url: `/artifactory/${path}`, headers });

  beforeAll(async () => {
    node = await startTestNode(dialect);
    for (const key of ['libs-local', 'priv-local']) {
      await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'local' } });
      await node.request({ method: 'PUT', url: `/artifactory/${key}/a.txt`, payload: key });
    }
    await node.request({ method: 'PUT', url: '/artifactory/api/security/groups/readers', payload: {} });
    await node.request({ method: 'PUT', url: '/artifactory/api/security/groups/writers', payload: {} });
    await node.request({ method: 'PUT', url: '/artifactory/api/security/users/alice', payload: { password: 'Alice-Pw1', groups: ['readers'] } });
    await node.request({ method: 'PUT', url: '/artifactory/api/security/users/bob', payload: { password: 'Bob-Pw1' } });
    const target = {
      name: 'libs',
      repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['libs-local'], actions: { users: { alice: ['read'] }, groups: { readers: ['read'] } } },
    };
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/v2/security/permissions/libs', payload: target })).statusCode).toBe(201);
  });
  afterAll(async () => {
    await node?.close();
  });

  it('issues a JWT whose claims the JFrog CLI can decode', async () => {
    const t = await token({ username: 'alice', scope: 'applied-permissions/user', expires_in: '600' });
    expect(t).toMatchObject({ expires_in: 600, scope: 'applied-permissions/user', token_type: 'Bearer' });
    expect(t.refresh_token).toBeUndefined();
    const c = claimsOf(t.access_token);
    expect(c.sub).toMatch(/^jfrt@[0-9a-z]{26}\/users\/alice$/);
    expect(c.sub.startsWith(`${c.iss}/users/`)).toBe(true);
    expect(c).toMatchObject({ scp: 'applied-permissions/user', aud: '*@*' });
    expect(c.exp - c.iat).toBe(600);
    expect(c.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(Buffer.from(t.access_token.split('.')[0], 'base64url').toString()).alg).toBe('HS256');
  });

  it('authenticates as Bearer and as the Basic password, with the user\'s permissions', async () => {
    const t = (await token({ username: 'alice' })).access_token;
    expect(claimsOf(t).exp - claimsOf(t).iat).toBe(3600);
    expect((await read(bearer(t))).statusCode).toBe(200);
    expect((await read(bearer(t), 'priv-local/a.txt')).statusCode).toBe(404);
    expect((await read({ authorization: basic('alice', t) })).statusCode).toBe(200);
    expect((await read({ authorization: basic('bob', t) })).statusCode).toBe(401);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/security/users', headers: bearer(t) })).statusCode).toBe(403);
  });

  it('refuses forged, tampered and unknown tokens', async () => {
    const t = (await token({ username: 'alice' })).access_token;
    const [h, p, s] = t.split('.');
    const admin = Buffer.from(JSON.stringify({ ...claimsOf(t), sub: claimsOf(t).sub.replace('alice', 'admin') })).toString('base64url');
    expect((await read(bearer(`${h}.${admin}.${s}`))).statusCode).toBe(401);
    // One character inside the signature changed (its last characters may carry unused bits).
    const tampered = `${s.slice(0, 5)}${s[5] === 'A' ? 'B' : 'A'}${s.slice(6)}`;
    expect(Buffer.from(tampered, 'base64url').equals(Buffer.from(s, 'base64url'))).toBe(false);
    expect((await read(bearer(`${h}.${p}.${tampered}`))).statusCode).toBe(401);
    expect((await read(bearer('garbage'))).statusCode).toBe(401);
  });

  it('lets a non-admin create tokens only for themselves, within their rights', async () => {
    const own = await token({ scope: 'applied-permissions/groups:readers' }, ALICE);
    expect(claimsOf(own.access_token).sub).toMatch(/\/users\/alice$/);
    for (const [fields, status] of [
      [{ username: 'bob' }, 403],
      [{ scope: 'applied-permissions/admin' }, 403],
      [{ expires_in: '0' }, 403],
      [{ scope: 'applied-permissions/groups:writers' }, 403],
      [{ scope: 'applied-permissions/groups:ghosts' }, 400],
      [{ expires_in: 'soon' }, 400],
      [{ grant_type: 'magic' }, 400],
    ] as const) {
      const res = await form(fields as Record<string, string>, ALICE);
      expect(res.statusCode, JSON.stringify(fields)).toBe(status);
    }
    expect((await form({ username: 'alice' }, '')).statusCode).toBe(401);
    // A group-scoped token cannot mint a wider user-scoped one.
    expect((await form({}, `Bearer ${own.access_token}`)).statusCode).toBe(403);
  });

  it('lets an admin create non-expiring, admin-scoped and group-scoped tokens for transient users', async () => {
    const forever = await token({ username: 'alice', expires_in: '0' });
    expect(claimsOf(forever.access_token).exp).toBeUndefined();
    expect((await read(bearer(forever.access_token))).statusCode).toBe(200);

    const adminScoped = (await token({ username: 'admin', scope: 'applied-permissions/admin' })).access_token;
    expect((await node.request({ method: 'GET', url: '/artifactory/api/security/users', headers: bearer(adminScoped) })).statusCode).toBe(200);
    // The scope is decided at use from the user's rights: an admin scope needs an administrator.
    const unbacked = await form({ username: 'bob', scope: 'applied-permissions/admin' });
    expect(unbacked.statusCode).toBe(400);
    expect(unbacked.json().errors[0].message).toContain("'scope'");

    const bot = (await token({ username: 'ci-bot', scope: 'applied-permissions/groups:readers' })).access_token;
    expect(claimsOf(bot).sub).toMatch(/\/users\/ci-bot$/);
    expect((await read(bearer(bot))).statusCode).toBe(200);
    expect((await read(bearer(bot), 'priv-local/a.txt')).statusCode).toBe(404);
    const userScoped = await form({ username: 'ci-bot' });
    expect(userScoped.statusCode).toBe(400);
    expect(userScoped.json().errors[0].message).toContain("'username'");
  });

  it('acts with only the groups of a group-scoped token, not the user\'s own grants', async () => {
    await node.request({ method: 'PUT', url: '/artifactory/api/security/users/bob', payload: { password: 'Bob-Pw1', groups: ['writers'] } });
    const t = (await token({ username: 'bob', scope: 'applied-permissions/groups:writers' })).access_token;
    expect((await read(bearer(t))).statusCode).toBe(404);
    // A groups scope of an existing user needs the user in those groups.
    expect((await form({ username: 'alice', scope: 'applied-permissions/groups:writers' })).statusCode).toBe(400);
    await node.request({ method: 'POST', url: '/artifactory/api/security/users/alice', payload: { groups: ['readers', 'writers'] } });
    const aliceWriters = (await token({ username: 'alice', scope: 'applied-permissions/groups:writers' })).access_token;
    // alice has a user grant on libs-local, but this token acts with 'writers' only.
    expect((await read(bearer(aliceWriters))).statusCode).toBe(404);
  });

  it('lists live tokens: every one for an admin, their own for a user', async () => {
    const a = claimsOf((await token({ username: 'alice' })).access_token).jti;
    const b = claimsOf((await token({ username: 'bob' })).access_token).jti;
    const all = (await node.request({ method: 'GET', url: LEGACY })).json().tokens as { token_id: string }[];
    expect(all.map((t) => t.token_id)).toEqual(expect.arrayContaining([a, b]));
    const mine = (await node.request({ method: 'GET', url: LEGACY, headers: { authorization: ALICE } })).json().tokens as Record<string, unknown>[];
    expect(mine.map((t) => t.token_id)).toContain(a);
    expect(mine.map((t) => t.token_id)).not.toContain(b);
    const entry = mine.find((t) => t.token_id === a)!;
    expect(entry).toMatchObject({ refreshable: false });
    expect(entry.subject).toMatch(/\/users\/alice$/);
    expect(entry.issuer).toMatch(/^jfrt@/);
    expect(Number(entry.expiry) - Number(entry.issued_at)).toBe(3600);
  });

  it('revokes by id or by token; a user cannot revoke someone else\'s token', async () => {
    const t1 = (await token({ username: 'alice' })).access_token;
    const t2 = (await token({ username: 'alice' })).access_token;
    const tb = (await token({ username: 'bob' })).access_token;
    expect((await read(bearer(t1))).statusCode).toBe(200);
    const r1 = await node.request({ method: 'POST', url: `${LEGACY}/revoke`, headers: FORM, payload: `token_id=${claimsOf(t1).jti}` });
    expect(r1.statusCode).toBe(200);
    expect((await read(bearer(t1))).statusCode).toBe(401);
    const r2 = await node.request({ method: 'POST', url: `${LEGACY}/revoke`, headers: { ...FORM, authorization: ALICE }, payload: `token=${t2}` });
    expect(r2.statusCode).toBe(200);
    expect((await read(bearer(t2))).statusCode).toBe(401);
    const other = await node.request({ method: 'POST', url: `${LEGACY}/revoke`, headers: { ...FORM, authorization: ALICE }, payload: `token_id=${claimsOf(tb).jti}` });
    expect(other.statusCode).toBe(404);
    expect((await node.request({ method: 'POST', url: `${LEGACY}/revoke`, headers: FORM, payload: 'token_id=nope' })).statusCode).toBe(404);
    expect((await node.request({ method: 'POST', url: `${LEGACY}/revoke`, headers: FORM, payload: '' })).statusCode).toBe(400);
  });

  it('exchanges a refresh token once, without other credentials, revoking the old access token', async () => {
    const first = await token({ username: 'alice', refreshable: 'true', expires_in: '900' });
    expect(first.refresh_token).toBeTruthy();
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token!, access_token: first.access_token }, '');
    expect(refreshed.expires_in).toBe(900);
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(first.refresh_token);
    expect((await read(bearer(refreshed.access_token))).statusCode).toBe(200);
    expect((await read(bearer(first.access_token))).statusCode).toBe(401);
    expect((await form({ grant_type: 'refresh_token', refresh_token: first.refresh_token! }, '')).statusCode).toBe(401);
    expect((await form({ grant_type: 'refresh_token', refresh_token: refreshed.refresh_token!, access_token: first.access_token }, '')).statusCode).toBe(401);
    expect((await form({ grant_type: 'refresh_token', refresh_token: 'made-up' }, '')).statusCode).toBe(401);
  });

  it('serves the 7.x Access API: create (JSON), list, delete', async () => {
    const res = await node.request({
      method: 'POST',
      url: ACCESS,
      headers: { authorization: ALICE },
      payload: { username: 'alice', scope: 'applied-permissions/user', expires_in: 300, refreshable: true, description: 'ci job' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ expires_in: 300, scope: 'applied-permissions/user', token_type: 'Bearer' });
    expect(body.token_id).toBe(claimsOf(body.access_token).jti);
    expect(body.refresh_token).toBeTruthy();
    const list = (await node.request({ method: 'GET', url: ACCESS, headers: { authorization: ALICE } })).json().tokens as Record<string, unknown>[];
    expect(list.find((t) => t.token_id === body.token_id)).toMatchObject({ description: 'ci job', refreshable: true });
    expect((await read(bearer(body.access_token))).statusCode).toBe(200);
    expect((await node.request({ method: 'DELETE', url: `${ACCESS}/${body.token_id}`, headers: { authorization: ALICE } })).statusCode).toBe(200);
    expect((await read(bearer(body.access_token))).statusCode).toBe(401);
    expect((await node.request({ method: 'DELETE', url: `${ACCESS}/${body.token_id}` })).statusCode).toBe(404);
    expect((await node.request({ method: 'POST', url: ACCESS, payload: { expires_in: -5 } })).statusCode).toBe(400);
  });

  it("revokes a user's tokens when the user is deleted", async () => {
    await node.request({ method: 'PUT', url: '/artifactory/api/security/users/tmp', payload: { password: 'Tmp-Pw1' } });
    const t = (await token({ username: 'tmp' })).access_token;
    expect((await node.request({ method: 'GET', url: '/artifactory/api/security/users/tmp', headers: bearer(t) })).statusCode).toBe(200);
    await node.request({ method: 'DELETE', url: '/artifactory/api/security/users/tmp' });
    await node.request({ method: 'PUT', url: '/artifactory/api/security/users/tmp', payload: { password: 'Tmp-Pw1' } });
    expect((await node.request({ method: 'GET', url: '/artifactory/api/security/users/tmp', headers: bearer(t) })).statusCode).toBe(401);
  });

  describe('with a second node on the same database', () => {
    let ctx2: NodeContext;
    let app2: FastifyInstance;

    beforeAll(async () => {
      ctx2 = await createNodeContext({
        home: node.home,
        env: { ARCA_ADMIN_PASSWORD: ADMIN_PASSWORD, ARCA_SHARED_NODE_ID: 'test-node-2' },
        init: false,
        logger: pino({ level: 'silent' }),
      });
      app2 = await buildApp(ctx2);
      await app2.ready();
    });
    afterAll(async () => {
      await app2?.close();
      await ctx2?.close();
    });

    it('accepts tokens issued by the other node and sees a revocation within about two seconds', async () => {
      const t = (await token({ username: 'alice' })).access_token;
      const on2 = () => app2.inject({ method: 'GET', url: '/artifactory/libs-local/a.txt', headers: bearer(t) });
      expect((await on2()).statusCode).toBe(200);
      const issued2 = await app2.inject({ method: 'POST', url: LEGACY, headers: { ...FORM, authorization: ALICE }, payload: 'expires_in=60' });
      expect(issued2.statusCode).toBe(200);
      expect((await read(bearer(issued2.json().access_token))).statusCode).toBe(200);

      const revoked = await node.request({ method: 'POST', url: `${LEGACY}/revoke`, headers: FORM, payload: `token_id=${claimsOf(t).jti}` });
      expect(revoked.statusCode).toBe(200);
      const started = Date.now();
      let status = 200;
      while (Date.now() - started < 4000) {
        status = (await on2()).statusCode;
        if (status === 401) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(401);
      expect(Date.now() - started).toBeLessThan(2500);
    });
  });
});
