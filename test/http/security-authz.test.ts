import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { basic, startTestNode, type TestNode } from '../helpers/node-context.js';

const V2 = '/artifactory/api/v2/security/permissions';
const ALICE = basic('alice', 'Alice-Pw1');
const BOB = basic('bob', 'Bob-Pw1');
const DEV = basic('dev', 'Dev-Pw1');

function section(repositories: string[], users: Record<string, string[]>, groups: Record<string, string[]> = {}, include = ['**'], exclude: string[] = []) {
  return { 'include-patterns': include, 'exclude-patterns': exclude, repositories, actions: { users, groups } };
}

/** Permission targets decide what non-admin callers may do with artifacts. */
describe.each(DIALECTS)('authorisation on %s', (dialect) => {
  let node: TestNode;
  const req = (method: 'GET' | 'PUT' | 'DELETE', url: string, authorization: string, payload?: string) =>
    node.request({ method, url: `/artifactory/${url}`, headers: { authorization }, payload });
  const status = async (method: 'GET' | 'PUT' | 'DELETE', url: string, authorization: string, payload?: string) => (await req(method, url, authorization, payload)).statusCode;
  const setTarget = async (name: string, body: object) => {
    const res = await node.request({ method: 'PUT', url: `${V2}/${name}`, payload: { name, ...body } });
    expect([200, 201], res.body).toContain(res.statusCode);
  };
  const setAnonymous = async (on: boolean) => {
    const res = await node.request({
      method: 'PATCH',
      url: '/artifactory/api/system/configuration',
      headers: { 'content-type': 'application/yaml' },
      payload: `security:\n  anonAccessEnabled: ${on}\n`,
    });
    expect(res.statusCode, res.body).toBe(200);
  };

  beforeAll(async () => {
    node = await startTestNode(dialect);
    for (const key of ['libs-local', 'priv-local']) {
      expect((await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'local', packageType: 'generic' } })).statusCode).toBe(200);
      for (const p of ['a.txt', 'org/acme/x.jar', 'org/acme/id.key', 'com/y.jar', 'public/readme.txt']) {
        expect((await req('PUT', `${key}/${p}`, '', undefined)).statusCode).toBe(401);
        expect((await node.request({ method: 'PUT', url: `/artifactory/${key}/${p}`, payload: `${key}/${p}` })).statusCode).toBe(201);
      }
    }
    await node.request({ method: 'PUT', url: '/artifactory/api/security/groups/devs', payload: {} });
    for (const [name, pw, groups] of [
      ['alice', 'Alice-Pw1', []],
      ['bob', 'Bob-Pw1', []],
      ['dev', 'Dev-Pw1', ['devs']],
    ] as const) {
      expect((await node.request({ method: 'PUT', url: `/artifactory/api/security/users/${name}`, payload: { password: pw, groups } })).statusCode).toBe(201);
    }
    await setTarget('alice-reads-libs', { repo: section(['libs-local'], { alice: ['read'] }) });
    await setTarget('bob-deploys-org', { repo: section(['libs-local'], { bob: ['read', 'write'] }, {}, ['org/**'], ['**/*.key']) });
    await setTarget('devs-manage-local', { repo: section(['ANY LOCAL'], {}, { devs: ['manage'] }) });
    await setTarget('anon-public', { repo: section(['libs-local'], { anonymous: ['read'] }, {}, ['public/**']) });
  });
  afterAll(async () => {
    await node?.close();
  });

  it('lets a reader download what the target grants and nothing else', async () => {
    expect(await status('GET', 'libs-local/a.txt', ALICE)).toBe(200);
    expect((await req('GET', 'libs-local/org/acme/x.jar', ALICE)).body).toBe('libs-local/org/acme/x.jar');
    expect(await status('GET', 'libs-local/', ALICE)).toBe(200);
    // A repository the caller may not read at all answers as one that does not exist (issue 12, item 7).
    expect(await status('GET', 'priv-local/a.txt', ALICE)).toBe(404);
    expect(await status('PUT', 'libs-local/new.txt', ALICE, 'n')).toBe(403);
    expect(await status('DELETE', 'libs-local/a.txt', ALICE)).toBe(403);
  });

  it('applies include and exclude patterns to reads and deploys', async () => {
    expect(await status('GET', 'libs-local/org/acme/x.jar', BOB)).toBe(200);
    expect(await status('GET', 'libs-local/org/acme/id.key', BOB)).toBe(403);
    expect(await status('GET', 'libs-local/com/y.jar', BOB)).toBe(403);
    expect(await status('PUT', 'libs-local/org/acme/new.jar', BOB, 'new')).toBe(201);
    expect(await status('PUT', 'libs-local/com/new.jar', BOB, 'new')).toBe(403);
    expect(await status('PUT', 'libs-local/org/acme/new.key', BOB, 'new')).toBe(403);
  });

  it('needs delete to overwrite, and grants it once the target does', async () => {
    expect(await status('PUT', 'libs-local/org/acme/new.jar', BOB, 'again')).toBe(403);
    await setTarget('bob-deploys-org', { repo: section(['libs-local'], { bob: ['read', 'write', 'delete'] }, {}, ['org/**'], ['**/*.key']) });
    expect(await status('PUT', 'libs-local/org/acme/new.jar', BOB, 'again')).toBe(201);
    expect((await req('GET', 'libs-local/org/acme/new.jar', BOB)).body).toBe('again');
    expect(await status('DELETE', 'libs-local/org/acme/new.jar', BOB)).toBe(204);
  });

  it('grants through groups and ANY LOCAL, where manage implies every action', async () => {
    expect(await status('GET', 'priv-local/a.txt', DEV)).toBe(200);
    expect(await status('PUT', 'priv-local/dev.txt', DEV, 'd')).toBe(201);
    expect(await status('PUT', 'priv-local/dev.txt', DEV, 'd2')).toBe(201);
    expect(await status('DELETE', 'priv-local/dev.txt', DEV)).toBe(204);
    // Not an administrator: the admin-only APIs stay closed.
    expect((await node.request({ method: 'GET', url: '/artifactory/api/security/users', headers: { authorization: DEV } })).statusCode).toBe(403);
  });

  it('lists only the repositories the caller may read', async () => {
    const keys = async (auth: string) =>
      ((await node.request({ method: 'GET', url: '/artifactory/api/repositories', headers: { authorization: auth } })).json() as { key: string }[]).map((r) => r.key);
    expect(await keys(ALICE)).toEqual(['libs-local']);
    expect((await keys(DEV)).sort()).toEqual(['libs-local', 'priv-local']);
  });

  it('takes a permission change into account at once', async () => {
    expect(await status('GET', 'libs-local/a.txt', ALICE)).toBe(200);
    expect((await node.request({ method: 'DELETE', url: `${V2}/alice-reads-libs` })).statusCode).toBe(200);
    // Nothing left in the repository for alice: it answers as one that does not exist.
    expect(await status('GET', 'libs-local/a.txt', ALICE)).toBe(404);
    await setTarget('alice-reads-libs', { repo: section(['libs-local'], { alice: ['read'] }) });
    expect(await status('GET', 'libs-local/a.txt', ALICE)).toBe(200);
  });

  it('answers 404 instead of 403 when hideUnauthorizedResources is on', async () => {
    await node.ctx.settings.update({ hideUnauthorizedResources: true });
    try {
      expect(await status('GET', 'libs-local/com/y.jar', BOB)).toBe(404);
    } finally {
      await node.ctx.settings.update({ hideUnauthorizedResources: false });
    }
    expect(await status('GET', 'libs-local/com/y.jar', BOB)).toBe(403);
  });

  it('refuses anonymous callers while anonymous access is off, even where anonymous is granted', async () => {
    expect(await status('GET', 'libs-local/public/readme.txt', '')).toBe(401);
    expect((await req('GET', 'libs-local/public/readme.txt', '')).headers['www-authenticate']).toContain('Basic');
  });

  it("gives anonymous callers exactly the grants of 'anonymous' while anonymous access is on", async () => {
    await setAnonymous(true);
    try {
      expect(await status('GET', 'libs-local/public/readme.txt', '')).toBe(200);
      expect(await status('GET', 'libs-local/a.txt', '')).toBe(401);
      expect(await status('GET', 'priv-local/public/readme.txt', '')).toBe(401);
      expect(await status('PUT', 'libs-local/public/new.txt', '', 'x')).toBe(401);
      expect((await node.request({ method: 'GET', url: '/artifactory/api/security/users', headers: { authorization: '' } })).statusCode).toBe(401);
      // Bad credentials are still refused rather than treated as anonymous.
      expect(await status('GET', 'libs-local/public/readme.txt', basic('alice', 'wrong'))).toBe(401);
    } finally {
      await setAnonymous(false);
    }
    expect(await status('GET', 'libs-local/public/readme.txt', '')).toBe(401);
  });
});
