import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packPackage, publishBody } from '../../src/formats/npm/testing/pack.js';
import { ADMIN_PASSWORD, basic, startTestNode, type TestNode } from '../helpers/node-context.js';
import { streamingUpload } from '../helpers/raw-http.js';
import { multipartBody, twineFields, wheelFilename, writeWheel } from '../helpers/pypi-fixtures.js';
import { copyRepo } from '../helpers/replication-copy.js';
import { OciClient, nodeTarget } from './oci-client.js';

const SKOPEO = ['/usr/bin/skopeo', '/usr/local/bin/skopeo'].find((p) => existsSync(p));
if (!SKOPEO) console.warn('[skip] replication apply with skopeo: skopeo is not installed');

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: `${stdout}\n${stderr}` });
    });
  });
}

/** npm's environment without the caller's npm_config_* (npx exports them to children). */
function npmEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_config_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

/**
 * Real clients read what replication applied (issue 16, item 2): a source node publishes an npm
 * package, a wheel and an image through their APIs; every item is copied to a target node with
 * the wire protocol; then `npm install`, `pip download` and `skopeo copy` use the target alone
 * (listening on a real port).
 */
describe('real clients against a replication target (SQLite)', () => {
  let source: TestNode;
  let target: TestNode;
  let base: string;
  const dir = mkdtempSync(join(tmpdir(), 'arca-repl-clients-'));

  beforeAll(async () => {
    [source, target] = await Promise.all([startTestNode(), startTestNode()]);
    for (const node of [source, target]) {
      for (const [key, type] of [['npm-local', 'npm'], ['pypi-local', 'pypi'], ['oci-local', 'docker']]) {
        expect((await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'local', packageType: type } })).statusCode).toBe(200);
      }
    }
    for (const [user, letters] of [['reader', ['r']], ['deployer', ['r', 'w', 'd']]] as const) {
      expect((await target.request({ method: 'PUT', url: `/artifactory/api/security/users/${user}`, payload: { email: `${user}@example.com`, password: 'Some-Passw0rd!1' } })).statusCode).toBeLessThan(300);
      const perm = { name: user, repositories: ['npm-local'], principals: { users: { [user]: letters } } };
      expect((await target.request({ method: 'PUT', url: `/artifactory/api/security/permissions/${user}`, payload: perm })).statusCode).toBeLessThan(300);
    }
    await target.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(target.app.server.address() as AddressInfo).port}`;
  }, 120_000);
  afterAll(async () => {
    await Promise.all([source?.close(), target?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const replicate = async (repo: string) => {
    const origin = await source.ctx.replicationApply.ownSiteId();
    for (const r of await copyRepo(source, target, repo, { origin })) expect([200, 201], `${r.path}: ${r.body}`).toContain(r.status);
  };

  it('refuses a replication apply without permission before reading the body (a body that never ends)', async () => {
    for (const [user, extra] of [['reader', {}], ['deployer', { 'x-arca-replication-properties': 'exact' }]] as const) {
      const upload = streamingUpload(base, '/artifactory/npm-local/never/ends.tgz', {
        authorization: basic(user, 'Some-Passw0rd!1'),
        'x-arca-replication-origin': 'site-a',
        'x-checksum-sha1': 'a'.repeat(40),
        ...extra,
      });
      await upload.write(Buffer.alloc(1024, 1));
      const res = await upload.response;
      upload.abort();
      expect([user, res.status]).toEqual([user, 403]);
      expect(res.headers['x-arca-site-id']).toBe(await target.ctx.replicationApply.ownSiteId());
    }
  });

  it('npm install from the target', async () => {
    const lib = packPackage({ name: 'repl-lib', version: '1.2.3', main: 'index.js' });
    const res = await source.request({ method: 'PUT', url: '/artifactory/api/npm/npm-local/repl-lib', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(publishBody(lib)) });
    expect(res.statusCode, res.body).toBe(201);
    await replicate('npm-local');
    const registry = `${base}/artifactory/api/npm/npm-local/`;
    const project = join(dir, 'npm-project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    const auth = Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64');
    writeFileSync(join(project, '.npmrc'), `registry=${registry}\n${registry.replace(/^http:/, '')}:_auth=${auth}\n`);
    const r = await run('npm', ['install', '--no-audit', '--no-fund', 'repl-lib@1.2.3'], npmEnv({ npm_config_cache: join(dir, 'npm-cache'), npm_config_userconfig: join(project, '.npmrc') }), project);
    expect(r.code, r.out).toBe(0);
    expect(JSON.parse(readFileSync(join(project, 'node_modules/repl-lib/package.json'), 'utf8')).version).toBe('1.2.3');
    const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8'));
    expect(lock.packages['node_modules/repl-lib'].resolved).toBe(`${registry}repl-lib/-/repl-lib-1.2.3.tgz`);
  }, 180_000);

  it('pip download from the target', async () => {
    writeWheel(join(dir, 'w.whl'), { name: 'repl-wheel', version: '2.0', summary: 'replicated' });
    const wheel = readFileSync(join(dir, 'w.whl'));
    const name = wheelFilename('repl-wheel', '2.0');
    const { body, contentType } = multipartBody({ fields: twineFields('repl-wheel', '2.0', wheel, 'bdist_wheel'), filename: name, content: wheel });
    expect((await source.request({ method: 'POST', url: '/artifactory/api/pypi/pypi-local', headers: { 'content-type': contentType }, payload: body })).statusCode).toBe(200);
    await replicate('pypi-local');
    const out = join(dir, 'wheels');
    const index = `${base.replace('//', `//admin:${encodeURIComponent(ADMIN_PASSWORD)}@`)}/artifactory/api/pypi/pypi-local/simple`;
    const r = await run('pip', ['--isolated', 'download', '--index-url', index, '--no-cache-dir', '--no-deps', '--only-binary', ':all:', '-d', out, 'repl-wheel==2.0']);
    expect(r.code, r.out).toBe(0);
    expect(readdirSync(out)).toEqual([name]);
    expect(readFileSync(join(out, name)).equals(wheel)).toBe(true);
  }, 180_000);

  it.skipIf(!SKOPEO)('skopeo copy from the target', async () => {
    const client = new OciClient(nodeTarget(source, 'oci-local'), 'oci-local');
    const pushed = await client.pushImage('repl/app', 'v1', { layers: ['replicated layer'] });
    await replicate('oci-local');
    const out = join(dir, 'image');
    const ref = `docker://${base.replace('http://', '')}/oci-local/repl/app:v1`;
    const r = await run(SKOPEO!, ['copy', '--src-tls-verify=false', '--src-creds', `admin:${ADMIN_PASSWORD}`, ref, `dir:${out}`]);
    expect(r.code, r.out).toBe(0);
    const manifest = readFileSync(join(out, 'manifest.json'));
    expect(`sha256:${createHash('sha256').update(manifest).digest('hex')}`).toBe(pushed.digest);
  }, 180_000);
});
