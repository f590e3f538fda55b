import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crateOf, manifestOf, publishBody, publishMetadata } from '../../../test/helpers/cargo-crates.js';
import { startTestNode, type TestNode } from '../../node/testing/test-node.js';
import { cratePath } from './names.js';

/** The Cargo protocol through the app: publish checks, cargo's error body, tokens as cargo sends them, yank, search. */

let node: TestNode;
const P = '/artifactory/api/cargo/cg-local';

async function publish(name: string, version: string, options: { deps?: Array<Record<string, unknown>>; crate?: Buffer; meta?: Record<string, unknown>; authorization?: string } = {}) {
  return node.request({
    method: 'PUT',
    url: `${P}/api/v1/crates/new`,
    headers: { 'content-type': 'application/octet-stream', ...(options.authorization === undefined ? {} : { authorization: options.authorization }) },
    payload: publishBody(options.meta ?? publishMetadata(name, version, options.deps), options.crate ?? crateOf(name, version)),
  });
}

const lines = async (path: string) => {
  const res = await node.request({ method: 'GET', url: `${P}/index/${path}` });
  return res.statusCode === 200 ? res.body.trim().split('\n').map((l) => JSON.parse(l) as { vers: string; yanked: boolean; name: string; deps: { name: string }[] }) : [];
};

beforeAll(async () => {
  node = await startTestNode();
  const res = await node.request({ method: 'PUT', url: '/artifactory/api/repositories/cg-local', payload: { key: 'cg-local', rclass: 'local', packageType: 'cargo' } });
  expect(res.statusCode, res.body).toBe(200);
});
afterAll(() => node?.close());

describe('cargo protocol', () => {
  it('answers config.json with dl, api and auth-required', async () => {
    const res = await node.request({ method: 'GET', url: `${P}/index/config.json`, headers: { host: 'arca.test' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ dl: 'http://arca.test/artifactory/api/cargo/cg-local/v1/crates', api: 'http://arca.test/artifactory/api/cargo/cg-local', 'auth-required': true });
  });

  it('tells an anonymous caller auth-required false only while anonymous access is on', async () => {
    const setAnonymous = async (on: boolean) => {
      const r = await node.request({ method: 'PATCH', url: '/artifactory/api/system/configuration', headers: { 'content-type': 'application/yaml' }, payload: `security:\n  anonAccessEnabled: ${on}\n` });
      expect(r.statusCode, r.body).toBe(200);
    };
    const anonymous = () => node.request({ method: 'GET', url: `${P}/index/config.json`, headers: { authorization: '' } });
    // Off (the default): 401, and cargo asks again with its token.
    expect((await anonymous()).statusCode).toBe(401);
    await setAnonymous(true);
    const perm = await node.request({
      method: 'PUT',
      url: '/artifactory/api/v2/security/permissions/anon-cargo',
      payload: { name: 'anon-cargo', repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['cg-local'], actions: { users: { anonymous: ['read'] } } } },
    });
    expect(perm.statusCode, perm.body).toBeLessThan(300);
    try {
      const res = await anonymous();
      expect(res.statusCode).toBe(200);
      expect(res.json()['auth-required']).toBe(false);
    } finally {
      await setAnonymous(false);
      await node.request({ method: 'DELETE', url: '/artifactory/api/v2/security/permissions/anon-cargo' });
    }
  });

  it('publishes, lists the version in the index file and serves the crate', async () => {
    const res = await publish('Demo_Crate', '1.0.0');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toHaveProperty('warnings');
    const dep = await publish('user-crate', '0.2.0', { deps: [{ name: 'Demo_Crate', version_req: '^1' }] });
    expect(dep.statusCode, dep.body).toBe(200);
    const index = await lines('de/mo/demo_crate');
    expect(index.map((l) => [l.name, l.vers, l.yanked])).toEqual([['Demo_Crate', '1.0.0', false]]);
    expect((await lines('us/er/user-crate'))[0].deps.map((d) => d.name)).toEqual(['Demo_Crate']);
    const etag = (await node.request({ method: 'GET', url: `${P}/index/de/mo/demo_crate` })).headers.etag as string;
    expect((await node.request({ method: 'GET', url: `${P}/index/de/mo/demo_crate`, headers: { 'if-none-match': etag } })).statusCode).toBe(304);
    const dl = await node.request({ method: 'GET', url: `${P}/v1/crates/Demo_Crate/1.0.0/download` });
    expect(dl.statusCode).toBe(200);
    expect(dl.rawPayload.equals(crateOf('Demo_Crate', '1.0.0'))).toBe(true);
    expect((await node.request({ method: 'GET', url: `${P}/index/de/mo/Demo_Crate` })).statusCode).toBe(404);
  });

  it('refuses a duplicate version, also by case or build metadata, in cargo\'s error format', async () => {
    for (const [name, version] of [['Demo_Crate', '1.0.0'], ['demo_crate', '1.0.1'], ['Demo_Crate', '1.0.0+build']]) {
      const res = await publish(name, version);
      expect(res.statusCode, `${name}@${version}`).toBe(409);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.json().errors[0].detail).toMatch(/already uploaded|exists already/);
    }
  });

  it('refuses bad input with a 400 and stores nothing', async () => {
    const cases: [string, Awaited<ReturnType<typeof publish>>][] = [
      ['manifest name', await publish('bad-a', '1.0.0', { crate: crateOf('bad-a', '1.0.0', { manifest: manifestOf('other', '1.0.0') }) })],
      ['manifest version', await publish('bad-b', '1.0.0', { crate: crateOf('bad-b', '1.0.0', { manifest: manifestOf('bad-b', '1.0.1') }) })],
      ['path trick', await publish('bad-c', '1.0.0', { crate: crateOf('bad-c', '1.0.0', { extra: [{ path: 'bad-c-1.0.0/../../x', data: 'x' }] }) })],
      ['symlink', await publish('bad-d', '1.0.0', { crate: crateOf('bad-d', '1.0.0', { extra: [{ path: 'bad-d-1.0.0/l', type: '2', link: '/etc' }] }) })],
      ['name', await publish('9bad', '1.0.0')],
      ['version', await publish('bad-e', '1.0', { crate: crateOf('bad-e', '1.0') })],
    ];
    for (const [what, res] of cases) {
      expect(res.statusCode, what).toBe(400);
      expect(res.json().errors[0].detail, what).toBeTruthy();
    }
    const truncated = await node.request({ method: 'PUT', url: `${P}/api/v1/crates/new`, payload: publishBody(publishMetadata('bad-f', '1.0.0'), crateOf('bad-f', '1.0.0')).subarray(0, 50) });
    expect(truncated.statusCode).toBe(400);
    expect(truncated.json().errors[0].detail).toMatch(/truncated/);
    for (const name of ['bad-a', 'bad-b', 'bad-c', 'bad-d', 'bad-e', 'bad-f']) {
      expect((await node.request({ method: 'GET', url: `/artifactory/api/storage/cg-local/crates/${name}` })).statusCode, name).toBe(404);
    }
  });

  it('takes an access token raw (cargo login <token>) or as Bearer; refuses anonymous publishes', async () => {
    const res = await node.request({ method: 'POST', url: '/access/api/v1/tokens', payload: { username: 'admin', scope: 'applied-permissions/admin' } });
    expect(res.statusCode, res.body).toBe(200);
    const token = res.json().access_token as string;
    expect((await publish('tok-raw', '1.0.0', { authorization: token })).statusCode).toBe(200);
    expect((await publish('tok-bearer', '1.0.0', { authorization: `Bearer ${token}` })).statusCode).toBe(200);
    const anon = await publish('tok-none', '1.0.0', { authorization: '' });
    expect(anon.statusCode).toBe(401);
    expect(anon.json().errors[0].detail).toBeTruthy();
  });

  it('yanks and unyanks: the index line changes, the crate stays downloadable', async () => {
    const yank = await node.request({ method: 'DELETE', url: `${P}/api/v1/crates/Demo_Crate/1.0.0/yank` });
    expect(yank.statusCode, yank.body).toBe(200);
    expect(yank.json()).toEqual({ ok: true });
    expect((await lines('de/mo/demo_crate'))[0].yanked).toBe(true);
    expect((await node.request({ method: 'GET', url: `${P}/v1/crates/Demo_Crate/1.0.0/download` })).statusCode).toBe(200);
    expect((await node.request({ method: 'PUT', url: `${P}/api/v1/crates/Demo_Crate/1.0.0/unyank` })).statusCode).toBe(200);
    expect((await lines('de/mo/demo_crate'))[0].yanked).toBe(false);
    expect((await node.request({ method: 'DELETE', url: `${P}/api/v1/crates/Demo_Crate/9.0.0/yank` })).statusCode).toBe(404);
  });

  it('searches crate names', async () => {
    const res = await node.request({ method: 'GET', url: `${P}/api/v1/crates?q=crate&per_page=5` });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { crates: { name: string; max_version: string; description: string }[]; meta: { total: number } };
    expect(body.crates.map((c) => c.name).sort()).toEqual(['Demo_Crate', 'user-crate']);
    expect(body.crates.find((c) => c.name === 'user-crate')).toMatchObject({ max_version: '0.2.0', description: 'The user-crate crate' });
    expect(body.meta.total).toBe(2);
  });

  it('merges index lines in a virtual repository: the first member listing a version wins, downloads agree', async () => {
    for (const [key, config] of [
      ['cg-first', { rclass: 'local' }],
      ['cg-second', { rclass: 'local' }],
      ['cg-virtual', { rclass: 'virtual', repositories: ['cg-first', 'cg-second'], defaultDeploymentRepo: 'cg-second' }],
    ] as const) {
      const res = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { key, packageType: 'cargo', ...config } });
      expect(res.statusCode, res.body).toBe(200);
    }
    const put = (repo: string, version: string, variant: number) =>
      node.request({ method: 'PUT', url: `/artifactory/api/cargo/${repo}/api/v1/crates/new`, payload: publishBody(publishMetadata('merged', version), crateOf('merged', version, { variant })) });
    expect((await put('cg-first', '1.0.0', 1)).statusCode).toBe(200);
    expect((await put('cg-second', '1.0.0', 2)).statusCode).toBe(200);
    expect((await put('cg-second', '2.0.0', 2)).statusCode).toBe(200);
    // Through the virtual repository: to its defaultDeploymentRepo.
    expect((await put('cg-virtual', '3.0.0', 3)).statusCode).toBe(200);
    const res = await node.request({ method: 'GET', url: '/artifactory/api/cargo/cg-virtual/index/me/rg/merged' });
    const merged = res.body.trim().split('\n').map((l) => JSON.parse(l) as { vers: string; cksum: string });
    expect(merged.map((l) => l.vers)).toEqual(['1.0.0', '2.0.0', '3.0.0']);
    const dl = await node.request({ method: 'GET', url: '/artifactory/api/cargo/cg-virtual/v1/crates/merged/1.0.0/download' });
    expect(dl.rawPayload.equals(crateOf('merged', '1.0.0', { variant: 1 }))).toBe(true);
    expect(merged[0].cksum).toBe(createHash('sha256').update(dl.rawPayload).digest('hex'));
    expect((await node.request({ method: 'GET', url: '/artifactory/api/storage/cg-second/crates/merged/merged-3.0.0.crate' })).statusCode).toBe(200);
  });

  it('drops a deleted version from the index file', async () => {
    expect((await publish('Demo_Crate', '1.1.0')).statusCode).toBe(200);
    const del = await node.request({ method: 'DELETE', url: `/artifactory/cg-local/${cratePath('Demo_Crate', '1.0.0')}` });
    expect(del.statusCode).toBeLessThan(300);
    expect((await lines('de/mo/demo_crate')).map((l) => l.vers)).toEqual(['1.1.0']);
    await node.request({ method: 'DELETE', url: `/artifactory/cg-local/crates/demo_crate` });
    expect(await lines('de/mo/demo_crate')).toEqual([]);
  });
});
