import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestNode, type TestNode } from '../helpers/node-context.js';

/** The web UI creates access tokens with its session cookie (Access tokens page). */
describe('access tokens from a UI session', () => {
  let node: TestNode;
  let cookie: string;

  beforeAll(async () => {
    node = await startTestNode();
    const login = await node.request({ method: 'POST', url: '/ui/api/v1/ui/auth/login', headers: { authorization: '' }, payload: { user: 'admin', password: ADMIN_PASSWORD } });
    expect(login.statusCode).toBe(200);
    cookie = String(login.headers['set-cookie']).split(';')[0];
  });
  afterAll(async () => node?.close());

  it('issues a token to the session user, which then authenticates on its own', async () => {
    const res = await node.request({
      method: 'POST',
      url: '/access/api/v1/tokens',
      headers: { authorization: '', cookie, host: 'arca.test', origin: 'http://arca.test' },
      payload: { description: 'from the UI', expires_in: 600 },
    });
    expect(res.statusCode).toBe(200);
    const token = res.json().access_token as string;
    const me = await node.request({ url: '/ui/api/v1/ui/auth/current', headers: { authorization: `Bearer ${token}` } });
    expect(me.json().name).toBe('admin');
    const listed = await node.request({ url: '/access/api/v1/tokens', headers: { authorization: '', cookie } });
    expect(listed.json().tokens.map((t: { token_id: string }) => t.token_id)).toContain(res.json().token_id);
  });

  it('refuses a cookie-authenticated request from another site, and a request with no credentials', async () => {
    const cross = await node.request({
      method: 'POST',
      url: '/access/api/v1/tokens',
      headers: { authorization: '', cookie, host: 'arca.test', origin: 'http://evil.test' },
      payload: { description: 'forged' },
    });
    expect(cross.statusCode).toBe(403);
    const none = await node.request({ method: 'POST', url: '/access/api/v1/tokens', headers: { authorization: '' }, payload: {} });
    expect(none.statusCode).toBe(401);
  });

  it('answers the session probe with 200: the session user, else the anonymous user', async () => {
    const signedIn = await node.request({ url: '/ui/api/v1/ui/auth/session', headers: { authorization: '', cookie } });
    expect(signedIn.statusCode).toBe(200);
    expect(signedIn.json()).toMatchObject({ name: 'admin', admin: true, anonymous: false });
    for (const c of [undefined, 'ARCA_SESSION=not-a-session']) {
      const res = await node.request({ url: '/ui/api/v1/ui/auth/session', headers: { authorization: '', ...(c ? { cookie: c } : {}) } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ name: 'anonymous', admin: false, anonymous: true, anonAccessEnabled: false });
    }
    // The current-user endpoint still answers 401 without credentials.
    expect((await node.request({ url: '/ui/api/v1/ui/auth/current', headers: { authorization: '' } })).statusCode).toBe(401);
  });
});
