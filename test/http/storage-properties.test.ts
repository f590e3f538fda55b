import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathKey } from '../../src/db/items.js';
import { DIALECTS } from '../helpers/databases.js';
import { startTestNode, type TestNode } from '../helpers/node-context.js';

const BASE = 'http://localhost:80/artifactory';

describe.each(DIALECTS)('storage API: properties on %s', (dialect) => {
  let node: TestNode;
  let n = 0;

  /** A fresh tree per test: <repo>/tN/a.txt, <repo>/tN/sub/b.txt. */
  async function tree(): Promise<string> {
    const dir = `t${++n}`;
    for (const p of [`${dir}/a.txt`, `${dir}/sub/b.txt`]) {
      const res = await node.request({ method: 'PUT', url: `/artifactory/props-local/${p}`, payload: p });
      expect(res.statusCode).toBe(201);
    }
    return dir;
  }

  const storage = (method: 'GET' | 'PUT' | 'DELETE', pathAndQuery: string) =>
    node.request({ method, url: `/artifactory/api/storage/props-local/${pathAndQuery}` });

  async function props(path: string): Promise<Record<string, string[]> | undefined> {
    const res = await storage('GET', `${path}?properties`);
    if (res.statusCode === 404) return undefined;
    expect(res.statusCode).toBe(200);
    return res.json().properties;
  }

  async function row(path: string) {
    return node.ctx.database.db.selectFrom('items').selectAll().where('path_key', '=', pathKey('props-local', path)).executeTakeFirstOrThrow();
  }

  beforeAll(async () => {
    node = await startTestNode(dialect);
    const res = await node.request({ method: 'PUT', url: '/artifactory/api/repositories/props-local', payload: { rclass: 'local', packageType: 'generic' } });
    expect(res.statusCode).toBe(200);
  });
  afterAll(async () => {
    await node?.close();
  });

  it('answers 404 "No properties could be found." for an item without properties', async () => {
    const dir = await tree();
    const res = await storage('GET', `${dir}/a.txt?properties`);
    expect(res.statusCode).toBe(404);
    expect(res.json().errors[0].message).toBe('No properties could be found.');
    expect((await storage('GET', `${dir}/missing.txt?properties`)).statusCode).toBe(404);
  });

  it('sets properties with multiple values and reads them back, all or by key', async () => {
    const dir = await tree();
    const put = await storage('PUT', `${dir}/a.txt?properties=build.name=app;build.number=1,2,2;empty=&recursive=0`);
    expect(put.statusCode).toBe(204);
    const res = await storage('GET', `${dir}/a.txt?properties`);
    expect(res.headers['content-type']).toContain('application/vnd.org.jfrog.artifactory.storage.ItemProperties+json');
    expect(res.json()).toEqual({
      properties: { 'build.name': ['app'], 'build.number': ['1', '2'], empty: [''] },
      uri: `${BASE}/api/storage/props-local/${dir}/a.txt`,
    });
    const some = await storage('GET', `${dir}/a.txt?properties=build.name,nope`);
    expect(some.json().properties).toEqual({ 'build.name': ['app'] });
    expect((await storage('GET', `${dir}/a.txt?properties=nope`)).statusCode).toBe(404);
  });

  it('replaces the values of the keys it sets and keeps other keys', async () => {
    const dir = await tree();
    await storage('PUT', `${dir}/a.txt?properties=a=1;b=2`);
    await storage('PUT', `${dir}/a.txt?properties=a=3`);
    expect(await props(`${dir}/a.txt`)).toEqual({ a: ['3'], b: ['2'] });
  });

  it('decodes values, including the JFrog CLI encoding with \\, for a literal comma', async () => {
    const dir = await tree();
    // What jfrog-client-go sends: key and each value query-escaped, values joined by an encoded comma.
    const cli = `${dir}/a.txt?properties=vcs.url=https%3A%2F%2Fgit.example%2Fr.git;multi=x%5C%2Cy%2Cz;space=a+b%3Bc&recursive=0`;
    expect((await storage('PUT', cli)).statusCode).toBe(204);
    expect(await props(`${dir}/a.txt`)).toEqual({
      'vcs.url': ['https://git.example/r.git'],
      multi: ['x,y', 'z'],
      space: ['a b;c'],
    });
    // A generic client encoding the whole parameter (k%3Dv%3Bk2%3Dv2).
    expect((await storage('PUT', `${dir}/sub/b.txt?properties=${encodeURIComponent('k=v1,v2;k2=caf\u00e9')}`)).statusCode).toBe(204);
    expect(await props(`${dir}/sub/b.txt`)).toEqual({ k: ['v1', 'v2'], k2: ['caf\u00e9'] });
  });

  it('applies to everything below a folder by default and only to the folder with recursive=0', async () => {
    const dir = await tree();
    expect((await storage('PUT', `${dir}?properties=release=yes`)).statusCode).toBe(204);
    for (const p of [dir, `${dir}/a.txt`, `${dir}/sub`, `${dir}/sub/b.txt`]) expect(await props(p), p).toEqual({ release: ['yes'] });

    const flat = await tree();
    expect((await storage('PUT', `${flat}/sub?properties=only=folder&recursive=0`)).statusCode).toBe(204);
    expect(await props(`${flat}/sub`)).toEqual({ only: ['folder'] });
    expect(await props(`${flat}/sub/b.txt`)).toBeUndefined();
  });

  it('deletes properties recursively or not', async () => {
    const dir = await tree();
    await storage('PUT', `${dir}?properties=a=1;b=2;c=3`);
    expect((await storage('DELETE', `${dir}/sub?properties=a&recursive=0`)).statusCode).toBe(204);
    expect(await props(`${dir}/sub`)).toEqual({ b: ['2'], c: ['3'] });
    expect(await props(`${dir}/sub/b.txt`)).toEqual({ a: ['1'], b: ['2'], c: ['3'] });
    expect((await storage('DELETE', `${dir}?properties=a,b`)).statusCode).toBe(204);
    for (const p of [dir, `${dir}/a.txt`, `${dir}/sub`, `${dir}/sub/b.txt`]) expect(await props(p), p).toEqual({ c: ['3'] });
    // Deleting a key that is not there is fine.
    expect((await storage('DELETE', `${dir}/a.txt?properties=never`)).statusCode).toBe(204);
  });

  it('bumps lastUpdated but not lastModified when properties change', async () => {
    const dir = await tree();
    const before = await row(`${dir}/a.txt`);
    await node.ctx.database.db.updateTable('items').set({ updated: 1000, modified: 1000 }).where('id', '=', before.id).execute();
    await storage('PUT', `${dir}/a.txt?properties=x=1`);
    const after = await row(`${dir}/a.txt`);
    expect(Number(after.modified)).toBe(1000);
    expect(Number(after.updated)).toBeGreaterThan(1000);
    const info = (await storage('GET', `${dir}/a.txt`)).json();
    expect(info.lastModified).toBe(new Date(1000).toISOString());
    expect(Date.parse(info.lastUpdated)).toBeGreaterThan(1000);
  });

  it('applies to the whole repository from the root with recursive, refuses the root alone', async () => {
    const dir = await tree();
    const res = await node.request({ method: 'PUT', url: '/artifactory/api/storage/props-local?properties=everywhere=1' });
    expect(res.statusCode).toBe(204);
    expect(await props(`${dir}/sub/b.txt`)).toEqual(expect.objectContaining({ everywhere: ['1'] }));
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/storage/props-local?properties=x=1&recursive=0' })).statusCode).toBe(400);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/storage/props-local?properties' })).statusCode).toBe(404);
    await node.request({ method: 'DELETE', url: '/artifactory/api/storage/props-local?properties=everywhere' });
    expect(await props(`${dir}/sub/b.txt`)).toBeUndefined();
  });

  it.each([
    ['no properties parameter', 'a.txt'],
    ['an empty properties parameter', 'a.txt?properties='],
    ['a pair without =', 'a.txt?properties=novalue'],
    ['an empty key', 'a.txt?properties==v'],
    ['a key with a space', `a.txt?properties=${encodeURIComponent('a b')}=v`],
    ['bad percent-encoding', 'a.txt?properties=k=%zz'],
    ['a bad recursive flag', 'a.txt?properties=k=v&recursive=maybe'],
    ['a value longer than 4000 characters', `a.txt?properties=k=${'v'.repeat(4001)}`],
  ])('answers 400 for %s', async (_what, rest) => {
    const dir = await tree();
    const res = await storage('PUT', `${dir}/${rest}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].status).toBe(400);
    expect(await props(`${dir}/a.txt`)).toBeUndefined();
  });

  it('answers 400 for a delete without keys and 404 for a missing item', async () => {
    const dir = await tree();
    expect((await storage('DELETE', `${dir}/a.txt`)).statusCode).toBe(400);
    expect((await storage('DELETE', `${dir}/a.txt?properties=`)).statusCode).toBe(400);
    expect((await storage('PUT', `${dir}/nope.txt?properties=a=1`)).statusCode).toBe(404);
    expect((await storage('DELETE', `${dir}/nope.txt?properties=a`)).statusCode).toBe(404);
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/storage/no-repo/x?properties=a=1' })).statusCode).toBe(404);
  });

  it('ignores a request body and accepts a JSON content type without one', async () => {
    const dir = await tree();
    const res = await node.request({
      method: 'PUT',
      url: `/artifactory/api/storage/props-local/${dir}/a.txt?properties=k=v`,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(204);
    const withBody = await node.request({
      method: 'PUT',
      url: `/artifactory/api/storage/props-local/${dir}/a.txt?properties=k2=v`,
      headers: { 'content-type': 'text/plain' },
      payload: 'ignored',
    });
    expect(withBody.statusCode).toBe(204);
    expect(await props(`${dir}/a.txt`)).toEqual({ k: ['v'], k2: ['v'] });
  });

  it('keeps matrix-parameter properties from deploy readable here', async () => {
    const res = await node.request({ method: 'PUT', url: '/artifactory/props-local/m/c.txt;team=core;tags=a', payload: 'c' });
    expect(res.statusCode).toBe(201);
    expect(await props('m/c.txt')).toEqual({ team: ['core'], tags: ['a'] });
  });
});
