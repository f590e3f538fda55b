import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { basic, startTestNode, type TestNode } from '../helpers/node-context.js';

const G = '/artifactory/api/security/groups';
const U = '/artifactory/api/security/users';

describe.each(DIALECTS)('security groups API on %s', (dialect) => {
  let node: TestNode;
  const GINA = { authorization: basic('gina', 'Gina-Pw1') };

  beforeAll(async () => {
    node = await startTestNode(dialect);
    for (const name of ['gina', 'hank']) {
      expect((await node.request({ method: 'PUT', url: `${U}/${name}`, payload: { password: `${name[0].toUpperCase()}${name.slice(1)}-Pw1` } })).statusCode).toBe(201);
    }
  });
  afterAll(async () => {
    await node?.close();
  });

  it('creates a group with members (201), reads it with and without users, and lists it', async () => {
    const put = await node.request({ method: 'PUT', url: `${G}/readers`, payload: { name: 'readers', description: 'Read only', userNames: ['gina', 'hank'] } });
    expect(put.statusCode, put.body).toBe(201);
    expect((await node.request({ method: 'GET', url: `${G}/readers` })).json()).toEqual({
      name: 'readers',
      description: 'Read only',
      autoJoin: false,
      adminPrivileges: false,
      realm: 'internal',
    });
    expect((await node.request({ method: 'GET', url: `${G}/readers?includeUsers=true` })).json().userNames).toEqual(['gina', 'hank']);
    expect((await node.request({ method: 'GET', url: `${U}/gina` })).json().groups).toEqual(['readers']);
    expect((await node.request({ method: 'GET', url: G })).json()).toEqual([{ name: 'readers', uri: 'http://localhost:80/artifactory/api/security/groups/readers' }]);
  });

  it('updates only the fields given (POST), replaces with PUT (200), and answers 404 for unknown groups', async () => {
    expect((await node.request({ method: 'POST', url: `${G}/readers`, payload: { description: 'Readers' } })).statusCode).toBe(200);
    const g = (await node.request({ method: 'GET', url: `${G}/readers?includeUsers=true` })).json();
    expect(g).toMatchObject({ description: 'Readers', userNames: ['gina', 'hank'] });
    expect((await node.request({ method: 'POST', url: `${G}/readers`, payload: { userNames: ['hank'] } })).statusCode).toBe(200);
    expect((await node.request({ method: 'GET', url: `${G}/readers?includeUsers=true` })).json().userNames).toEqual(['hank']);
    expect((await node.request({ method: 'PUT', url: `${G}/readers`, payload: { realm: 'ldap' } })).statusCode).toBe(200);
    expect((await node.request({ method: 'GET', url: `${G}/readers?includeUsers=1` })).json()).toEqual({
      name: 'readers',
      autoJoin: false,
      adminPrivileges: false,
      realm: 'ldap',
      userNames: ['hank'],
    });
    expect((await node.request({ method: 'GET', url: `${G}/nope` })).statusCode).toBe(404);
    expect((await node.request({ method: 'POST', url: `${G}/nope`, payload: {} })).statusCode).toBe(404);
    expect((await node.request({ method: 'DELETE', url: `${G}/nope` })).statusCode).toBe(404);
  });

  it.each([
    [{ autoJoin: 'true' }, 'autoJoin'],
    [{ adminPrivileges: 1 }, 'adminPrivileges'],
    [{ description: 5 }, 'description'],
    [{ userNames: ['nobody'] }, 'userNames'],
    [{ userNames: 'gina' }, 'userNames'],
    [{ autoJoin: true, adminPrivileges: true }, 'autoJoin'],
    [{ name: 'other' }, 'name'],
  ])('rejects %j with 400 naming %s', async (payload, field) => {
    const res = await node.request({ method: 'PUT', url: `${G}/bad-group`, payload });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().errors[0].message).toContain(`'${field}'`);
    expect((await node.request({ method: 'GET', url: `${G}/bad-group` })).statusCode).toBe(404);
  });

  it('is for administrators only', async () => {
    expect((await node.request({ method: 'GET', url: G, headers: GINA })).statusCode).toBe(403);
    expect((await node.request({ method: 'GET', url: `${G}/readers`, headers: GINA })).statusCode).toBe(403);
    expect((await node.request({ method: 'PUT', url: `${G}/mine`, headers: GINA, payload: {} })).statusCode).toBe(403);
    expect((await node.request({ method: 'DELETE', url: `${G}/readers`, headers: GINA })).statusCode).toBe(403);
  });

  it('makes members of an admin-privileges group act as administrators, and stops at once when they leave', async () => {
    expect((await node.request({ method: 'GET', url: U, headers: GINA })).statusCode).toBe(403);
    expect((await node.request({ method: 'PUT', url: `${G}/admins`, payload: { adminPrivileges: true, userNames: ['gina'] } })).statusCode).toBe(201);
    expect((await node.request({ method: 'GET', url: U, headers: GINA })).statusCode).toBe(200);
    await node.request({ method: 'PUT', url: '/artifactory/api/repositories/grp-local', payload: { rclass: 'local' } });
    expect((await node.request({ method: 'PUT', url: '/artifactory/grp-local/a.txt', headers: GINA, payload: 'a' })).statusCode).toBe(201);
    expect((await node.request({ method: 'POST', url: `${G}/admins`, payload: { adminPrivileges: false } })).statusCode).toBe(200);
    expect((await node.request({ method: 'GET', url: U, headers: GINA })).statusCode).toBe(403);
    expect((await node.request({ method: 'GET', url: '/artifactory/grp-local/a.txt', headers: GINA })).statusCode).toBe(404);
  });

  it('deletes a group (200) and its memberships', async () => {
    expect((await node.request({ method: 'DELETE', url: `${G}/admins` })).statusCode).toBe(200);
    expect((await node.request({ method: 'GET', url: `${G}/admins` })).statusCode).toBe(404);
    expect((await node.request({ method: 'GET', url: `${U}/gina` })).json().groups).toEqual([]);
  });
});
