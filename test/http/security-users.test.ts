import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { basic, startTestNode, type TestNode } from '../helpers/node-context.js';

const U = '/artifactory/api/security/users';

describe.each(DIALECTS)('security users API on %s', (dialect) => {
  let node: TestNode;
  const as = (auth: string) => ({ authorization: auth });

  beforeAll(async () => {
    node = await startTestNode(dialect);
  });
  afterAll(async () => {
    await node?.close();
  });

  it('creates a user (201), reads it back without the password, and lists it', async () => {
    const put = await node.request({ method: 'PUT', url: `${U}/alice`, payload: { email: 'alice@example.com', password: 'Alice-Pw1', disableUIAccess: true } });
    expect(put.statusCode, put.body).toBe(201);
    const get = await node.request({ method: 'GET', url: `${U}/alice` });
    expect(get.statusCode).toBe(200);
    expect(get.json()).toEqual({
      name: 'alice',
      email: 'alice@example.com',
      admin: false,
      profileUpdatable: true,
      disableUIAccess: true,
      internalPasswordDisabled: false,
      realm: 'internal',
      groups: [],
    });
    expect(get.body).not.toContain('Alice-Pw1');
    const list = await node.request({ method: 'GET', url: U });
    expect(list.json()).toEqual(
      expect.arrayContaining([
        { name: 'admin', uri: 'http://localhost:80/artifactory/api/security/users/admin', realm: 'internal' },
        { name: 'alice', uri: 'http://localhost:80/artifactory/api/security/users/alice', realm: 'internal' },
        { name: 'anonymous', uri: 'http://localhost:80/artifactory/api/security/users/anonymous', realm: 'internal' },
      ]),
    );
  });

  it('lets the new user log in, read themselves, and nothing else of the users API', async () => {
    const alice = as(basic('alice', 'Alice-Pw1'));
    const self = await node.request({ method: 'GET', url: `${U}/alice`, headers: alice });
    expect(self.statusCode).toBe(200);
    expect(self.json().lastLoggedIn).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await node.request({ method: 'GET', url: `${U}/admin`, headers: alice })).statusCode).toBe(403);
    expect((await node.request({ method: 'GET', url: U, headers: alice })).statusCode).toBe(403);
    expect((await node.request({ method: 'PUT', url: `${U}/eve`, headers: alice, payload: { password: 'x' } })).statusCode).toBe(403);
    expect((await node.request({ method: 'DELETE', url: `${U}/admin`, headers: alice })).statusCode).toBe(403);
    expect((await node.request({ method: 'GET', url: `${U}/alice`, headers: as(basic('alice', 'wrong')) })).statusCode).toBe(401);
    expect((await node.request({ method: 'GET', url: `${U}/alice`, headers: { authorization: '' } })).statusCode).toBe(401);
  });

  it('updates only the fields given (POST) and a new password replaces the old one at once', async () => {
    const post = await node.request({ method: 'POST', url: `${U}/alice`, payload: { email: 'a2@example.com', password: 'Alice-Pw2' } });
    expect(post.statusCode, post.body).toBe(200);
    const get = (await node.request({ method: 'GET', url: `${U}/alice` })).json();
    expect(get).toMatchObject({ email: 'a2@example.com', disableUIAccess: true, admin: false });
    expect((await node.request({ method: 'GET', url: `${U}/alice`, headers: as(basic('alice', 'Alice-Pw1')) })).statusCode).toBe(401);
    expect((await node.request({ method: 'GET', url: `${U}/alice`, headers: as(basic('alice', 'Alice-Pw2')) })).statusCode).toBe(200);
    expect((await node.request({ method: 'POST', url: `${U}/nobody`, payload: { email: 'n@example.com' } })).statusCode).toBe(404);
  });

  it('replaces an existing user with PUT (200), keeping the password when none is given', async () => {
    const put = await node.request({ method: 'PUT', url: `${U}/alice`, payload: { name: 'alice', email: 'a3@example.com' } });
    expect(put.statusCode, put.body).toBe(200);
    expect((await node.request({ method: 'GET', url: `${U}/alice` })).json()).toMatchObject({ email: 'a3@example.com', disableUIAccess: false });
    expect((await node.request({ method: 'GET', url: `${U}/alice`, headers: as(basic('alice', 'Alice-Pw2')) })).statusCode).toBe(200);
  });

  it.each([
    [{ password: 'p', admin: 'yes' }, 'admin'],
    [{ password: 'p', email: 'not-an-address' }, 'email'],
    [{ password: 'p', groups: 'readers' }, 'groups'],
    [{ password: 'p', groups: ['no-such-group'] }, 'groups'],
    [{ email: 'x@example.com' }, 'password'],
    [{ password: '' }, 'password'],
    [{ password: 'p', name: 'someone-else' }, 'name'],
    [{ password: 'p', internalPasswordDisabled: 1 }, 'internalPasswordDisabled'],
    [{ password: 7 }, 'password'],
  ])('rejects %j with 400 naming %s', async (payload, field) => {
    const res = await node.request({ method: 'PUT', url: `${U}/bad-user`, payload });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().errors[0].message).toContain(`'${field}'`);
    expect((await node.request({ method: 'GET', url: `${U}/bad-user` })).statusCode).toBe(404);
  });

  it('rejects malformed JSON, a non-object body and a bad name with 400', async () => {
    const broken = await node.request({ method: 'PUT', url: `${U}/x`, headers: { 'content-type': 'application/json' }, payload: '{"password":' });
    expect(broken.statusCode).toBe(400);
    expect((await node.request({ method: 'PUT', url: `${U}/x`, payload: [1, 2] })).statusCode).toBe(400);
    const bad = await node.request({ method: 'PUT', url: `${U}/a%20b`, payload: { password: 'p' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].message).toContain("'name'");
  });

  it('creates a user without a password when internalPasswordDisabled is true; that user cannot log in with one', async () => {
    expect((await node.request({ method: 'PUT', url: `${U}/ext-user`, payload: { internalPasswordDisabled: true } })).statusCode).toBe(201);
    expect((await node.request({ method: 'GET', url: `${U}/ext-user`, headers: as(basic('ext-user', '')) })).statusCode).toBe(401);
    const enable = await node.request({ method: 'POST', url: `${U}/ext-user`, payload: { internalPasswordDisabled: false } });
    expect(enable.statusCode).toBe(400);
    expect(enable.json().errors[0].message).toContain("'password'");
  });

  it('adds auto-join groups to new users and sets the groups given', async () => {
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/security/groups/everyone', payload: { autoJoin: true } })).statusCode).toBe(201);
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/security/groups/qa', payload: {} })).statusCode).toBe(201);
    await node.request({ method: 'PUT', url: `${U}/carl`, payload: { password: 'Carl-Pw1', groups: ['qa'] } });
    expect((await node.request({ method: 'GET', url: `${U}/carl` })).json().groups).toEqual(['everyone', 'qa']);
    await node.request({ method: 'POST', url: `${U}/carl`, payload: { groups: [] } });
    expect((await node.request({ method: 'GET', url: `${U}/carl` })).json().groups).toEqual([]);
    // Existing users do not join a group that becomes auto-join later.
    expect((await node.request({ method: 'GET', url: `${U}/alice` })).json().groups).toEqual([]);
  });

  it('deletes a user (200), who then cannot log in; an unknown user is 404', async () => {
    await node.request({ method: 'PUT', url: `${U}/temp`, payload: { password: 'Temp-Pw1' } });
    expect((await node.request({ method: 'GET', url: `${U}/temp`, headers: as(basic('temp', 'Temp-Pw1')) })).statusCode).toBe(200);
    const del = await node.request({ method: 'DELETE', url: `${U}/temp` });
    expect(del.statusCode).toBe(200);
    expect((await node.request({ method: 'GET', url: `${U}/temp` })).statusCode).toBe(404);
    expect((await node.request({ method: 'GET', url: `${U}/temp`, headers: as(basic('temp', 'Temp-Pw1')) })).statusCode).toBe(401);
    expect((await node.request({ method: 'DELETE', url: `${U}/temp` })).statusCode).toBe(404);
  });

  it('keeps the built-in anonymous user readable but not writable', async () => {
    const get = await node.request({ method: 'GET', url: `${U}/anonymous` });
    expect(get.statusCode).toBe(200);
    expect(get.json()).toMatchObject({ name: 'anonymous', admin: false });
    expect((await node.request({ method: 'PUT', url: `${U}/anonymous`, payload: { password: 'p' } })).statusCode).toBe(400);
    expect((await node.request({ method: 'DELETE', url: `${U}/anonymous` })).statusCode).toBe(400);
  });

  it('refuses to delete or demote the last administrator (409), and allows it once another exists', async () => {
    const del = await node.request({ method: 'DELETE', url: `${U}/admin` });
    expect(del.statusCode).toBe(409);
    expect((await node.request({ method: 'POST', url: `${U}/admin`, payload: { admin: false } })).statusCode).toBe(409);
    expect((await node.request({ method: 'GET', url: `${U}/admin` })).json().admin).toBe(true);

    expect((await node.request({ method: 'PUT', url: `${U}/root2`, payload: { password: 'Root2-Pw1', admin: true } })).statusCode).toBe(201);
    const root2 = as(basic('root2', 'Root2-Pw1'));
    expect((await node.request({ method: 'POST', url: `${U}/admin`, payload: { admin: false } })).statusCode).toBe(200);
    // The demotion takes effect at once: admin's cached login no longer carries admin rights.
    expect((await node.request({ method: 'GET', url: U })).statusCode).toBe(403);
    expect((await node.request({ method: 'POST', url: `${U}/admin`, headers: root2, payload: { admin: true } })).statusCode).toBe(200);
    expect((await node.request({ method: 'GET', url: U })).statusCode).toBe(200);
    expect((await node.request({ method: 'DELETE', url: `${U}/root2` })).statusCode).toBe(200);
  });
});
