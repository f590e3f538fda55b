import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, startTestNode, type TestNode } from '../helpers/node-context.js';

const ALICE = basic('alice', 'Alice-Pw1');

describe('virtual repositories', () => {
  let node: TestNode;
  const repo = (key: string, payload: Record<string, unknown>) => node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload });
  const put = (path: string, body: string, authorization?: string) => node.request({ method: 'PUT', url: `/artifactory/${path}`, payload: body, headers: authorization ? { authorization } : {} });
  const get = (path: string, authorization?: string) => node.request({ method: 'GET', url: `/artifactory/${path}`, headers: authorization !== undefined ? { authorization } : {} });

  beforeAll(async () => {
    node = await startTestNode();
    for (const key of ['v-a', 'v-b', 'v-c']) expect((await repo(key, { rclass: 'local' })).statusCode).toBe(200);
    expect((await repo('v-maven', { rclass: 'local', packageType: 'maven' })).statusCode).toBe(200);
    await put('v-a/shared.txt', 'from a');
    await put('v-b/shared.txt', 'from b');
    await put('v-b/only-b.txt', 'b only');
    await put('v-c/dir/c.txt', 'c file');
    await put('v-a/dir/a.txt', 'a file');
    await node.request({ method: 'PUT', url: '/artifactory/api/security/users/alice', payload: { password: 'Alice-Pw1', email: 'alice@example.com' } });
    const target = { name: 'alice-a', repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['v-a'], actions: { users: { alice: ['read', 'write'] }, groups: {} } } };
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/v2/security/permissions/alice-a', payload: target })).statusCode).toBe(201);
  });
  afterAll(async () => {
    await node?.close();
  });

  it('validates members: existing, same package type, no cycles, a local defaultDeploymentRepo among them', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ repositories: ['nope'] }, 'does not exist'],
      [{ repositories: ['v-maven'] }, 'maven repository'],
      [{ repositories: ['v-a'], defaultDeploymentRepo: 'v-b' }, 'is not one of the repositories'],
      [{ repositories: ['v-a', 'v-a'] }, 'twice'],
      [{ repositories: ['v-bad'] }, 'itself'],
    ];
    for (const [extra, message] of cases) {
      const res = await repo('v-bad', { rclass: 'virtual', ...extra });
      expect(res.statusCode, JSON.stringify(extra)).toBe(400);
      expect(res.json().errors[0].message).toContain(message);
    }
    expect((await repo('v-inner', { rclass: 'virtual', repositories: ['v-a'] })).statusCode).toBe(200);
    expect((await repo('v-outer', { rclass: 'virtual', repositories: ['v-inner', 'v-b'] })).statusCode).toBe(200);
    const cycle = await node.request({ method: 'POST', url: '/artifactory/api/repositories/v-inner', payload: { repositories: ['v-a', 'v-outer'] } });
    expect(cycle.statusCode).toBe(400);
    expect(cycle.json().errors[0].message).toContain('cycle');
    const remoteTarget = await repo('v-rem', { rclass: 'remote', url: 'http://127.0.0.1:9/x' });
    expect(remoteTarget.statusCode).toBe(200);
    const bad = await repo('v-bad', { rclass: 'virtual', repositories: ['v-rem'], defaultDeploymentRepo: 'v-rem' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].message).toContain('must be a local repository');
  });

  it('resolves in the given order, expanding nested virtual repositories', async () => {
    expect((await repo('v-ab', { rclass: 'virtual', repositories: ['v-a', 'v-b'] })).statusCode).toBe(200);
    expect((await repo('v-ba', { rclass: 'virtual', repositories: ['v-b', 'v-a'] })).statusCode).toBe(200);
    expect((await get('v-ab/shared.txt')).body).toBe('from a');
    expect((await get('v-ba/shared.txt')).body).toBe('from b');
    expect((await get('v-outer/only-b.txt')).body).toBe('b only');
    expect((await get('v-outer/shared.txt')).body).toBe('from a');
    expect((await get('v-ab/none.txt')).statusCode).toBe(404);
  });

  it('lists a folder as the union of the members', async () => {
    expect((await repo('v-ac', { rclass: 'virtual', repositories: ['v-a', 'v-c'] })).statusCode).toBe(200);
    const listing = await get('v-ac/dir/');
    expect(listing.statusCode).toBe(200);
    expect(listing.body).toContain('a.txt');
    expect(listing.body).toContain('c.txt');
  });

  it('checks read permission per member; anonymous callers are asked for credentials', async () => {
    expect((await get('v-ba/shared.txt', ALICE)).body).toBe('from a');
    const hidden = await get('v-ba/only-b.txt', ALICE);
    expect(hidden.statusCode).toBe(403);
    const anon = await get('v-ba/shared.txt', '');
    expect(anon.statusCode).toBe(401);
    expect(anon.headers['www-authenticate']).toBe('Basic realm="Artifactory Realm"');
  });

  it('deploys to defaultDeploymentRepo with its permissions, and refuses without one', async () => {
    const none = await put('v-ab/new.txt', 'x');
    expect(none.statusCode).toBe(405);
    expect(none.json().errors[0].message).toContain('defaultDeploymentRepo');
    expect((await repo('v-deploy-a', { rclass: 'virtual', repositories: ['v-b', 'v-a'], defaultDeploymentRepo: 'v-a' })).statusCode).toBe(200);
    expect((await repo('v-deploy-b', { rclass: 'virtual', repositories: ['v-a', 'v-b'], defaultDeploymentRepo: 'v-b' })).statusCode).toBe(200);
    const ok = await put('v-deploy-a/by-alice.txt', 'alice wrote', ALICE);
    expect(ok.statusCode).toBe(201);
    expect(ok.json().repo).toBe('v-a');
    expect((await get('v-a/by-alice.txt')).body).toBe('alice wrote');
    expect((await put('v-deploy-b/by-alice.txt', 'no', ALICE)).statusCode).toBe(403);
    expect((await get('v-b/by-alice.txt')).statusCode).toBe(404);
    expect((await node.request({ method: 'DELETE', url: '/artifactory/v-deploy-a/by-alice.txt' })).statusCode).toBe(405);
  });
});
