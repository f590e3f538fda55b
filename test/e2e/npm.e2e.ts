import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verdaccioAddUser, verdaccioInstalled, verdaccioSetup, waitForRegistry } from '../../src/formats/npm/testing/verdaccio.js';
import { ADMIN_AUTH, ADMIN_PASSWORD } from '../helpers/credentials.js';
import { freePort } from '../helpers/ports.js';
import { describeOnNodeAndCluster } from './harness/node-and-cluster.js';

/**
 * The real npm client against real `arca start` processes: `npm login` (through a pty, as a
 * person types it), publish of unscoped and scoped packages, install from a local repository
 * and through a virtual repository whose remote member proxies a Verdaccio on 127.0.0.1,
 * dist-tag add/ls, deprecate, unpublish of a version and of a package, whoami, ping, search,
 * and npm audit refused on a local repository. Once on one node, once through nginx in front
 * of a two-node cluster.
 */

const SCRIPT = '/usr/bin/script';

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: `${stdout}\n${stderr}` });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/**
 * The environment for npm: ours without npm_config_* (npx and npm run export the caller's
 * settings to their children, which would override the test's own .npmrc), plus `extra`.
 */
function npmEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_config_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

function writePackage(dir: string, manifest: Record<string, unknown>, main = 'module.exports = require("./package.json").version;\n'): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(join(dir, 'index.js'), main);
  return dir;
}

/** Verdaccio with `verd-lib@2.0.0` and `@verd/scoped@1.0.0`, shared by both flows. */
let verdaccio: { url: string; child: ChildProcess; dir: string; token: string } | undefined;

beforeAll(async () => {
  if (!verdaccioInstalled()) return;
  const dir = mkdtempSync(join(tmpdir(), 'arca-npm-e2e-verdaccio-'));
  const setup = verdaccioSetup(dir, await freePort());
  const child = spawn(setup.command, setup.args, { stdio: 'ignore' });
  await waitForRegistry(setup.url, 60_000, () => child.exitCode === null);
  const token = await verdaccioAddUser(setup.url, 'verd', 'Verd-Pw1');
  verdaccio = { url: setup.url, child, dir, token };
  const rc = join(dir, 'npmrc');
  writeFileSync(rc, `registry=${setup.url}/\n//${new URL(setup.url).host}/:_authToken=${token}\n`);
  const env = npmEnv({ npm_config_userconfig: rc, npm_config_cache: join(dir, 'cache'), npm_config_update_notifier: 'false' });
  for (const [name, version] of [['verd-lib', '2.0.0'], ['@verd/scoped', '1.0.0']]) {
    const r = await run('npm', ['publish', '--access', 'public'], { cwd: writePackage(join(dir, name), { name, version, main: 'index.js' }), env });
    expect(r.code, r.out).toBe(0);
  }
}, 120_000);

afterAll(() => {
  verdaccio?.child.kill('SIGTERM');
  if (verdaccio) rmSync(verdaccio.dir, { recursive: true, force: true });
});

if (!verdaccioInstalled()) console.warn('[skip] npm e2e through a virtual repository: node_modules/.bin/verdaccio is missing (npm install)');

function npmFlow(label: string, base: () => string) {
  describe(`npm through ${label}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'arca-npm-e2e-'));
    const rc = join(dir, 'npmrc');
    const registry = (repo: string) => `${base()}/api/npm/${repo}/`;
    const npm = (args: string[], cwd = dir, input?: string) =>
      run('npm', [...args, '--no-fund', '--no-update-notifier'], {
        cwd,
        input,
        env: npmEnv({ npm_config_userconfig: rc, npm_config_cache: join(dir, 'cache'), npm_config_prefer_online: 'true', npm_config_color: 'false' }),
      });
    const api = (method: string, path: string, body?: unknown, auth = ADMIN_AUTH) =>
      fetch(`${base()}${path}`, { method, headers: { authorization: auth, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

    beforeAll(async () => {
      const repos: [string, Record<string, unknown>][] = [['npm-local', { rclass: 'local' }]];
      if (verdaccio) {
        repos.push(['npm-remote', { rclass: 'remote', url: verdaccio.url, username: 'verd', password: 'Verd-Pw1' }]);
        repos.push(['npm-virtual', { rclass: 'virtual', repositories: ['npm-local', 'npm-remote'], defaultDeploymentRepo: 'npm-local' }]);
      }
      for (const [key, config] of repos) {
        const res = await api('PUT', `/api/repositories/${key}`, { packageType: 'npm', ...config });
        expect(res.status, await res.text()).toBe(200);
      }
      writeFileSync(rc, `registry=${registry('npm-local')}\n`);
    }, 60_000);
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('logs in: the login endpoint answers a token, and npm login stores one', async () => {
      const res = await fetch(`${registry('npm-local')}-/user/org.couchdb.user:admin`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ _id: 'org.couchdb.user:admin', name: 'admin', password: ADMIN_PASSWORD, type: 'user', roles: [] }),
      });
      expect(res.status).toBe(201);
      const token = ((await res.json()) as { token: string }).token;
      expect((await fetch(`${registry('npm-local')}-/whoami`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      if (existsSync(SCRIPT)) {
        // npm login reads the password with echo off, which needs a terminal: `script` gives it one.
        const login = `npm login --userconfig ${rc} --auth-type=legacy --registry ${registry('npm-local')}`;
        const child = spawn(SCRIPT, ['-qec', login, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: npmEnv({ npm_config_cache: join(dir, 'cache') }) });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        const prompted = async (prompt: string) => {
          const deadline = Date.now() + 30_000;
          while (!out.includes(prompt) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        };
        await prompted('Username:');
        child.stdin.write('admin\r');
        await prompted('Password:');
        child.stdin.write(`${ADMIN_PASSWORD}\r`);
        const code = await new Promise<number | null>((r) => child.once('exit', r));
        expect(code, out).toBe(0);
        expect(out).toContain('Logged in on');
        expect(readFileSync(rc, 'utf8')).toMatch(/:_authToken=ey/);
      } else {
        console.warn(`[skip] npm login through a terminal: ${SCRIPT} is missing (apt-get install bsdutils); the token from the login endpoint is used`);
      }
      // npm finds credentials by the registry URL without its scheme: one line per repository.
      const auth = ['npm-local', 'npm-virtual'].map((k) => `${registry(k).replace(/^https?:/, '')}:_authToken=${token}`);
      writeFileSync(rc, [`registry=${registry('npm-local')}`, ...auth, ''].join('\n'));
      const who = await npm(['whoami']);
      expect(who.code, who.out).toBe(0);
      expect(who.out.trim().split('\n')[0]).toBe('admin');
      const ping = await npm(['ping']);
      expect(ping.code, ping.out).toBe(0);
      expect(ping.out).toContain('PONG');
    }, 120_000);

    it('publishes unscoped and scoped packages', async () => {
      for (const [name, version] of [['e2e-lib', '1.0.0'], ['e2e-lib', '1.1.0'], ['@e2e/scoped', '0.1.0']]) {
        const pkgDir = writePackage(join(dir, 'src', `${name}-${version}`), { name, version, main: 'index.js', description: `${name} for the e2e` });
        const r = await npm(['publish', '--access', 'public'], pkgDir);
        expect(r.code, r.out).toBe(0);
        expect(r.out).toContain(`+ ${name}@${version}`);
      }
      const again = await npm(['publish'], join(dir, 'src', 'e2e-lib-1.1.0'));
      expect(again.code).not.toBe(0);
      // npm itself checks the packument first and refuses (the registry's own 403 is tested over HTTP).
      expect(again.out).toMatch(/cannot publish over the previously published versions?: 1\.1\.0/);
    }, 120_000);

    it('installs from the local repository', async () => {
      const proj = writePackage(join(dir, 'proj-local'), { name: 'proj-local', version: '1.0.0', dependencies: { 'e2e-lib': '^1.0.0', '@e2e/scoped': '0.1.0' } });
      const r = await npm(['install', '--no-audit'], proj);
      expect(r.code, r.out).toBe(0);
      const lock = JSON.parse(readFileSync(join(proj, 'package-lock.json'), 'utf8'));
      expect(lock.packages['node_modules/e2e-lib'].version).toBe('1.1.0');
      expect(lock.packages['node_modules/e2e-lib'].resolved, JSON.stringify(lock)).toBe(`${registry('npm-local')}e2e-lib/-/e2e-lib-1.1.0.tgz`);
      expect(lock.packages['node_modules/@e2e/scoped'].integrity).toMatch(/^sha512-/);
      const req = await run('node', ['-e', 'console.log(require("e2e-lib"), require("@e2e/scoped"))'], { cwd: proj });
      expect(req.out.trim()).toBe('1.1.0 0.1.0');
    }, 120_000);

    it.skipIf(!verdaccioInstalled())('installs through a virtual repository whose remote member proxies Verdaccio', async () => {
      const proj = writePackage(join(dir, 'proj-virtual'), { name: 'proj-virtual', version: '1.0.0', dependencies: { 'e2e-lib': '1.0.0', 'verd-lib': '^2.0.0', '@verd/scoped': '*' } });
      const r = await npm(['install', '--no-audit', '--registry', registry('npm-virtual')], proj);
      expect(r.code, r.out).toBe(0);
      const lock = JSON.parse(readFileSync(join(proj, 'package-lock.json'), 'utf8'));
      for (const [name, file] of [['verd-lib', 'verd-lib-2.0.0.tgz'], ['@verd/scoped', '@verd/scoped-1.0.0.tgz'], ['e2e-lib', 'e2e-lib-1.0.0.tgz']]) {
        expect(lock.packages[`node_modules/${name}`].resolved).toBe(`${registry('npm-virtual')}${name}/-/${file}`);
      }
      const req = await run('node', ['-e', 'console.log(require("verd-lib"), require("@verd/scoped"), require("e2e-lib"))'], { cwd: proj });
      expect(req.out.trim()).toBe('2.0.0 1.0.0 1.0.0');
      // The remote cached what it fetched, at Artifactory's paths.
      expect((await api('GET', '/npm-remote/verd-lib/-/verd-lib-2.0.0.tgz')).status).toBe(200);
      const search = await npm(['search', 'verd', '--registry', registry('npm-virtual')]);
      expect(search.out).toContain('verd-lib');
    }, 180_000);

    it('adds and lists dist-tags, deprecates', async () => {
      const add = await npm(['dist-tag', 'add', 'e2e-lib@1.0.0', 'stable']);
      expect(add.code, add.out).toBe(0);
      const ls = await npm(['dist-tag', 'ls', 'e2e-lib']);
      expect(ls.out).toContain('latest: 1.1.0');
      expect(ls.out).toContain('stable: 1.0.0');
      const dep = await npm(['deprecate', 'e2e-lib@1.0.0', 'use 1.1 instead']);
      expect(dep.code, dep.out).toBe(0);
      const view = await npm(['view', 'e2e-lib@1.0.0', 'deprecated']);
      expect(view.out.trim().split('\n')[0]).toBe('use 1.1 instead');
      const proj = writePackage(join(dir, 'proj-deprecated'), { name: 'proj-deprecated', version: '1.0.0', dependencies: { 'e2e-lib': '1.0.0' } });
      const inst = await npm(['install', '--no-audit'], proj);
      expect(inst.out).toContain('deprecated e2e-lib@1.0.0: use 1.1 instead');
      const search = await npm(['search', 'e2e']);
      expect(search.out).toContain('e2e-lib');
    }, 120_000);

    it('refuses npm audit on a local repository with a clear message', async () => {
      const r = await npm(['audit'], join(dir, 'proj-local'));
      expect(r.code).not.toBe(0);
      expect(r.out).toContain("npm audit is not supported by local repository 'npm-local'");
    }, 60_000);

    it('unpublishes a version, then the whole package', async () => {
      const one = await npm(['unpublish', 'e2e-lib@1.1.0']);
      expect(one.code, one.out).toBe(0);
      const doc = (await (await api('GET', '/api/npm/npm-local/e2e-lib')).json()) as { versions: Record<string, unknown>; 'dist-tags': Record<string, string> };
      expect(Object.keys(doc.versions)).toEqual(['1.0.0']);
      expect(doc['dist-tags'].latest).toBe('1.0.0');
      expect((await api('GET', '/npm-local/e2e-lib/-/e2e-lib-1.1.0.tgz')).status).toBe(404);
      const all = await npm(['unpublish', '@e2e/scoped', '--force']);
      expect(all.code, all.out).toBe(0);
      const gone = await npm(['view', '@e2e/scoped']);
      expect(gone.code).not.toBe(0);
      expect(gone.out).toContain('404');
    }, 120_000);
  });
}

describeOnNodeAndCluster('npm', npmFlow, { workers: 2 });
