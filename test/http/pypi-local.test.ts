import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, startTestNode, type TestNode } from '../helpers/node-context.js';
import { multipartBody, sha256Hex, twineFields, wheelFilename, writeSdist, writeWheel } from '../helpers/pypi-fixtures.js';

const JSON_TYPE = 'application/vnd.pypi.simple.v1+json';
const PIP_ACCEPT = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';

/** The PyPI API of a local repository through app.inject(): upload, pages, downloads, errors. */
describe('PyPI local repository', () => {
  let node: TestNode;
  const dir = mkdtempSync(join(tmpdir(), 'arca-pypi-http-'));
  writeWheel(join(dir, 'a.whl'), { name: 'Friendly.Bard', version: '1.0', requiresPython: '>=3.8,<4', summary: 'Hi' });
  const wheel = readFileSync(join(dir, 'a.whl'));
  const wheelName = wheelFilename('Friendly.Bard', '1.0');
  writeSdist(join(dir, 'a.tar.gz'), 'Friendly.Bard', '1.0');
  const sdist = readFileSync(join(dir, 'a.tar.gz'));
  const sdistName = 'friendly_bard-1.0.tar.gz';

  const upload = (repo: string, fields: [string, string][], filename: string, content: Buffer, authorization?: string) => {
    const { body, contentType } = multipartBody({ fields, filename, content });
    return node.request({ method: 'POST', url: `/artifactory/api/pypi/${repo}`, headers: { 'content-type': contentType, ...(authorization === undefined ? {} : { authorization }) }, payload: body });
  };
  const get = (url: string, headers: Record<string, string> = {}) => node.request({ method: 'GET', url, headers });
  const stored = async (path: string) => (await get(`/artifactory/api/storage/pypi-local/${path}`)).statusCode;

  beforeAll(async () => {
    node = await startTestNode();
    for (const [key, type] of [['pypi-local', 'pypi'], ['generic-local', 'generic']]) {
      const res = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'local', packageType: type } });
      expect(res.statusCode).toBe(200);
    }
  });
  afterAll(async () => {
    await node?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts a wheel and an sdist from the twine form', async () => {
    const w = await upload('pypi-local', twineFields('Friendly.Bard', '1.0', wheel, 'bdist_wheel', [['requires_python', '>=3.8,<4']]), wheelName, wheel);
    expect(w.statusCode, w.body).toBe(200);
    const s = await upload('pypi-local/', twineFields('Friendly.Bard', '1.0', sdist, 'sdist'), sdistName, sdist);
    expect(s.statusCode, s.body).toBe(200);
    expect(await stored(`friendly-bard/1.0/${wheelName}`)).toBe(200);
    expect(await stored(`friendly-bard/1.0/${wheelName}.metadata`)).toBe(200);
    const props = await get(`/artifactory/api/storage/pypi-local/friendly-bard/1.0/${wheelName}?properties`);
    expect(props.json().properties).toMatchObject({ 'pypi.name': ['Friendly.Bard'], 'pypi.normalized.name': ['friendly-bard'], 'pypi.version': ['1.0'], 'pypi.requires_python': ['>=3.8,<4'] });
  });

  it('serves the project page as PEP 691 JSON to pip, with hashes, requires-python and core metadata', async () => {
    const res = await get('/artifactory/api/pypi/pypi-local/simple/friendly-bard/', { accept: PIP_ACCEPT });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(JSON_TYPE);
    expect(res.headers.vary).toBe('Accept');
    const page = res.json();
    expect(page.meta['api-version']).toBe('1.1');
    expect(page.name).toBe('friendly-bard');
    expect(page.versions).toEqual(['1.0']);
    const whl = page.files.find((f: { filename: string }) => f.filename === wheelName);
    expect(whl).toMatchObject({ url: `../../packages/friendly-bard/1.0/${wheelName}`, hashes: { sha256: sha256Hex(wheel) }, 'requires-python': '>=3.8,<4', size: wheel.length, yanked: false });
    const meta = await get(`/artifactory/api/pypi/pypi-local/packages/friendly-bard/1.0/${wheelName}.metadata`);
    expect(meta.statusCode).toBe(200);
    expect(meta.body).toContain('Name: Friendly.Bard');
    expect(whl['core-metadata']).toEqual({ sha256: sha256Hex(meta.rawPayload) });
    // PEP 714: only the new name; a file without metadata has no key.
    expect(Object.keys(whl)).not.toContain('dist-info-metadata');
    const tgz = page.files.find((f: { filename: string }) => f.filename === sdistName);
    expect(tgz).toMatchObject({ hashes: { sha256: sha256Hex(sdist) } });
    expect(Object.keys(tgz)).not.toContain('core-metadata');
  });

  it('serves PEP 503 HTML by default, requires-python escaped', async () => {
    const res = await get('/artifactory/api/pypi/pypi-local/simple/friendly-bard/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain(`href="../../packages/friendly-bard/1.0/${wheelName}#sha256=${sha256Hex(wheel)}"`);
    expect(res.body).toContain('data-requires-python="&gt;=3.8,&lt;4"');
    expect(res.body).toMatch(/ data-core-metadata="sha256=[0-9a-f]{64}">/);
    expect(res.body).not.toContain('data-dist-info-metadata');
    const v1html = await get('/artifactory/api/pypi/pypi-local/simple/friendly-bard/', { accept: 'application/vnd.pypi.simple.v1+html' });
    expect(v1html.headers['content-type']).toBe('application/vnd.pypi.simple.v1+html; charset=utf-8');
    const head = await node.request({ method: 'HEAD', url: '/artifactory/api/pypi/pypi-local/simple/friendly-bard/' });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
  });

  it('serves the root index in both formats', async () => {
    const html = await get('/artifactory/api/pypi/pypi-local/simple/');
    expect(html.body).toContain('<a href="friendly-bard/">friendly-bard</a>');
    const json = await get('/artifactory/api/pypi/pypi-local/simple/?format=application/vnd.pypi.simple.latest%2Bjson');
    expect(json.json().projects).toEqual([{ name: 'friendly-bard' }]);
  });

  it('redirects to the normalised URL', async () => {
    const cases: [string, string][] = [
      ['/artifactory/api/pypi/pypi-local/simple/Friendly_Bard/', '../friendly-bard/'],
      ['/artifactory/api/pypi/pypi-local/simple/Friendly.Bard', 'friendly-bard/'],
      ['/artifactory/api/pypi/pypi-local/simple/friendly-bard', 'friendly-bard/'],
      ['/artifactory/api/pypi/pypi-local/simple/FRIENDLY-bard/?format=text/html', '../friendly-bard/?format=text/html'],
      ['/artifactory/api/pypi/pypi-local/simple', 'simple/'],
    ];
    for (const [url, location] of cases) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(301);
      expect(res.headers.location, url).toBe(location);
    }
  });

  it('answers 406 for types it does not serve and 404 for unknown projects', async () => {
    const res = await get('/artifactory/api/pypi/pypi-local/simple/friendly-bard/', { accept: 'application/json' });
    expect(res.statusCode).toBe(406);
    expect(res.body).toContain('application/vnd.pypi.simple.v1+json');
    expect((await get('/artifactory/api/pypi/pypi-local/simple/friendly-bard/?format=text/plain')).statusCode).toBe(406);
    const missing = await get('/artifactory/api/pypi/pypi-local/simple/nothing-here/');
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toContain('text/plain');
    expect(missing.body).toContain("No project 'nothing-here'");
    expect((await get('/artifactory/api/pypi/pypi-local/simple/-bad-/')).statusCode).toBe(404);
    expect((await get('/artifactory/api/pypi/pypi-local/packages/friendly-bard/9.9/x.whl')).statusCode).toBe(404);
    expect((await get('/artifactory/api/pypi/nope/simple/')).statusCode).toBe(404);
    const generic = await get('/artifactory/api/pypi/generic-local/simple/');
    expect(generic.statusCode).toBe(400);
    expect(generic.body).toContain('not a PyPI repository');
  });

  it('downloads files with the JFrog checksum headers', async () => {
    const res = await get(`/artifactory/api/pypi/pypi-local/packages/friendly-bard/1.0/${wheelName}`);
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(wheel)).toBe(true);
    expect(res.headers['x-checksum-sha256']).toBe(sha256Hex(wheel));
    // The same file through the generic repository path.
    const generic = await get(`/artifactory/pypi-local/friendly-bard/1.0/${wheelName}`);
    expect(generic.rawPayload.equals(wheel)).toBe(true);
  });

  it('handles local versions (+) in file names and links, and refuses path tricks', async () => {
    writeWheel(join(dir, 'l.whl'), { name: 'local-ver', version: '1.0+cpu.1' });
    const data = readFileSync(join(dir, 'l.whl'));
    const name = wheelFilename('local-ver', '1.0+cpu.1');
    const up = await upload('pypi-local', twineFields('local-ver', '1.0+cpu.1', data, 'bdist_wheel'), name, data);
    expect(up.statusCode, up.body).toBe(200);
    const page = (await get('/artifactory/api/pypi/pypi-local/simple/local-ver/', { accept: JSON_TYPE })).json();
    expect(page.files[0].url).toBe('../../packages/local-ver/1.0%2Bcpu.1/local_ver-1.0%2Bcpu.1-py3-none-any.whl');
    const file = await get(`/artifactory/api/pypi/pypi-local/packages/local-ver/1.0%2Bcpu.1/local_ver-1.0%2Bcpu.1-py3-none-any.whl`);
    expect(file.statusCode).toBe(200);
    expect(file.rawPayload.equals(data)).toBe(true);
    for (const trick of ['packages/local-ver/..%2F..%2Fx', 'packages/local-ver/a%5Cb', 'packages/local-ver/%00x']) {
      const res = await get(`/artifactory/api/pypi/pypi-local/${trick}`);
      expect(res.statusCode, trick).toBe(400);
    }
  });

  it('refuses bad uploads with a plain-text 400 that names the problem, and stores nothing', async () => {
    writeWheel(join(dir, 'b.whl'), { name: 'bad-one', version: '2.0' });
    const good = readFileSync(join(dir, 'b.whl'));
    const name = wheelFilename('bad-one', '2.0');
    const fields = twineFields('bad-one', '2.0', good, 'bdist_wheel');
    const set = (k: string, v: string) => fields.map(([a, b]): [string, string] => [a, a === k ? v : b]);
    const cases: [[string, string][], string, Buffer, RegExp][] = [
      [fields, 'bad_one-2.0.whl', good, /Invalid distribution file name/],
      [fields, 'bad_one-2.0-py3-none-any.whl.exe', good, /Invalid distribution file name/],
      [set('sha256_digest', sha256Hex('something else')), name, good, /does not match the digest sent with it/],
      [set('md5_digest', '0'.repeat(32)), name, good, /does not match the digest/],
      [set('name', 'other-project'), name, good, /belongs to project 'bad_one', but the upload names project 'other-project'/],
      [set('version', '2.1'), name, good, /has version '2.0', but the upload names version '2.1'/],
      [fields, name, Buffer.from('not a zip'), /not a valid wheel/],
    ];
    for (const [f, filename, content, why] of cases) {
      const res = await upload('pypi-local', f, filename, content);
      expect(res.statusCode, String(why)).toBe(400);
      expect(res.headers['content-type']).toContain('text/plain');
      expect(res.body).toMatch(why);
      expect(res.statusMessage).toMatch(why);
    }
    const notMultipart = await node.request({ method: 'POST', url: '/artifactory/api/pypi/pypi-local', headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(notMultipart.statusCode).toBe(400);
    expect(notMultipart.body).toContain('multipart/form-data');
    expect(await stored('bad-one')).toBe(404);
    expect((await get('/artifactory/api/pypi/pypi-local/simple/bad-one/')).statusCode).toBe(404);
  });

  it('asks for credentials (401 + WWW-Authenticate) and enforces deploy permission', async () => {
    const anon = await upload('pypi-local', twineFields('Friendly.Bard', '1.0', wheel, 'bdist_wheel'), wheelName, wheel, '');
    expect(anon.statusCode).toBe(401);
    expect(anon.headers['www-authenticate']).toContain('Basic');
    const user = await node.request({ method: 'PUT', url: '/artifactory/api/security/users/reader', payload: { email: 'r@example.com', password: 'Reader-Passw0rd!' } });
    expect(user.statusCode).toBeLessThan(300);
    const perm = await node.request({
      method: 'PUT',
      url: '/artifactory/api/security/permissions/readers',
      payload: { name: 'readers', repositories: ['pypi-local'], principals: { users: { reader: ['r'] } } },
    });
    expect(perm.statusCode).toBeLessThan(300);
    const auth = basic('reader', 'Reader-Passw0rd!');
    expect((await get('/artifactory/api/pypi/pypi-local/simple/friendly-bard/', { authorization: auth })).statusCode).toBe(200);
    writeWheel(join(dir, 'c.whl'), { name: 'readers-cannot', version: '1.0' });
    const c = readFileSync(join(dir, 'c.whl'));
    const denied = await upload('pypi-local', twineFields('readers-cannot', '1.0', c, 'bdist_wheel'), wheelFilename('readers-cannot', '1.0'), c, auth);
    expect(denied.statusCode).toBe(403);
    expect(await stored('readers-cannot')).toBe(404);
  });

  it('deletes a wheel together with its .metadata', async () => {
    const res = await node.request({ method: 'DELETE', url: `/artifactory/pypi-local/friendly-bard/1.0/${wheelName}` });
    expect(res.statusCode).toBe(204);
    expect(await stored(`friendly-bard/1.0/${wheelName}.metadata`)).toBe(404);
    const page = (await get('/artifactory/api/pypi/pypi-local/simple/friendly-bard/', { accept: JSON_TYPE })).json();
    expect(page.files.map((f: { filename: string }) => f.filename)).toEqual([sdistName]);
  });
});
