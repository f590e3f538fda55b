import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startListeningNode } from '../../src/formats/testing/conformance-node.js';
import type { ConformanceNode } from '../../src/formats/testing/format-conformance.js';
import { ADMIN_PASSWORD } from '../helpers/credentials.js';
import { DEBIAN_PIP_DIR, debianPipVenv, missingDebianClients, run } from '../helpers/debian-python.js';
import { FakeUpstream } from '../helpers/fake-upstream.js';
import { multipartBody, sha256Hex, twineFields, wheelFilename, writeSdist, writeWheel } from '../helpers/pypi-fixtures.js';

/** Debian's own clients (python3-pip, python3-venv, twine; .ci/run installs them): without them their tests are skipped, saying why. */
const MISSING_CLIENTS = missingDebianClients();
if (MISSING_CLIENTS) console.warn(`[12-pip-core-metadata] Debian's client tests are skipped: ${MISSING_CLIENTS}`);

/**
 * Issue 12, item 12: pip 22.3 to 23.1 (Debian 12's pip 23.0.1) crash on a PEP 691 page that
 * carries `dist-info-metadata`. Every simple page (local, remote, virtual; JSON and HTML)
 * offers metadata only under the PEP 714 names, and files without metadata carry no key.
 * Then Debian's own pip downloads a wheel and an sdist through each kind of repository.
 */

const JSON_TYPE = 'application/vnd.pypi.simple.v1+json';
const PKG = 'sec-twelve';
const REMOTE_PKG = 'sec-twelve-remote';

interface JsonFile {
  filename: string;
  [key: string]: unknown;
}

describe('item 12: simple pages speak PEP 714, and Debian pip 23.0.1 reads them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'arca-sec12-'));
  let node: ConformanceNode;
  const upstream = new FakeUpstream();
  const wheel = join(dir, wheelFilename(PKG, '1.0'));
  const sdist = join(dir, `sec_twelve-1.0.tar.gz`);
  const remoteWheel = join(dir, wheelFilename(REMOTE_PKG, '2.0'));
  const remoteSdist = 'sec_twelve_remote-2.0.tar.gz';
  let remoteMetadata: Buffer;

  const call = (path: string, init: RequestInit = {}) => fetch(`${node.base}${path}`, { ...init, headers: { authorization: node.auth, ...(init.headers ?? {}) } });
  const page = async (repo: string, project: string, accept: string) => {
    const res = await call(`/api/pypi/${repo}/simple/${project}/`, { headers: { accept } });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    return text;
  };
  const indexUrl = (repo: string) => `${node.base.replace('://', `://admin:${encodeURIComponent(ADMIN_PASSWORD)}@`)}/api/pypi/${repo}/simple/`;

  beforeAll(async () => {
    writeWheel(wheel, { name: PKG, version: '1.0', requiresPython: '>=3.8' });
    writeSdist(sdist, PKG, '1.0');
    writeWheel(remoteWheel, { name: REMOTE_PKG, version: '2.0' });
    remoteMetadata = execFileSync('python3', ['-c', 'import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); sys.stdout.buffer.write(z.read([n for n in z.namelist() if n.endswith(".dist-info/METADATA")][0]))', remoteWheel]);
    await upstream.start();
    // Another index as PyPI served it before PEP 714: the legacy key, `false` for an sdist.
    const wheelUrl = `${upstream.url}/packages/${wheelFilename(REMOTE_PKG, '2.0')}`;
    upstream.on(`/simple/${REMOTE_PKG}/`, {
      status: 200,
      headers: { 'content-type': JSON_TYPE },
      body: JSON.stringify({
        meta: { 'api-version': '1.0' },
        name: REMOTE_PKG,
        files: [
          { filename: wheelFilename(REMOTE_PKG, '2.0'), url: wheelUrl, hashes: { sha256: sha256Hex(readFileSync(remoteWheel)) }, 'dist-info-metadata': { sha256: sha256Hex(remoteMetadata) } },
          { filename: remoteSdist, url: `${upstream.url}/packages/${remoteSdist}`, hashes: {}, 'dist-info-metadata': false, 'core-metadata': false },
        ],
      }),
    });
    upstream.on(`/packages/${wheelFilename(REMOTE_PKG, '2.0')}`, { status: 200, body: readFileSync(remoteWheel) });
    upstream.on(`/packages/${wheelFilename(REMOTE_PKG, '2.0')}.metadata`, { status: 200, body: remoteMetadata });

    node = await startListeningNode();
    for (const [key, config] of [
      ['py-local', { rclass: 'local' }],
      ['py-remote', { rclass: 'remote', url: upstream.url }],
      ['py-virtual', { rclass: 'virtual', repositories: ['py-local', 'py-remote'], defaultDeploymentRepo: 'py-local' }],
    ] as const) {
      const res = await call(`/api/repositories/${key}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ packageType: 'pypi', ...config }) });
      expect(res.status, await res.text()).toBe(200);
    }
    for (const [path, kind] of [[wheel, 'bdist_wheel'], [sdist, 'sdist']] as const) {
      const content = readFileSync(path);
      const form = multipartBody({ fields: twineFields(PKG, '1.0', content, kind), filename: path.slice(dir.length + 1), content });
      const res = await call('/api/pypi/py-local', { method: 'POST', headers: { 'content-type': form.contentType }, body: form.body });
      expect(res.status, await res.text()).toBe(200);
    }
  }, 60_000);

  afterAll(async () => {
    await node?.close();
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const cases = [
    ['local', 'py-local', PKG],
    ['virtual', 'py-virtual', PKG],
    ['remote', 'py-remote', REMOTE_PKG],
    ['virtual (remote member)', 'py-virtual', REMOTE_PKG],
  ] as const;

  it.each(cases)('%s: the JSON page offers metadata as core-metadata only, and no key for files without it', async (_label, repo, project) => {
    const text = await page(repo, project, JSON_TYPE);
    expect(text).not.toContain('dist-info-metadata');
    const files = (JSON.parse(text) as { files: JsonFile[] }).files;
    const whl = files.find((f) => f.filename.endsWith('.whl'))!;
    const tgz = files.find((f) => f.filename.endsWith('.tar.gz'))!;
    expect(whl['core-metadata']).toEqual({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(Object.keys(tgz)).not.toContain('core-metadata');
    // The hash offered is the hash of what `{url}.metadata` serves.
    const meta = await call(`/api/pypi/${repo}/simple/${project}/${String(whl.url)}.metadata`);
    expect(meta.status).toBe(200);
    expect(sha256Hex(Buffer.from(await meta.arrayBuffer()))).toBe((whl['core-metadata'] as { sha256: string }).sha256);
  });

  it.each(cases)('%s: the HTML page carries data-core-metadata only', async (_label, repo, project) => {
    const html = await page(repo, project, 'text/html');
    expect(html).not.toContain('dist-info-metadata');
    expect(html).toMatch(/\.whl#sha256=[0-9a-f]{64}"[^>]* data-core-metadata="sha256=[0-9a-f]{64}">/);
    const sdistLink = html.split('\n').find((l) => l.includes('.tar.gz'));
    expect(sdistLink).toBeDefined();
    expect(sdistLink).not.toContain('metadata');
  });

  describe.skipIf(MISSING_CLIENTS !== undefined)("Debian's pip 23.0.1", () => {
    let python = '';
    beforeAll(() => {
      const venv = debianPipVenv(join(dir, 'venv'));
      python = venv.python;
      expect(venv.version).toMatch(new RegExp(`^pip 23\\.0\\.1 from ${DEBIAN_PIP_DIR}`));
    });

    const download = (repo: string, spec: string, binary: 'only' | 'no', into: string) =>
      run(python, ['-m', 'pip', '--isolated', 'download', '--no-cache-dir', '--no-deps', '--index-url', indexUrl(repo), binary === 'only' ? '--only-binary' : '--no-binary', ':all:', '-d', join(dir, into), spec]);

    it.each([
      ['local', 'py-local'],
      ['virtual', 'py-virtual'],
    ])('downloads a wheel and an sdist from the %s repository', async (_label, repo) => {
      const w = await download(repo, `${PKG}==1.0`, 'only', `${repo}-whl`);
      expect(w.code, w.out).toBe(0);
      expect(readFileSync(join(dir, `${repo}-whl`, wheelFilename(PKG, '1.0'))).equals(readFileSync(wheel))).toBe(true);
      const s = await download(repo, `${PKG}==1.0`, 'no', `${repo}-sdist`);
      expect(s.code, s.out).toBe(0);
      expect(existsSync(join(dir, `${repo}-sdist`, 'sec_twelve-1.0.tar.gz'))).toBe(true);
    }, 120_000);

    it('downloads a wheel through the remote repository', async () => {
      const w = await download('py-remote', `${REMOTE_PKG}==2.0`, 'only', 'remote-whl');
      expect(w.code, w.out).toBe(0);
      expect(readFileSync(join(dir, 'remote-whl', wheelFilename(REMOTE_PKG, '2.0'))).equals(readFileSync(remoteWheel))).toBe(true);
    }, 120_000);
  });
});
