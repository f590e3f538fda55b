import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic } from '../helpers/credentials.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { raw, type RawResponse } from '../helpers/raw-http.js';

/**
 * Issue 12, item 2: token lifetimes have a policy. Non-admins get at most
 * `arca.token.nonAdminMaxExpiresInSecs` (one year by default), never a token that does not
 * expire; a longer request is a 400 naming the field and the maximum; a refresh never yields
 * more than the policy allows the token's user as they are now. Every path that creates a
 * token: the legacy and Access REST APIs, the UI's token page (session cookie), npm login.
 */
const MAX = 86_400;
const YEAR = 365 * 24 * 3600;
const DEV = basic('dev', 'Dev-Passw0rd');
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')) as { exp?: number; iat: number };
const lifetimeOf = (jwt: string) => {
  const c = claimsOf(jwt);
  return c.exp === undefined ? 0 : c.exp - c.iat;
};

describe('token lifetime policy', () => {
  let node: NodeProcess;
  let home: string;
  const legacy = (fields: Record<string, string>, authorization?: string) =>
    raw(node.url, { method: 'POST', path: '/artifactory/api/security/token', anonymous: authorization === undefined, headers: { ...FORM, ...(authorization ? { authorization } : {}) }, body: new URLSearchParams(fields).toString() });
  const access = (body: Record<string, unknown>, headers: Record<string, string>) =>
    raw(node.url, { method: 'POST', path: '/access/api/v1/tokens', anonymous: true, headers: { ...JSON_TYPE, ...headers }, body: JSON.stringify(body) });
  const asAdmin = (fields: Record<string, string>) => raw(node.url, { method: 'POST', path: '/artifactory/api/security/token', headers: FORM, body: new URLSearchParams(fields).toString() });
  const expectTooLong = (res: RawResponse) => {
    expect(res.status, res.text()).toBe(400);
    const message = res.json().errors[0].message as string;
    expect(message).toContain("'expires_in'");
    expect(message).toContain(String(MAX));
  };
  const issued = (res: RawResponse) => {
    expect(res.status, res.text()).toBe(200);
    return res.json() as { access_token: string; refresh_token?: string; expires_in: number };
  };

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'arca-lifetime-'));
    mkdirSync(join(home, 'etc'), { recursive: true });
    writeFileSync(join(home, 'etc', 'system.yaml'), `configVersion: 1\narca:\n  token:\n    nonAdminMaxExpiresInSecs: ${MAX}\n`);
    node = await startNodeProcess({ home, workers: 1 });
    const put = (path: string, body: unknown) => raw(node.url, { method: 'PUT', path, headers: JSON_TYPE, body: JSON.stringify(body) });
    expect((await put('/artifactory/api/security/users/dev', { password: 'Dev-Passw0rd' })).status).toBe(201);
    expect((await put('/artifactory/api/security/users/ex-admin', { password: 'Ex-Passw0rd', admin: true })).status).toBe(201);
    expect((await put('/artifactory/api/repositories/npm-local', { rclass: 'local', packageType: 'npm' })).status).toBe(200);
    // npm login looks the repository up as the user who logged in: dev must be able to read it.
    const target = { name: 'npm-read', repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['npm-local'], actions: { users: { dev: ['read'] } } } };
    expect((await put('/artifactory/api/v2/security/permissions/npm-read', target)).status).toBe(201);
  });
  afterAll(async () => {
    await node?.cleanup();
    rmSync(home, { recursive: true, force: true });
  });

  it('refuses a non-admin a lifetime above the maximum (an expiry in 2126 too) with a 400 naming the field and the maximum', async () => {
    expectTooLong(await legacy({ expires_in: String(MAX + 1) }, DEV));
    expectTooLong(await legacy({ expires_in: String(100 * YEAR) }, DEV));
    expectTooLong(await access({ expires_in: MAX + 1 }, { authorization: DEV }));
    expect(lifetimeOf(issued(await legacy({ expires_in: String(MAX) }, DEV)).access_token)).toBe(MAX);
    expect(lifetimeOf(issued(await access({ expires_in: 600 }, { authorization: DEV })).access_token)).toBe(600);
  });

  it('gives non-expiring tokens to administrators only', async () => {
    expect((await legacy({ expires_in: '0' }, DEV)).status).toBe(403);
    expect((await access({ expires_in: 0 }, { authorization: DEV })).status).toBe(403);
    const forever = issued(await asAdmin({ username: 'dev', expires_in: '0' }));
    expect(claimsOf(forever.access_token).exp).toBeUndefined();
    expect(lifetimeOf(issued(await asAdmin({ username: 'dev', expires_in: String(100 * YEAR) })).access_token)).toBe(100 * YEAR);
  });

  it('applies the policy to the UI token page (session cookie)', async () => {
    const login = await raw(node.url, { method: 'POST', path: '/ui/api/v1/ui/auth/login', anonymous: true, headers: JSON_TYPE, body: JSON.stringify({ user: 'dev', password: 'Dev-Passw0rd' }) });
    expect(login.status).toBe(200);
    const cookie = String(login.headers['set-cookie']).split(';')[0];
    expect((await access({ expires_in: 0, description: 'from the UI' }, { cookie })).status).toBe(403);
    expectTooLong(await access({ expires_in: MAX + 1, description: 'from the UI' }, { cookie }));
    expect(lifetimeOf(issued(await access({ expires_in: 3600, description: 'from the UI' }, { cookie })).access_token)).toBe(3600);
  });

  it("shortens npm login's 30-day token to the maximum", async () => {
    const res = await raw(node.url, {
      method: 'PUT',
      path: '/artifactory/api/npm/npm-local/-/user/org.couchdb.user:dev',
      anonymous: true,
      headers: JSON_TYPE,
      body: JSON.stringify({ name: 'dev', password: 'Dev-Passw0rd' }),
    });
    expect(res.status, res.text()).toBe(201);
    expect(lifetimeOf(res.json().token)).toBe(MAX);
  });

  it('never lets a refresh outlive the policy: an asked lifetime is checked, an inherited one is clamped', async () => {
    // An administrator gave dev a refreshable token that never expires.
    const t = issued(await asAdmin({ username: 'dev', expires_in: '0', refreshable: 'true' }));
    const refresh = (extra: Record<string, string>) => legacy({ grant_type: 'refresh_token', refresh_token: t.refresh_token!, ...extra });
    expect((await refresh({ expires_in: '0' })).status).toBe(403);
    expectTooLong(await refresh({ expires_in: String(MAX + 1) }));
    // Refused refreshes consumed nothing; without expires_in the inherited "never" is clamped.
    const r = issued(await refresh({}));
    expect(r.expires_in).toBe(MAX);
    expect(lifetimeOf(r.access_token)).toBe(MAX);
  });

  it('clamps the refresh of a token whose user was an administrator and no longer is', async () => {
    const EX = basic('ex-admin', 'Ex-Passw0rd');
    const t = issued(await legacy({ expires_in: '0', refreshable: 'true' }, EX));
    expect(claimsOf(t.access_token).exp).toBeUndefined();
    const demote = await raw(node.url, { method: 'POST', path: '/artifactory/api/security/users/ex-admin', headers: JSON_TYPE, body: JSON.stringify({ admin: false }) });
    expect(demote.status).toBe(200);
    const r = issued(await legacy({ grant_type: 'refresh_token', refresh_token: t.refresh_token! }));
    expect(lifetimeOf(r.access_token)).toBe(MAX);
  });
});

describe('the default maximum', () => {
  let node: NodeProcess;
  beforeAll(async () => {
    node = await startNodeProcess({ workers: 1 });
    const put = await raw(node.url, { method: 'PUT', path: '/artifactory/api/security/users/dev', headers: JSON_TYPE, body: JSON.stringify({ password: 'Dev-Passw0rd' }) });
    expect(put.status).toBe(201);
  });
  afterAll(async () => {
    await node?.cleanup();
  });

  it('is one year', async () => {
    const token = (seconds: number) =>
      raw(node.url, { method: 'POST', path: '/access/api/v1/tokens', anonymous: true, headers: { ...JSON_TYPE, authorization: DEV }, body: JSON.stringify({ expires_in: seconds }) });
    const tooLong = await token(YEAR + 1);
    expect(tooLong.status).toBe(400);
    expect(tooLong.json().errors[0].message).toContain(String(YEAR));
    const ok = await token(YEAR);
    expect(ok.status).toBe(200);
    expect(lifetimeOf(ok.json().access_token)).toBe(YEAR);
  });
});
