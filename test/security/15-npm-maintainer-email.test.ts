import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH } from '../helpers/credentials.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';

/**
 * Issue 12, item 15: packument `maintainers` (and `_npmUser`) had no e-mail, so `npm view`
 * printed `admin <undefined>`. The real npm client against a real `arca start` process: a
 * user with an e-mail is shown with it; a user without one by name alone; never `undefined`.
 */

const USERS = [
  { name: 'alice', password: 'Alice-Pw1', email: 'alice@example.com' },
  { name: 'bob', password: 'Bob-Pw1', email: undefined },
];

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('npm', args, { cwd, env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: `${stdout}\n${stderr}` });
    });
  });
}

describe('item 15: npm view shows maintainers with their e-mail, never undefined', () => {
  let node: NodeProcess;
  const dir = mkdtempSync(join(tmpdir(), 'arca-sec15-'));
  const registry = () => `${node.base}/api/npm/npm-local/`;
  const api = (method: string, path: string, body: unknown) =>
    fetch(`${node.base}${path}`, { method, headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  /** npm with its own userconfig (the caller's npm_config_* left out, so `npm run` settings do not leak in). */
  const npm = (user: string, args: string[], cwd = dir) => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!/^npm_config_/i.test(k)) env[k] = v;
    Object.assign(env, { npm_config_userconfig: join(dir, `${user}.npmrc`), npm_config_cache: join(dir, 'cache'), npm_config_color: 'false', npm_config_update_notifier: 'false', NO_COLOR: '1' });
    return run([...args, '--no-fund'], cwd, env);
  };

  beforeAll(async () => {
    node = await startNodeProcess();
    expect((await api('PUT', '/api/repositories/npm-local', { rclass: 'local', packageType: 'npm' })).status).toBe(200);
    for (const u of USERS) {
      const res = await api('PUT', `/api/security/users/${u.name}`, { password: u.password, ...(u.email ? { email: u.email } : {}) });
      expect(res.status, await res.text()).toBe(201);
    }
    const target = { name: 'npm-publishers', repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['npm-local'], actions: { users: { alice: ['read', 'write'], bob: ['read', 'write'] } } } };
    expect((await api('PUT', '/api/v2/security/permissions/npm-publishers', target)).status).toBeLessThan(300);
    for (const u of USERS) {
      // The token npm login would store.
      const login = await fetch(`${registry()}-/user/org.couchdb.user:${u.name}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ _id: `org.couchdb.user:${u.name}`, name: u.name, password: u.password, type: 'user', roles: [] }),
      });
      expect(login.status).toBe(201);
      const { token } = (await login.json()) as { token: string };
      writeFileSync(join(dir, `${u.name}.npmrc`), `registry=${registry()}\n${registry().replace(/^https?:/, '')}:_authToken=${token}\n`);
    }
    for (const [user, version] of [['alice', '1.0.0'], ['bob', '1.1.0']]) {
      const pkg = join(dir, `pkg-${version}`);
      mkdirSync(pkg);
      writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'sec-fifteen', version, description: 'item 15', main: 'index.js' }));
      writeFileSync(join(pkg, 'index.js'), 'module.exports = 15;\n');
      const r = await npm(user, ['publish'], pkg);
      expect(r.code, r.out).toBe(0);
    }
  }, 120_000);

  afterAll(async () => {
    await node?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('npm view lists the maintainers and the publisher without undefined', async () => {
    const r = await npm('alice', ['view', 'sec-fifteen']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/maintainers:\n- alice <alice@example\.com>\n- bob\n/);
    expect(r.out).toMatch(/published .* by bob\n/);
    expect(r.out).not.toContain('undefined');
    const old = await npm('alice', ['view', 'sec-fifteen@1.0.0']);
    expect(old.out).toMatch(/published .* by alice <alice@example\.com>/);
    expect(old.out).not.toContain('undefined');
  }, 60_000);

  it('the maintainers field and npm owner ls carry the e-mail the registry records', async () => {
    const field = await npm('alice', ['view', 'sec-fifteen', 'maintainers', '--json']);
    expect(field.code, field.out).toBe(0);
    // npm view folds a person with an e-mail into `name <email>`; bob's is empty, as stored.
    expect(JSON.parse(field.out)).toEqual(['alice <alice@example.com>', { name: 'bob', email: '' }]);
    const doc = (await (await fetch(`${registry()}sec-fifteen`, { headers: { authorization: ADMIN_AUTH } })).json()) as Record<string, any>;
    expect(doc.maintainers).toEqual([
      { name: 'alice', email: 'alice@example.com' },
      { name: 'bob', email: '' },
    ]);
    expect(doc.versions['1.0.0']._npmUser).toEqual({ name: 'alice', email: 'alice@example.com' });
    const owners = await npm('alice', ['owner', 'ls', 'sec-fifteen']);
    expect(owners.code, owners.out).toBe(0);
    expect(owners.out).toContain('alice <alice@example.com>');
    expect(owners.out).not.toContain('undefined');
  }, 60_000);
});
