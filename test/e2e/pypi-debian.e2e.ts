import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD } from '../helpers/credentials.js';
import { DEBIAN_PIP_DIR, DEBIAN_TWINE, debianPipVenv, missingDebianClients, run } from '../helpers/debian-python.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { wheelFilename, writeSdist, writeWheel } from '../helpers/pypi-fixtures.js';

/**
 * The Python clients exactly as Debian 12 ships them, against real `arca start` processes:
 * Debian's twine 4.0.2 uploads (and `--skip-existing` skips what a read-write user without
 * delete cannot overwrite, while a real refusal still fails); Debian's pip 23.0.1, in a venv
 * of the system Python, installs and downloads wheels and sdists from a local repository and
 * from a virtual one whose remote member proxies a second node; the current pip does the
 * same and resolves from the PEP 658/714 metadata.
 */

const PKG = 'arca-deb-demo';
const MODULE = 'arca_deb_demo';
const DEPLOYER = { name: 'deployer', password: 'Deployer-Pw1' };
const READER = { name: 'reader', password: 'Reader-Pw1' };

/** Debian's own clients (python3-pip, python3-venv, twine; .ci/run installs them). */
const MISSING_CLIENTS = missingDebianClients();
if (MISSING_CLIENTS) console.warn(`[skip] PyPI e2e with Debian's clients: ${MISSING_CLIENTS}`);

describe.skipIf(MISSING_CLIENTS !== undefined)("Debian 12's pip 23.0.1 and twine 4.0.2, and the current pip", () => {
  const dir = mkdtempSync(join(tmpdir(), 'arca-pip-debian-'));
  let node: NodeProcess;
  let upstream: NodeProcess;
  const files = {
    wheel1: join(dir, 'dist1', wheelFilename(PKG, '1.0')),
    sdist1: join(dir, 'dist1', `${MODULE}-1.0.tar.gz`),
    wheel2: join(dir, 'dist2', wheelFilename(PKG, '2.0')),
    sdist2: join(dir, 'dist2', `${MODULE}-2.0.tar.gz`),
    wheel3: join(dir, 'dist3', wheelFilename(PKG, '3.0')),
  };

  const api = (n: NodeProcess, method: string, path: string, body?: unknown) =>
    fetch(`${n.base}${path}`, {
      method,
      headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const indexUrl = (repo: string) => `http://admin:${encodeURIComponent(ADMIN_PASSWORD)}@127.0.0.1:${node.port}/artifactory/api/pypi/${repo}/simple/`;
  const twine = (n: NodeProcess, repo: string, user: { name: string; password: string }, paths: string[], extra: string[] = []) =>
    run(DEBIAN_TWINE, ['upload', '--non-interactive', '--disable-progress-bar', ...extra, '--repository-url', `${n.base}/api/pypi/${repo}`, '-u', user.name, '-p', user.password, ...paths], {
      env: { COLUMNS: '300', NO_COLOR: '1' },
    });

  beforeAll(async () => {
    for (const d of ['dist1', 'dist2', 'dist3']) mkdirSync(join(dir, d));
    writeWheel(files.wheel1, { name: PKG, version: '1.0', requiresPython: '>=3.8', files: { [`${MODULE}/__init__.py`]: "VERSION = '1.0'\n" } });
    writeSdist(files.sdist1, PKG, '1.0');
    writeWheel(files.wheel2, { name: PKG, version: '2.0', files: { [`${MODULE}/__init__.py`]: "VERSION = '2.0'\n" } });
    writeSdist(files.sdist2, PKG, '2.0');
    writeWheel(files.wheel3, { name: PKG, version: '3.0' });
    [node, upstream] = await Promise.all([startNodeProcess(), startNodeProcess()]);
    for (const [n, key, config] of [
      [upstream, 'up-local', { rclass: 'local' }],
      [node, 'py-local', { rclass: 'local' }],
      [node, 'py-remote', { rclass: 'remote', url: `${upstream.base}/api/pypi/up-local`, username: 'admin', password: ADMIN_PASSWORD }],
      [node, 'py-virtual', { rclass: 'virtual', repositories: ['py-local', 'py-remote'], defaultDeploymentRepo: 'py-local' }],
    ] as const) {
      const res = await api(n, 'PUT', `/api/repositories/${key}`, { packageType: 'pypi', ...config });
      expect(res.status, await res.text()).toBe(200);
    }
    for (const u of [DEPLOYER, READER]) expect((await api(node, 'PUT', `/api/security/users/${u.name}`, { password: u.password })).status).toBe(201);
    const target = { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['py-local'], actions: { users: { [DEPLOYER.name]: ['read', 'write'], [READER.name]: ['read'] }, groups: {} } };
    expect((await api(node, 'PUT', '/api/v2/security/permissions/py-rw', { name: 'py-rw', repo: target })).status).toBeLessThan(300);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([node?.cleanup(), upstream?.cleanup()]);
    rmSync(dir, { recursive: true, force: true });
  });

  describe("Debian's twine 4.0.2", () => {
    it('uploads wheels and sdists', async () => {
      const local = await twine(node, 'py-local', { name: 'admin', password: ADMIN_PASSWORD }, [files.wheel1, files.sdist1]);
      expect(local.code, local.out).toBe(0);
      const up = await twine(upstream, 'up-local', { name: 'admin', password: ADMIN_PASSWORD }, [files.wheel2, files.sdist2]);
      expect(up.code, up.out).toBe(0);
      expect((await api(node, 'GET', `/api/storage/py-local/${PKG}/1.0/${wheelFilename(PKG, '1.0')}`)).status).toBe(200);
    }, 120_000);

    it('upload --skip-existing skips existing files for a read-write user without delete, and uploads the new one', async () => {
      const r = await twine(node, 'py-local', DEPLOYER, [files.wheel1, files.sdist1, files.wheel3], ['--skip-existing']);
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(new RegExp(`Skipping ${wheelFilename(PKG, '1.0').replace(/\./g, '\\.')} because it appears to\\s+already exist`));
      expect(r.out).toMatch(new RegExp(`Skipping ${MODULE}-1\\.0\\.tar\\.gz because it appears to\\s+already exist`));
      expect((await api(node, 'GET', `/api/storage/py-local/${PKG}/3.0/${wheelFilename(PKG, '3.0')}`)).status).toBe(200);
    }, 120_000);

    it('without --skip-existing the same upload fails with the reason', async () => {
      const r = await twine(node, 'py-local', DEPLOYER, [files.wheel1]);
      expect(r.code, r.out).not.toBe(0);
      expect(r.out).toMatch(/403 .*Not enough permissions to delete\/overwrite artifact 'py-local:arca-deb-demo\/1\.0\//s);
    }, 60_000);

    it('--skip-existing still fails on a real refusal (no write permission)', async () => {
      const r = await twine(node, 'py-local', READER, [files.wheel3], ['--skip-existing']);
      // The file exists, but a reader may not deploy at all: that is no "already exists".
      expect(r.code, r.out).not.toBe(0);
      expect(r.out).toMatch(/403/);
      expect(r.out).not.toMatch(/Skipping/);
    }, 60_000);
  });

  describe("Debian's pip 23.0.1 in a venv of the system Python", () => {
    let n = 0;
    /** A fresh venv whose `python -m pip` is /usr/lib/python3/dist-packages/pip 23.0.1. */
    const venv = () => {
      const v = debianPipVenv(join(dir, `venv-${n++}`));
      expect(v.version).toMatch(new RegExp(`^pip 23\\.0\\.1 from ${DEBIAN_PIP_DIR} \\(python 3\\.11\\)$`));
      return v.python;
    };
    const pip = (python: string, args: string[]) => run(python, ['-m', 'pip', '--isolated', '--no-cache-dir', ...args], { timeoutMs: 180_000 });
    const imported = async (python: string) => (await run(python, ['-c', `import ${MODULE} as m; print(m.VERSION, getattr(m, 'FROM_SDIST', False))`])).out.trim();

    it('is the pip of python3-pip, run by /usr/bin/python3', () => {
      expect(venv()).toContain(dir);
    });

    it.each([
      ['local', 'py-local', '1.0'],
      ['virtual (local member)', 'py-virtual', '1.0'],
      ['virtual (remote member)', 'py-virtual', '2.0'],
    ])('installs the wheel and the sdist from the %s repository', async (_label, repo, version) => {
      const wheelEnv = venv();
      const w = await pip(wheelEnv, ['install', '--index-url', indexUrl(repo), '--only-binary', ':all:', `${PKG}==${version}`]);
      expect(w.code, w.out).toBe(0);
      expect(await imported(wheelEnv)).toBe(`${version} False`);
      const sdistEnv = venv();
      const s = await pip(sdistEnv, ['install', '--index-url', indexUrl(repo), '--no-binary', ':all:', `${PKG}==${version}`]);
      expect(s.code, s.out).toBe(0);
      expect(await imported(sdistEnv)).toBe(`${version} True`);
    }, 240_000);

    it.each([
      ['local', 'py-local', '1.0'],
      ['virtual', 'py-virtual', '2.0'],
    ])('downloads the wheel and the sdist from the %s repository', async (_label, repo, version) => {
      const python = venv();
      const into = join(dir, `dl-debian-${repo}-${version}`);
      const w = await pip(python, ['download', '--index-url', indexUrl(repo), '--no-deps', '--only-binary', ':all:', '-d', into, `${PKG}==${version}`]);
      expect(w.code, w.out).toBe(0);
      const s = await pip(python, ['download', '--index-url', indexUrl(repo), '--no-deps', '--no-binary', ':all:', '-d', into, `${PKG}==${version}`]);
      expect(s.code, s.out).toBe(0);
      const src = version === '1.0' ? { w: files.wheel1, s: files.sdist1 } : { w: files.wheel2, s: files.sdist2 };
      expect(readFileSync(join(into, wheelFilename(PKG, version))).equals(readFileSync(src.w))).toBe(true);
      expect(readFileSync(join(into, `${MODULE}-${version}.tar.gz`)).equals(readFileSync(src.s))).toBe(true);
    }, 240_000);
  });

  describe('the current pip', () => {
    const pip = (args: string[]) => run('pip', ['--isolated', '--no-cache-dir', ...args], { timeoutMs: 180_000 });

    it('is not the Debian pip, and knows PEP 714 (23.2 or later)', async () => {
      const v = await run('pip', ['--version']);
      expect(v.code, v.out).toBe(0);
      expect(v.out).not.toContain(DEBIAN_PIP_DIR);
      const [major, minor] = /^pip (\d+)\.(\d+)/.exec(v.out)!.slice(1).map(Number);
      expect(major * 100 + minor).toBeGreaterThanOrEqual(2302);
    });

    it.each([
      ['local', 'py-local', '1.0'],
      ['virtual', 'py-virtual', '2.0'],
    ])('installs from the %s repository, resolving from the core metadata, and downloads both kinds', async (_label, repo, version) => {
      const target = join(dir, `current-${repo}`);
      const i = await pip(['install', '--index-url', indexUrl(repo), '--only-binary', ':all:', '--target', target, `${PKG}==${version}`]);
      expect(i.code, i.out).toBe(0);
      expect(i.out).toMatch(new RegExp(`from \\S+${wheelFilename(PKG, version).replace(/\./g, '\\.')}\\.metadata`));
      expect(existsSync(join(target, MODULE, '__init__.py'))).toBe(true);
      const into = join(dir, `dl-current-${repo}`);
      for (const kind of ['--only-binary', '--no-binary']) {
        const d = await pip(['download', '--index-url', indexUrl(repo), '--no-deps', kind, ':all:', '-d', into, `${PKG}==${version}`]);
        expect(d.code, d.out).toBe(0);
      }
      expect(existsSync(join(into, wheelFilename(PKG, version)))).toBe(true);
      expect(existsSync(join(into, `${MODULE}-${version}.tar.gz`))).toBe(true);
    }, 240_000);
  });
});
