import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, ADMIN_PASSWORD } from '../helpers/credentials.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { sha256Hex, wheelFilename, writeSdist, writeWheel } from '../helpers/pypi-fixtures.js';
import { describeOnNodeAndCluster } from './harness/node-and-cluster.js';

/**
 * The real pip against real `arca start` processes: wheels and sdists uploaded with the
 * legacy upload form (by Node's FormData and by a Python urllib client laid out as twine
 * does), then `pip install`, `pip download` and `pip index versions` from a local repository
 * and from a virtual one whose remote member proxies a second node. Bad uploads are refused
 * with the reason in the status line (what twine prints), and nothing is stored.
 */

const PKG = 'arca-e2e-demo';

/** Where the flow talks to: one node, or the balancer of a cluster. */
interface Target {
  base: string;
  /** host:port */
  host: string;
}
const target = (base: string): Target => ({ base, host: new URL(base).host });
const MODULE = 'arca_e2e_demo';

function run(cmd: string, args: string[], timeoutMs = 120_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PYTHONDONTWRITEBYTECODE: '1' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, out: `${stdout}\n${stderr}` });
    });
  });
}

/** A twine-shaped upload by Python's urllib; prints `<status> <reason>`. */
const UPLOAD_SCRIPT = String.raw`
import sys, urllib.request, urllib.error, hashlib, base64, uuid, json
url, auth, path, filename, fields = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
data = open(path, 'rb').read()
boundary = uuid.uuid4().hex
fields.setdefault('md5_digest', hashlib.md5(data).hexdigest())
fields.setdefault('sha256_digest', hashlib.sha256(data).hexdigest())
body = b''
for k, v in fields.items():
    body += ('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (boundary, k, v)).encode()
body += ('--%s\r\nContent-Disposition: form-data; name="content"; filename="%s"\r\nContent-Type: application/octet-stream\r\n\r\n' % (boundary, filename)).encode() + data + b'\r\n'
body += ('--%s--\r\n' % boundary).encode()
req = urllib.request.Request(url, data=body, method='POST', headers={'Content-Type': 'multipart/form-data; boundary=' + boundary, 'Authorization': auth})
try:
    r = urllib.request.urlopen(req)
    print(r.status, r.reason)
except urllib.error.HTTPError as e:
    print(e.code, e.reason)
`;

/** The whole flow against `base()` (`http://host:port/artifactory`), with a second node as the remote's upstream. */
function pipFlow(label: string, base: () => string) {
  describe(`pip through ${label}`, () => {
    let node: Target;
    let upstream: NodeProcess;
    const dir = mkdtempSync(join(tmpdir(), 'arca-pip-e2e-'));
    const files = {
      wheel1: join(dir, wheelFilename(PKG, '1.0')),
      sdist1: join(dir, `${MODULE}-1.0.tar.gz`),
      wheel2: join(dir, 'up', wheelFilename(PKG, '2.0')),
    };

    const api = (n: Target, method: string, path: string, body?: unknown) =>
      fetch(`${n.base}${path}`, { method, headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const indexUrl = (n: Target, repo: string) => `http://admin:${encodeURIComponent(ADMIN_PASSWORD)}@${n.host}/artifactory/api/pypi/${repo}/simple/`;
    const pythonUpload = async (n: Target, repo: string, path: string, filename: string, fields: Record<string, string>) =>
      (await run('python3', ['-c', UPLOAD_SCRIPT, `${n.base}/api/pypi/${repo}`, ADMIN_AUTH, path, filename, JSON.stringify(fields)])).out.trim();

    /** Node's own multipart writer (undici FormData), with the fields twine sends. */
    async function formDataUpload(n: Target, repo: string, path: string, name: string, version: string) {
      const data = readFileSync(path);
      const form = new FormData();
      for (const [k, v] of Object.entries({ ':action': 'file_upload', protocol_version: '1', metadata_version: '2.1', name, version, filetype: 'bdist_wheel', pyversion: 'py3', requires_python: '>=3.8', sha256_digest: sha256Hex(data) })) form.append(k, v);
      form.append('content', new Blob([data], { type: 'application/octet-stream' }), path.slice(path.lastIndexOf('/') + 1));
      const res = await fetch(`${n.base}/api/pypi/${repo}`, { method: 'POST', headers: { authorization: ADMIN_AUTH }, body: form });
      return { status: res.status, text: await res.text() };
    }

    beforeAll(async () => {
      mkdirSync(join(dir, 'up'));
      writeWheel(files.wheel1, { name: PKG, version: '1.0', requiresPython: '>=3.8', summary: 'Arca e2e demo', files: { [`${MODULE}/__init__.py`]: "VERSION = '1.0'\n" } });
      writeSdist(files.sdist1, PKG, '1.0');
      writeWheel(files.wheel2, { name: PKG, version: '2.0', files: { [`${MODULE}/__init__.py`]: "VERSION = '2.0'\n" } });
      upstream = await startNodeProcess();
      node = target(base());
      for (const [n, key, config] of [
        [target(upstream.base), 'up-local', { rclass: 'local' }],
        [node, 'py-local', { rclass: 'local' }],
        [node, 'py-remote', { rclass: 'remote', url: `${upstream.base}/api/pypi/up-local`, username: 'admin', password: ADMIN_PASSWORD }],
        [node, 'py-virtual', { rclass: 'virtual', repositories: ['py-local', 'py-remote'], defaultDeploymentRepo: 'py-local' }],
      ] as const) {
        const res = await api(n, 'PUT', `/api/repositories/${key}`, { packageType: 'pypi', ...config });
        expect(res.status, await res.text()).toBe(200);
      }
    }, 120_000);

    afterAll(async () => {
      await upstream?.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('accepts uploads from two multipart writers', async () => {
      const w = await formDataUpload(node, 'py-local', files.wheel1, PKG, '1.0');
      expect(w.status, w.text).toBe(200);
      const s = await pythonUpload(node, 'py-local', files.sdist1, `${MODULE}-1.0.tar.gz`, { ':action': 'file_upload', protocol_version: '1', name: PKG, version: '1.0', filetype: 'sdist', pyversion: 'source' });
      expect(s).toBe('200 OK');
      const up = await formDataUpload(target(upstream.base), 'up-local', files.wheel2, PKG, '2.0');
      expect(up.status, up.text).toBe(200);
      // A bigger wheel, streamed by the server through the zip scan into the store.
      const big = join(dir, wheelFilename('arca-e2e-big', '1.0'));
      writeWheel(big, { name: 'arca-e2e-big', version: '1.0', padBytes: 6 << 20, streamed: true });
      const b = await pythonUpload(node, 'py-local', big, wheelFilename('arca-e2e-big', '1.0'), { ':action': 'file_upload', name: 'arca-e2e-big', version: '1.0', filetype: 'bdist_wheel' });
      expect(b).toBe('200 OK');
      const info = (await (await api(node, 'GET', `/api/storage/py-local/arca-e2e-big/1.0/${wheelFilename('arca-e2e-big', '1.0')}`)).json()) as { checksums: { sha256: string } };
      expect(info.checksums.sha256).toBe(sha256Hex(readFileSync(big)));
    }, 90_000);

    it('pip install from the local repository', async () => {
      const target = join(dir, 'install-local');
      const r = await run('pip', ['--isolated', 'install', '--index-url', indexUrl(node, 'py-local'), '--no-cache-dir', '--target', target, `${PKG}==1.0`]);
      expect(r.code, r.out).toBe(0);
      expect(readFileSync(join(target, MODULE, '__init__.py'), 'utf8')).toBe("VERSION = '1.0'\n");
      // pip resolved from the PEP 658 metadata before downloading the wheel.
      expect(r.out).toMatch(/Obtaining dependency information for arca-e2e-demo==1\.0 from \S+\.whl\.metadata/);
      const distInfo = readdirSync(target).find((f) => f.endsWith('.dist-info'));
      expect(distInfo).toBe(`${MODULE}-1.0.dist-info`);
      expect(readFileSync(join(target, distInfo!, 'METADATA'), 'utf8')).toContain('Requires-Python: >=3.8');
    }, 150_000);

    it('pip download of the wheel and of the sdist, hashes checked by pip', async () => {
      const wheels = join(dir, 'dl-wheel');
      const w = await run('pip', ['--isolated', 'download', '--index-url', indexUrl(node, 'py-local'), '--no-cache-dir', '--no-deps', '--only-binary', ':all:', '-d', wheels, `${PKG}==1.0`]);
      expect(w.code, w.out).toBe(0);
      expect(readFileSync(join(wheels, wheelFilename(PKG, '1.0'))).equals(readFileSync(files.wheel1))).toBe(true);
      const sdists = join(dir, 'dl-sdist');
      // The sdist carries an in-tree build backend, so pip prepares its metadata offline.
      const s = await run('pip', ['--isolated', 'download', '--index-url', indexUrl(node, 'py-local'), '--no-cache-dir', '--no-deps', '--no-binary', ':all:', '-d', sdists, `${PKG}==1.0`]);
      expect(s.code, s.out).toBe(0);
      expect(readFileSync(join(sdists, `${MODULE}-1.0.tar.gz`)).equals(readFileSync(files.sdist1))).toBe(true);
      const target = join(dir, 'install-sdist');
      const i = await run('pip', ['--isolated', 'install', '--index-url', indexUrl(node, 'py-local'), '--no-cache-dir', '--no-binary', ':all:', '--target', target, `${PKG}==1.0`]);
      expect(i.code, i.out).toBe(0);
      expect(readFileSync(join(target, MODULE, '__init__.py'), 'utf8')).toContain('FROM_SDIST = True');
    }, 200_000);

    it('pip index versions, and install through a virtual repository with a remote member', async () => {
      const versions = await run('pip', ['--isolated', 'index', 'versions', '--index-url', indexUrl(node, 'py-virtual'), PKG]);
      expect(versions.code, versions.out).toBe(0);
      expect(versions.out).toMatch(/Available versions: 2\.0, 1\.0/);
      const target = join(dir, 'install-virtual');
      const r = await run('pip', ['--isolated', 'install', '--index-url', indexUrl(node, 'py-virtual'), '--no-cache-dir', '--target', target, PKG]);
      expect(r.code, r.out).toBe(0);
      expect(readFileSync(join(target, MODULE, '__init__.py'), 'utf8')).toBe("VERSION = '2.0'\n");
      // Cached by the remote member.
      const cached = await api(node, 'GET', `/api/storage/py-remote/${PKG}/2.0/${wheelFilename(PKG, '2.0')}`);
      expect(cached.status).toBe(200);
      const old = await run('pip', ['--isolated', 'download', '--index-url', indexUrl(node, 'py-virtual'), '--no-cache-dir', '--no-deps', '--only-binary', ':all:', '-d', join(dir, 'dl-virtual'), `${PKG}==1.0`]);
      expect(old.code, old.out).toBe(0);
      expect(existsSync(join(dir, 'dl-virtual', wheelFilename(PKG, '1.0')))).toBe(true);
    }, 200_000);

    it('refuses bad uploads with the reason in the status line and stores nothing', async () => {
      const fields = { ':action': 'file_upload', protocol_version: '1', name: PKG, version: '3.0', filetype: 'bdist_wheel', pyversion: 'py3' };
      const good = join(dir, wheelFilename(PKG, '3.0'));
      writeWheel(good, { name: PKG, version: '3.0' });
      const cases: [Record<string, string>, string, RegExp][] = [
        [fields, `${MODULE}-3.0.whl`, /^400 Invalid distribution file name: .*not a valid wheel file name/],
        [{ ...fields, sha256_digest: '0'.repeat(64) }, wheelFilename(PKG, '3.0'), /^400 The file does not match the digest sent with it/],
        [{ ...fields, name: 'someone-else' }, wheelFilename(PKG, '3.0'), /^400 The file .* belongs to project 'arca_e2e_demo', but the upload names project 'someone-else'/],
        [{ ...fields, version: '3.1' }, wheelFilename(PKG, '3.0'), /^400 The file .* has version '3.0', but the upload names version '3.1'/],
      ];
      for (const [f, filename, why] of cases) expect(await pythonUpload(node, 'py-local', good, filename, f)).toMatch(why);
      expect((await api(node, 'GET', `/api/storage/py-local/${PKG}/3.0`)).status).toBe(404);
      const versions = await run('pip', ['--isolated', 'index', 'versions', '--index-url', indexUrl(node, 'py-local'), PKG]);
      expect(versions.out).toMatch(/Available versions: 1\.0\s*$/m);
    }, 120_000);
  });
}

describeOnNodeAndCluster('pip', pipFlow);
