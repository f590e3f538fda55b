import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORMATS } from '../../src/formats/registry.js';
import { SERVED_TYPES, TYPE_ALIASES } from '../../src/ui/components/admin/package-types.js';
import { CHARACTER_CLASSES, passwordPolicy, passwordProblems } from '../../src/security/password-policy.js';
import { policyProblem } from '../../src/ui/components/admin/password-rules.js';
import { dedupRatio } from '../../src/ui/components/admin/storage-math.js';
import { FakeUpstream } from '../helpers/fake-upstream.js';
import { basic, startTestNode, type TestNode } from '../helpers/node-context.js';

/** A port nothing listens on: bound, noted and closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** The endpoints the administration pages added: repository defaults, remote status and test, user lockout. */
describe('administration API additions', () => {
  let node: TestNode;
  let up: FakeUpstream;

  beforeAll(async () => {
    node = await startTestNode();
    up = await new FakeUpstream().start();
    up.on('/repo/', { status: 200, body: 'index' });
    await node.request({ method: 'PUT', url: '/artifactory/api/security/users/bob', payload: { password: 'Bob-Pw-123', email: 'bob@example.com' } });
  });
  afterAll(async () => {
    await node?.close();
    await up?.stop();
  });

  it('gives the defaults a new repository gets, which are what a create without those fields saves', async () => {
    for (const [rclass, extra] of [
      ['local', {}],
      ['remote', { url: `${up.url}/repo` }],
      ['virtual', {}],
    ] as const) {
      const res = await node.request({ method: 'GET', url: `/artifactory/api/system/repositoryDefaults/${rclass}` });
      expect(res.statusCode, res.body).toBe(200);
      const defaults = res.json();
      expect(defaults.password).toBeUndefined();
      const key = `def-${rclass}`;
      const put = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass, packageType: 'maven', ...extra } });
      expect(put.statusCode, put.body).toBe(200);
      const saved = (await node.request({ method: 'GET', url: `/artifactory/api/repositories/${key}` })).json();
      for (const [field, value] of Object.entries(defaults)) {
        if (field in extra || field === 'username') continue;
        expect(saved[field], field).toEqual(value);
      }
    }
    const local = (await node.request({ method: 'GET', url: '/artifactory/api/system/repositoryDefaults/local' })).json();
    expect(local.handleReleases).toBe(true);
    expect(local.handleSnapshots).toBe(true);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/system/repositoryDefaults/federated' })).statusCode).toBe(400);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/system/repositoryDefaults/local', headers: { authorization: basic('bob', 'Bob-Pw-123') } })).statusCode).toBe(403);
  });

  it('tests a remote connection: OK against a live upstream, an error against a closed port, never the password', async () => {
    await node.request({ method: 'PUT', url: '/artifactory/api/repositories/up-ok', payload: { rclass: 'remote', packageType: 'generic', url: `${up.url}/repo/`, username: 'u', password: 'sekret-pw' } });
    expect((await node.request({ method: 'GET', url: '/artifactory/api/repositories/up-ok/remoteStatus' })).json()).toEqual({ upstream: `${up.url}/repo/`, state: 'unknown' });
    const ok = await node.request({ method: 'POST', url: '/artifactory/api/repositories/up-ok/testConnection' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ ok: true, status: 200 });
    expect(ok.body).not.toContain('sekret');

    const port = await closedPort();
    await node.request({ method: 'PUT', url: '/artifactory/api/repositories/up-dead', payload: { rclass: 'remote', packageType: 'generic', url: `http://127.0.0.1:${port}/x`, password: 'sekret-pw' } });
    const dead = await node.request({ method: 'POST', url: '/artifactory/api/repositories/up-dead/testConnection' });
    expect(dead.statusCode).toBe(200);
    expect(dead.json().ok).toBe(false);
    expect(dead.json().message).toBeTruthy();
    expect(dead.body).not.toContain('sekret');
    const status = await node.request({ method: 'GET', url: '/artifactory/api/repositories/up-dead/remoteStatus' });
    expect(status.json()).toMatchObject({ state: 'failing' });
    expect(status.json().lastError).toBeTruthy();
    expect((await node.request({ method: 'GET', url: '/artifactory/api/repositories/up-ok/remoteStatus' })).json().state).toBe('online');

    expect((await node.request({ method: 'POST', url: '/artifactory/api/repositories/def-local/testConnection' })).statusCode).toBe(400);
    expect((await node.request({ method: 'POST', url: '/artifactory/api/repositories/nope/testConnection' })).statusCode).toBe(404);
    const anon = await node.request({ method: 'POST', url: '/artifactory/api/repositories/up-ok/testConnection', headers: { authorization: basic('bob', 'Bob-Pw-123') } });
    expect(anon.statusCode).toBe(403);
  });

  it('lists users locked by failed logins and unlocks them', async () => {
    for (let i = 0; i < 9; i++) {
      await node.request({ method: 'GET', url: '/artifactory/api/system/version', headers: { authorization: basic('bob', 'wrong') } });
    }
    const locked = await node.request({ method: 'GET', url: '/artifactory/api/security/lockedUsers' });
    expect(locked.json()).toEqual(['bob']);
    const refused = await node.request({ method: 'GET', url: '/artifactory/api/system/version', headers: { authorization: basic('bob', 'Bob-Pw-123') } });
    expect(refused.statusCode).not.toBe(200);
    const unlock = await node.request({ method: 'POST', url: '/artifactory/api/security/unlockUsers/bob' });
    expect(unlock.statusCode, unlock.body).toBe(200);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/security/lockedUsers' })).json()).toEqual([]);
    const after = await node.request({ method: 'GET', url: '/artifactory/api/system/version', headers: { authorization: basic('bob', 'Bob-Pw-123') } });
    expect(after.statusCode).toBe(200);
    expect((await node.request({ method: 'POST', url: '/artifactory/api/security/unlockUsers/ghost' })).statusCode).toBe(404);
    expect((await node.request({ method: 'POST', url: '/artifactory/api/security/unlockUsers', payload: { no: 1 } })).statusCode).toBe(400);
    expect((await node.request({ method: 'POST', url: '/artifactory/api/security/unlockUsers', payload: ['bob'] })).statusCode).toBe(200);
    expect((await node.request({ method: 'POST', url: '/artifactory/api/security/unlockAllUsers' })).statusCode).toBe(200);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/security/lockedUsers', headers: { authorization: basic('bob', 'Bob-Pw-123') } })).statusCode).toBe(403);
  });

  it('gives the System page its facts without secrets, and the token form its lifetime limit', async () => {
    const info = await node.request({ method: 'GET', url: '/artifactory/api/system/info' });
    expect(info.statusCode, info.body).toBe(200);
    expect(info.json()).toMatchObject({ nodeId: 'test-node', database: 'sqlite' });
    expect(info.json().binaryStore[0]).toMatchObject({ depth: 0, role: 'provider' });
    expect(info.json().binaryStore[0].type).toBeTruthy();
    expect(info.body).not.toMatch(/password|credential|master/i);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/system/info', headers: { authorization: basic('bob', 'Bob-Pw-123') } })).statusCode).toBe(403);

    expect((await node.request({ method: 'GET', url: '/access/api/v1/tokens' })).json().maxExpiresIn).toBeNull();
    const mine = await node.request({ method: 'GET', url: '/access/api/v1/tokens', headers: { authorization: basic('bob', 'Bob-Pw-123') } });
    expect(mine.json().maxExpiresIn).toBe(365 * 24 * 3600);
  });

  it('offers in the New-repository form exactly the package types a format handler serves', () => {
    const handled = new Set(FORMATS.flatMap((f) => [...f.handler.packageTypes]));
    const offered = new Set<string>([...SERVED_TYPES, ...Object.keys(TYPE_ALIASES)]);
    expect([...offered].sort()).toEqual([...handled].sort());
  });
});

describe('password policy', () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startTestNode('sqlite', { ARCA_PASSWORD_MINLENGTH: '10', ARCA_PASSWORD_MINCLASSES: '3' });
  });
  afterAll(async () => {
    await node?.close();
  });

  it('shows its rules and refuses a password that breaks them, naming what it lacks', async () => {
    const policy = await node.request({ method: 'GET', url: '/artifactory/api/security/passwordPolicy' });
    expect(policy.json()).toMatchObject({ minLength: 10, minClasses: 3, maxLength: 1024 });
    expect(policy.json().classes).toHaveLength(4);
    const short = await node.request({ method: 'PUT', url: '/artifactory/api/security/users/carol', payload: { password: 'abc', email: 'c@example.com' } });
    expect(short.statusCode).toBe(400);
    expect(short.json().errors[0].message).toContain('at least 10 characters');
    const plain = await node.request({ method: 'PUT', url: '/artifactory/api/security/users/carol', payload: { password: 'abcdefghijkl', email: 'c@example.com' } });
    expect(plain.statusCode).toBe(400);
    expect(plain.json().errors[0].message).toContain('3 of');
    const ok = await node.request({ method: 'PUT', url: '/artifactory/api/security/users/carol', payload: { password: 'Abcdefgh1234', email: 'c@example.com' } });
    expect(ok.statusCode, ok.body).toBe(201);
    const update = await node.request({ method: 'POST', url: '/artifactory/api/security/users/carol', payload: { password: 'short' } });
    expect(update.statusCode).toBe(400);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/security/passwordPolicy', headers: { authorization: '' } })).statusCode).toBe(401);
  });
});

describe('the UI checks passwords and shows deduplication as the server computes them', () => {
  it('refuses in the form exactly the passwords the server refuses', () => {
    const classes = CHARACTER_CLASSES.map((k) => ({ id: k.id, label: k.label }));
    const samples = ['', 'a', 'abcdefghij', 'Abcdefghij', 'Abcdefghi1', 'abc-def-gh1', 'ÄÖÜäöü1234', '          ', 'Pässwört-1', '12345678901'];
    for (const [minLength, minClasses] of [[1, 1], [10, 1], [10, 3], [4, 4]]) {
      const server = passwordPolicy(minLength, minClasses);
      for (const pw of samples) {
        const ui = policyProblem(pw, { ...server, classes });
        expect(ui !== '', `${JSON.stringify(pw)} under ${minLength}/${minClasses}`).toBe(passwordProblems(pw, server).length > 0);
      }
    }
  });

  it('turns the seed optimization share into a ratio', () => {
    expect(dedupRatio('50.00%')).toBe('2.00×');
    expect(dedupRatio('100%')).toBe('1.00×');
    expect(dedupRatio('0%')).toBe('—');
  });
});
