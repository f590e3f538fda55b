import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { basic, startTestNode, type TestNode } from '../helpers/node-context.js';

const V1 = '/artifactory/api/security/permissions';
const V2 = '/artifactory/api/v2/security/permissions';

const target = (name: string, users: Record<string, string[]> = { alice: ['read'] }) => ({
  name,
  repo: { 'include-patterns': ['org/**'], 'exclude-patterns': ['**/*.key'], repositories: ['libs-local', 'ANY REMOTE'], actions: { users, groups: { devs: ['read', 'write'] } } },
  build: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['artifactory-build-info'], actions: { users: { alice: ['read'] }, groups: {} } },
});

describe.each(DIALECTS)('permission targets API on %s', (dialect) => {
  let node: TestNode;

  beforeAll(async () => {
    node = await startTestNode(dialect);
    await node.request({ method: 'PUT', url: '/artifactory/api/security/users/alice', payload: { password: 'Alice-Pw1' } });
  });
  afterAll(async () => {
    await node?.close();
  });

  it('creates a v2 target with POST (201), refuses it again (409), and reads it back', async () => {
    const post = await node.request({ method: 'POST', url: `${V2}/t1`, payload: target('t1') });
    expect(post.statusCode, post.body).toBe(201);
    const again = await node.request({ method: 'POST', url: `${V2}/t1`, payload: target('t1') });
    expect(again.statusCode).toBe(409);
    expect(again.json().errors[0].message).toContain('already exists');
    const get = await node.request({ method: 'GET', url: `${V2}/t1` });
    expect(get.statusCode).toBe(200);
    expect(get.json()).toEqual(target('t1'));
  });

  it('creates (201) or replaces (200) with PUT, and lists targets with their URIs', async () => {
    expect((await node.request({ method: 'PUT', url: `${V2}/t2`, payload: target('t2') })).statusCode).toBe(201);
    const replaced = await node.request({ method: 'PUT', url: `${V2}/t2`, payload: target('t2', { alice: ['manage'] }) });
    expect(replaced.statusCode).toBe(200);
    expect((await node.request({ method: 'GET', url: `${V2}/t2` })).json().repo.actions.users).toEqual({ alice: ['manage'] });
    const list = await node.request({ method: 'GET', url: V2 });
    expect(list.json()).toEqual([
      { name: 't1', uri: 'http://localhost:80/artifactory/api/v2/security/permissions/t1' },
      { name: 't2', uri: 'http://localhost:80/artifactory/api/v2/security/permissions/t2' },
    ]);
    expect((await node.request({ method: 'GET', url: V1 })).json().map((t: { name: string }) => t.name)).toEqual(['t1', 't2']);
  });

  it('shows a v2 target in the v1 shape', async () => {
    const v1 = await node.request({ method: 'GET', url: `${V1}/t1` });
    expect(v1.json()).toEqual({
      name: 't1',
      includesPattern: 'org/**',
      excludesPattern: '**/*.key',
      repositories: ['libs-local', 'ANY REMOTE'],
      principals: { users: { alice: ['r'] }, groups: { devs: ['r', 'w'] } },
    });
  });

  it('creates a v1 target (201), shows it as v2, and a v1 replace (200) keeps the build section', async () => {
    const v1 = { name: 'Legacy Target', includesPattern: '**', excludesPattern: '', repositories: ['ANY'], principals: { users: { alice: ['r', 'd'] }, groups: { devs: ['m'] } } };
    expect((await node.request({ method: 'PUT', url: `${V1}/Legacy%20Target`, payload: v1 })).statusCode).toBe(201);
    expect((await node.request({ method: 'GET', url: `${V2}/Legacy%20Target` })).json()).toEqual({
      name: 'Legacy Target',
      repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['ANY'], actions: { users: { alice: ['read', 'delete'] }, groups: { devs: ['manage'] } } },
    });
    expect((await node.request({ method: 'GET', url: `${V1}/Legacy%20Target` })).json()).toEqual(v1);

    const replace = await node.request({ method: 'PUT', url: `${V1}/t1`, payload: { repositories: ['libs-local'], principals: { users: { alice: ['w'] } } } });
    expect(replace.statusCode).toBe(200);
    const t1 = (await node.request({ method: 'GET', url: `${V2}/t1` })).json();
    expect(t1.repo).toEqual({ 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['libs-local'], actions: { users: { alice: ['write'] }, groups: {} } });
    expect(t1.build).toEqual(target('t1').build);
  });

  it.each([
    [V2, { repo: { repositories: ['x'], actions: { users: { alice: ['fly'] } } } }, 'repo.actions.users.alice'],
    [V2, { repo: { repositories: 'x' } }, 'repo.repositories'],
    [V2, { name: 'other' }, 'name'],
    [V2, { repo: { 'exclude-patterns': '**' } }, 'repo.exclude-patterns'],
    [V1, { principals: { groups: { devs: ['read'] } } }, 'principals.groups.devs'],
    [V1, { repositories: [1] }, 'repositories'],
    [V1, { includesPattern: 3 }, 'includesPattern'],
  ])('rejects a bad body at %s: %j names %s', async (base, payload, field) => {
    const res = await node.request({ method: 'PUT', url: `${base}/bad-target`, payload });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().errors[0].message).toContain(`'${field}'`);
    expect((await node.request({ method: 'GET', url: `${V2}/bad-target` })).statusCode).toBe(404);
  });

  it('accepts a vendor +json content type', async () => {
    const res = await node.request({
      method: 'PUT',
      url: `${V2}/vendor`,
      headers: { 'content-type': 'application/vnd.org.jfrog.artifactory.security.PermissionTargetV2+json; charset=utf-8' },
      payload: JSON.stringify(target('vendor')),
    });
    expect(res.statusCode, res.body).toBe(201);
    expect((await node.request({ method: 'GET', url: `${V2}/vendor` })).json()).toEqual(target('vendor'));
    const broken = await node.request({ method: 'PUT', url: `${V2}/vendor`, headers: { 'content-type': 'application/x+json' }, payload: '{"repo":' });
    expect(broken.statusCode).toBe(400);
    expect((await node.request({ method: 'DELETE', url: `${V2}/vendor` })).statusCode).toBe(200);
  });

  it('is for administrators only', async () => {
    const alice = { authorization: basic('alice', 'Alice-Pw1') };
    expect((await node.request({ method: 'GET', url: V2, headers: alice })).statusCode).toBe(403);
    expect((await node.request({ method: 'GET', url: `${V1}/t1`, headers: alice })).statusCode).toBe(403);
    expect((await node.request({ method: 'POST', url: `${V2}/mine`, headers: alice, payload: target('mine') })).statusCode).toBe(403);
    expect((await node.request({ method: 'DELETE', url: `${V2}/t1`, headers: alice })).statusCode).toBe(403);
    expect((await node.request({ method: 'GET', url: V2, headers: { authorization: '' } })).statusCode).toBe(401);
  });

  it('deletes through either API (200), then answers 404', async () => {
    expect((await node.request({ method: 'DELETE', url: `${V2}/t1` })).statusCode).toBe(200);
    expect((await node.request({ method: 'DELETE', url: `${V1}/t2` })).statusCode).toBe(200);
    expect((await node.request({ method: 'GET', url: `${V2}/t1` })).statusCode).toBe(404);
    expect((await node.request({ method: 'GET', url: `${V1}/t2` })).statusCode).toBe(404);
    expect((await node.request({ method: 'DELETE', url: `${V2}/t1` })).statusCode).toBe(404);
  });
});
