import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packPackage, publishBody } from '../../src/formats/npm/testing/pack.js';
import { ADMIN_AUTH, basic, startTestNode, type TestNode } from '../helpers/node-context.js';

const REPO = 'npm-api';
const API = `/artifactory/api/npm/${REPO}`;
const READER = basic('reader', 'Reader-Pw1');
const DEPLOYER = basic('deployer', 'Deployer-Pw1');

/** dist-tags, deprecate, unpublish, scoped names, login and the registry-wide endpoints, as npm 11 sends them. */
describe('npm registry API (inject)', () => {
  let node: TestNode;
  const call = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, body?: unknown, auth = ADMIN_AUTH) =>
    node.request({
      method,
      url: `${API}${url}`,
      headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      payload: body === undefined ? undefined : JSON.stringify(body),
    });
  const publish = (name: string, version: string, extra: Record<string, unknown> = {}, auth = ADMIN_AUTH, tag?: string) =>
    call('PUT', `/${name.replace('/', '%2f')}`, publishBody(packPackage({ name, version, ...extra }), { tag }), auth);
  const doc = async (name: string) => (await call('GET', `/${name.replace('/', '%2f')}?write=true`)).json();

  beforeAll(async () => {
    node = await startTestNode();
    expect((await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${REPO}`, payload: { rclass: 'local', packageType: 'npm' } })).statusCode).toBe(200);
    for (const [name, pw] of [['reader', 'Reader-Pw1'], ['deployer', 'Deployer-Pw1']]) {
      expect((await node.request({ method: 'PUT', url: `/artifactory/api/security/users/${name}`, payload: { password: pw } })).statusCode).toBe(201);
    }
    const target = (name: string, users: Record<string, string[]>) =>
      node.request({ method: 'PUT', url: `/artifactory/api/v2/security/permissions/${name}`, payload: { name, repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: [REPO], actions: { users } } } });
    expect((await target('npm-read', { reader: ['read'] })).statusCode).toBeLessThan(300);
    expect((await target('npm-deploy', { deployer: ['read', 'write'] })).statusCode).toBeLessThan(300);
    for (const v of ['1.0.0', '1.1.0', '2.0.0-beta.1']) expect((await publish('tags', v, {}, ADMIN_AUTH, v.includes('beta') ? 'beta' : undefined)).statusCode).toBe(201);
  });
  afterAll(async () => {
    await node?.close();
  });

  it('lists, adds and removes dist-tags', async () => {
    expect((await call('GET', '/-/package/tags/dist-tags')).json()).toEqual({ latest: '1.1.0', beta: '2.0.0-beta.1' });
    const add = await node.request({ method: 'PUT', url: `${API}/-/package/tags/dist-tags/stable`, headers: { 'content-type': 'application/json' }, payload: '"1.0.0"' });
    expect(add.statusCode).toBe(201);
    expect((await call('GET', '/-/package/tags/dist-tags')).json()).toEqual({ latest: '1.1.0', beta: '2.0.0-beta.1', stable: '1.0.0' });
    expect((await call('POST', '/-/package/tags/dist-tags', { rc: '2.0.0-beta.1' })).statusCode).toBe(201);
    expect((await call('DELETE', '/-/package/tags/dist-tags/stable')).statusCode).toBe(200);
    expect((await call('GET', '/-/package/tags/dist-tags')).json()).toEqual({ latest: '1.1.0', beta: '2.0.0-beta.1', rc: '2.0.0-beta.1' });
    const bad = await call('PUT', '/-/package/tags/dist-tags/stable', '9.9.9');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toContain('9.9.9 of tags does not exist');
    expect((await call('DELETE', '/-/package/tags/dist-tags/latest')).statusCode).toBe(400);
    expect((await call('PUT', '/-/package/tags/dist-tags/stable', '1.0.0', READER)).statusCode).toBe(403);
  });

  it('deprecates and undeprecates with the packument PUT npm deprecate sends', async () => {
    const current = await doc('tags');
    current.versions['1.0.0'].deprecated = 'please upgrade';
    expect((await call('PUT', '/tags', current)).statusCode).toBe(200);
    const small = await node.request({ method: 'GET', url: `${API}/tags`, headers: { accept: 'application/vnd.npm.install-v1+json' } });
    expect(small.json().versions['1.0.0'].deprecated).toBe('please upgrade');
    expect(small.json().versions['1.1.0'].deprecated).toBeUndefined();
    const again = await doc('tags');
    again.versions['1.0.0'].deprecated = '';
    expect((await call('PUT', '/tags', again)).statusCode).toBe(200);
    expect((await doc('tags')).versions['1.0.0'].deprecated).toBeUndefined();
    expect((await call('PUT', '/tags', again, READER)).statusCode).toBe(403);
  });

  it('unpublishes one version as npm unpublish pkg@ver does: GET ?write, PUT -rev, GET, DELETE tarball', async () => {
    expect((await publish('unpub', '1.0.0')).statusCode).toBe(201);
    expect((await publish('unpub', '1.1.0')).statusCode).toBe(201);
    const first = await doc('unpub');
    const tarball = new URL(first.versions['1.1.0'].dist.tarball).pathname;
    delete first.versions['1.1.0'];
    first['dist-tags'].latest = '1.0.0';
    expect((await call('PUT', `/unpub/-rev/${first._rev}`, first, DEPLOYER)).statusCode).toBe(403); // no delete permission
    expect((await call('PUT', `/unpub/-rev/1-stale`, first)).statusCode).toBe(409);
    expect((await call('PUT', `/unpub/-rev/${first._rev}`, first)).statusCode).toBe(201);
    const second = await doc('unpub');
    expect(Object.keys(second.versions)).toEqual(['1.0.0']);
    expect(second['dist-tags']).toEqual({ latest: '1.0.0' });
    // The tarball went with its version; npm's DELETE then gets a 404, which it accepts.
    const del = await node.request({ method: 'DELETE', url: `${tarball}/-rev/${second._rev}`, headers: { authorization: ADMIN_AUTH } });
    expect(del.statusCode).toBe(404);
    expect((await node.request({ method: 'GET', url: `/artifactory/${REPO}/unpub/-/unpub-1.1.0.tgz` })).statusCode).toBe(404);
    expect((await node.request({ method: 'GET', url: `/artifactory/${REPO}/unpub/-/unpub-1.0.0.tgz` })).statusCode).toBe(200);
  });

  it('deletes a tarball of a live version together with the version', async () => {
    expect((await publish('bytgz', '1.0.0')).statusCode).toBe(201);
    expect((await publish('bytgz', '2.0.0')).statusCode).toBe(201);
    expect((await call('DELETE', '/bytgz/-/bytgz-2.0.0.tgz/-rev/' + (await doc('bytgz'))._rev)).statusCode).toBe(200);
    expect((await doc('bytgz'))['dist-tags']).toEqual({ latest: '1.0.0' });
  });

  it('unpublishes a whole package with DELETE /-rev/{rev}', async () => {
    expect((await publish('gone', '1.0.0')).statusCode).toBe(201);
    const d = await doc('gone');
    expect((await call('DELETE', `/gone/-rev/${d._rev}`, undefined, READER)).statusCode).toBe(403);
    expect((await call('DELETE', `/gone/-rev/${d._rev}`)).statusCode).toBe(200);
    expect((await call('GET', '/gone')).statusCode).toBe(404);
    expect((await node.request({ method: 'GET', url: `/artifactory/${REPO}/gone/-/gone-1.0.0.tgz` })).statusCode).toBe(404);
    // Published again afterwards, as a new package.
    expect((await publish('gone', '1.0.0')).statusCode).toBe(201);
  });

  it('handles scoped packages in every URL spelling npm and registries use', async () => {
    expect((await publish('@acme/util', '0.1.0', {}, DEPLOYER)).statusCode).toBe(201);
    for (const url of ['/@acme%2futil', '/@acme%2Futil', '/%40acme%2futil', '/@acme/util']) {
      const res = await call('GET', url);
      expect(res.statusCode, url).toBe(200);
      expect(res.json().name).toBe('@acme/util');
    }
    const tarball = (await call('GET', '/@acme%2futil')).json().versions['0.1.0'].dist.tarball;
    expect(tarball).toBe(`http://localhost:80${API}/@acme/util/-/@acme/util-0.1.0.tgz`);
    for (const url of [new URL(tarball).pathname, `${API}/@acme/util/-/util-0.1.0.tgz`, `${API}/@acme%2futil/-/util-0.1.0.tgz`]) {
      expect((await node.request({ method: 'GET', url, headers: { authorization: READER } })).statusCode, url).toBe(200);
    }
    expect((await call('GET', '/-/package/@acme%2futil/dist-tags')).json()).toEqual({ latest: '0.1.0' });
    expect((await publish('@acme/util', '0.2.0', {}, READER)).statusCode).toBe(403);
  });

  it('logs in with a password and returns a working token; whoami and logout', async () => {
    const login = await node.request({
      method: 'PUT',
      url: `${API}/-/user/org.couchdb.user:reader`,
      headers: { 'content-type': 'application/json', authorization: '' },
      payload: JSON.stringify({ _id: 'org.couchdb.user:reader', name: 'reader', password: 'Reader-Pw1', type: 'user', roles: [], date: new Date().toISOString() }),
    });
    expect(login.statusCode).toBe(201);
    const token = login.json().token as string;
    expect(login.json()).toMatchObject({ ok: true, id: 'org.couchdb.user:reader' });
    const bearer = `Bearer ${token}`;
    expect((await call('GET', '/-/whoami', undefined, bearer)).json()).toEqual({ username: 'reader' });
    expect((await call('GET', '/tags', undefined, bearer)).statusCode).toBe(200);
    expect((await call('DELETE', `/-/user/token/${encodeURIComponent(token)}`, undefined, bearer)).statusCode).toBe(200);
    expect((await call('GET', '/-/whoami', undefined, bearer)).statusCode).toBe(401);

    const wrong = await node.request({ method: 'PUT', url: `${API}/-/user/org.couchdb.user:reader`, headers: { 'content-type': 'application/json', authorization: '' }, payload: JSON.stringify({ name: 'reader', password: 'nope' }) });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual({ error: "Bad user name or password for 'reader'" });
    const other = await node.request({ method: 'PUT', url: `${API}/-/user/org.couchdb.user:reader`, headers: { 'content-type': 'application/json', authorization: '' }, payload: JSON.stringify({ name: 'admin', password: 'x' }) });
    expect(other.statusCode).toBe(400);
    expect((await call('GET', '/-/whoami', undefined, '')).statusCode).toBe(401);
  });

  it('answers ping without credentials, and the web-login probe with a 4xx so npm falls back', async () => {
    const ping = await node.request({ method: 'GET', url: `${API}/-/ping?write=true`, headers: { authorization: '' } });
    expect(ping.statusCode).toBe(200);
    expect(ping.json()).toEqual({});
    expect((await call('POST', '/-/v1/login', {})).statusCode).toBe(404);
    // Ping answers every key alike: it tells an anonymous caller nothing about which repositories exist.
    expect((await node.request({ method: 'GET', url: '/artifactory/api/npm/no-such-repo/-/ping' })).statusCode).toBe(200);
  });

  it('searches names, keywords and descriptions', async () => {
    expect((await publish('searchable-thing', '3.0.0', { description: 'finds widgets', keywords: ['widget', 'finder'] })).statusCode).toBe(201);
    const res = await call('GET', '/-/v1/search?text=widget&size=20&from=0&quality=0.65&popularity=0.98&maintenance=0.5');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ total: 1, objects: [{ package: { name: 'searchable-thing', version: '3.0.0', description: 'finds widgets', keywords: ['widget', 'finder'] } }] });
    expect((await call('GET', '/-/v1/search?text=scope:acme')).json().objects.map((o: { package: { name: string } }) => o.package.name)).toEqual(['@acme/util']);
  });

  it('refuses npm audit on a local repository with a clear error, not an empty report', async () => {
    for (const path of ['/-/npm/v1/security/advisories/bulk', '/-/npm/v1/security/audits/quick']) {
      const res = await call('POST', path, { tags: ['1.0.0'] });
      expect(res.statusCode).toBe(501);
      expect(res.json().error).toContain("npm audit is not supported by local repository 'npm-api'");
    }
  });

  it('refuses npm requests on a repository of another type', async () => {
    await node.request({ method: 'PUT', url: '/artifactory/api/repositories/gen-local', payload: { rclass: 'local', packageType: 'generic' } });
    const res = await node.request({ method: 'GET', url: '/artifactory/api/npm/gen-local/x' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toContain('not an npm repository');
  });
});
