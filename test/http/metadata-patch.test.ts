import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, startTestNode, type TestNode } from '../helpers/node-context.js';

const READER = basic('md-reader', 'Md-Reader-Passw0rd!');

/** `PATCH /api/metadata/{repo}/{path}`: a JSON merge of properties, recursive by default (issue 15, item 4). */
describe('PATCH /api/metadata', () => {
  let node: TestNode;
  const props = async (path: string) => {
    const res = await node.request({ method: 'GET', url: `/artifactory/api/storage/${path}?properties` });
    return res.statusCode === 200 ? res.json().properties : {};
  };
  const patch = (path: string, body: string, authorization?: string) =>
    node.request({ method: 'PATCH', url: `/artifactory/api/metadata/${path}`, headers: { 'content-type': 'application/json', ...(authorization !== undefined ? { authorization } : {}) }, payload: body });

  beforeAll(async () => {
    node = await startTestNode('sqlite');
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/repositories/md-local', payload: { rclass: 'local', packageType: 'generic' } })).statusCode).toBe(200);
    for (const p of ['dir/a.txt;keep=yes', 'dir/sub/b.txt', 'other.txt']) expect((await node.request({ method: 'PUT', url: `/artifactory/md-local/${p}`, payload: 'x' })).statusCode).toBe(201);
    expect([200, 201]).toContain((await node.request({ method: 'PUT', url: '/artifactory/api/security/users/md-reader', payload: { email: 'r@example.com', password: 'Md-Reader-Passw0rd!' } })).statusCode);
    const t = { name: 'md-read', repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['md-local'], actions: { users: { 'md-reader': ['read'] } } } };
    expect([200, 201]).toContain((await node.request({ method: 'POST', url: '/artifactory/api/v2/security/permissions/md-read', payload: t })).statusCode);
  });
  afterAll(async () => {
    await node?.close();
  });

  it('sets strings and lists on a folder and everything below it, and removes keys given null', async () => {
    expect((await patch('md-local/dir', '{"props":{"stage":"qa","tags":["x","y"]}}')).statusCode).toBe(204);
    for (const p of ['md-local/dir', 'md-local/dir/a.txt', 'md-local/dir/sub/b.txt']) expect(await props(p)).toMatchObject({ stage: ['qa'], tags: ['x', 'y'] });
    expect(await props('md-local/dir/a.txt')).toMatchObject({ keep: ['yes'] });
    expect(await props('md-local/other.txt')).toEqual({});
    expect((await patch('md-local/dir', '{"props":{"stage":"prod","tags":null}}')).statusCode).toBe(204);
    expect(await props('md-local/dir/sub/b.txt')).toEqual({ stage: ['prod'] });
    expect(await props('md-local/dir/a.txt')).toEqual({ keep: ['yes'], stage: ['prod'] });
  });

  it('stays on the item itself with recursiveProperties=0', async () => {
    expect((await patch('md-local/dir?recursiveProperties=0', '{"props":{"only":"folder"}}')).statusCode).toBe(204);
    expect(await props('md-local/dir')).toMatchObject({ only: ['folder'] });
    expect(await props('md-local/dir/a.txt')).not.toHaveProperty('only');
  });

  it('refuses a caller without annotate before the body, and bad bodies with a 4xx', async () => {
    expect((await patch('md-local/dir', '{"props":{"a":"b"}}', READER)).statusCode).toBe(403);
    expect((await patch('md-local/dir', '{"props":{"a":"b"}}', '')).statusCode).toBe(401);
    for (const body of ['not json', '{"props":[1]}', '{"props":{"a":1}}', '{}', '{"props":{"":"x"}}']) {
      const res = await patch('md-local/dir', body);
      expect(res.statusCode, body).toBe(400);
    }
    expect((await patch('md-local/dir', JSON.stringify({ props: { big: 'v'.repeat(1_100_000) } }))).statusCode).toBe(413);
    expect((await patch('md-local/nosuch', '{"props":{"a":"b"}}')).statusCode).toBe(404);
  });
});
