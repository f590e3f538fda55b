import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { startTestNode, type TestNode } from '../helpers/node-context.js';

describe.each(DIALECTS)('repositories API on %s', (dialect) => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startTestNode(dialect);
  });
  afterAll(async () => {
    await node?.close();
  });

  it('creates, lists, reads, updates and deletes a local generic repository', async () => {
    const put = await node.request({
      method: 'PUT',
      url: '/artifactory/api/repositories/libs-local',
      payload: { key: 'libs-local', rclass: 'local', packageType: 'generic', description: 'libs' },
    });
    expect(put.statusCode).toBe(200);

    const list = await node.request({ method: 'GET', url: '/artifactory/api/repositories' });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual([
      { key: 'libs-local', type: 'LOCAL', description: 'libs', url: 'http://localhost:80/artifactory/libs-local', packageType: 'Generic' },
    ]);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/repositories?type=remote' })).json()).toEqual([]);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/repositories?type=bogus' })).json()).toEqual([]);

    const get = await node.request({ method: 'GET', url: '/artifactory/api/repositories/libs-local' });
    expect(get.json()).toMatchObject({ key: 'libs-local', rclass: 'local', packageType: 'generic', includesPattern: '**/*', excludesPattern: '' });

    const post = await node.request({ method: 'POST', url: '/artifactory/api/repositories/libs-local', payload: { description: 'changed' } });
    expect(post.statusCode).toBe(200);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/repositories/libs-local' })).json().description).toBe('changed');

    await node.request({ method: 'PUT', url: '/artifactory/api/repositories/libs-local/a.txt', payload: 'x' });
    const del = await node.request({ method: 'DELETE', url: '/artifactory/api/repositories/libs-local' });
    expect(del.statusCode).toBe(200);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/repositories/libs-local' })).statusCode).toBe(404);
  });

  it('refuses a duplicate key with 409', async () => {
    const body = { rclass: 'local', packageType: 'generic' };
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/repositories/dup', payload: body })).statusCode).toBe(200);
    const again = await node.request({ method: 'PUT', url: '/artifactory/api/repositories/dup', payload: body });
    expect(again.statusCode).toBe(409);
    expect(again.json().errors[0].message).toContain('already exists');
  });

  it.each([
    [{ packageType: 'generic' }, 'rclass'],
    [{ rclass: 'bogus' }, 'rclass'],
    [{ rclass: 'local', packageType: 'nope' }, 'packageType'],
    [{ rclass: 'local', includesPattern: 5 }, 'includesPattern'],
    [{ rclass: 'local', key: 'other' }, 'key'],
    [{ rclass: 'federated' }, 'rclass'],
    [{ rclass: 'remote' }, 'url'],
    [{ rclass: 'remote', url: 'ftp://x' }, 'url'],
    [{ rclass: 'virtual', repositories: ['nope'] }, 'repositories'],
  ])('rejects an invalid config %j with 400 naming %s', async (body, field) => {
    const res = await node.request({ method: 'PUT', url: '/artifactory/api/repositories/bad-one', payload: body });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].message).toContain(`'${field}'`);
  });

  it('rejects malformed JSON with 400', async () => {
    const res = await node.request({
      method: 'PUT',
      url: '/artifactory/api/repositories/broken',
      headers: { 'content-type': 'application/json' },
      payload: '{"rclass": "local",',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].status).toBe(400);
  });

  it('rejects reserved and malformed keys', async () => {
    for (const key of ['api', '-x', 'a%20b']) {
      const res = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'local' } });
      expect(res.statusCode, key).toBe(400);
    }
  });

  it('requires admin to create repositories', async () => {
    const res = await node.request({ method: 'PUT', url: '/artifactory/api/repositories/anon', headers: { authorization: '' }, payload: { rclass: 'local' } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toContain('Basic');
  });
});
