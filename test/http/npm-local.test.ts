import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packPackage, publishBody } from '../../src/formats/npm/testing/pack.js';
import { ADMIN_AUTH, basic, startTestNode, type TestNode } from '../helpers/node-context.js';

const REPO = 'npm-local';
const API = `/artifactory/api/npm/${REPO}`;
const ABBREVIATED = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*';

/** The npm protocol on a local repository, through app.inject (in-process node on SQLite). */
describe('npm local repository (inject)', () => {
  let node: TestNode;
  const put = (url: string, body: unknown, auth = ADMIN_AUTH) =>
    node.request({ method: 'PUT', url, headers: { 'content-type': 'application/json', authorization: auth }, payload: JSON.stringify(body) });

  beforeAll(async () => {
    node = await startTestNode();
    const res = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${REPO}`, payload: { rclass: 'local', packageType: 'npm' } });
    expect(res.statusCode).toBe(200);
  });
  afterAll(async () => {
    await node?.close();
  });

  it('publishes, then serves the full and the abbreviated packument with tarball URLs under the request host', async () => {
    const pkg = packPackage({ name: 'hello', version: '1.0.0', description: 'says hello', dependencies: { left: '^1.0.0' }, scripts: { test: 'x' } });
    const res = await put(`${API}/hello`, publishBody(pkg));
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ ok: true, id: 'hello' });

    const full = await node.request({ method: 'GET', url: `${API}/hello`, headers: { host: 'npm.example:8080' } });
    expect(full.statusCode).toBe(200);
    expect(full.headers['content-type']).toContain('application/json');
    const doc = full.json();
    expect(doc).toMatchObject({ _id: 'hello', name: 'hello', description: 'says hello', 'dist-tags': { latest: '1.0.0' } });
    expect(doc._rev).toMatch(/^1-/);
    const dist = doc.versions['1.0.0'].dist;
    expect(dist.tarball).toBe(`http://npm.example:8080/artifactory/api/npm/${REPO}/hello/-/hello-1.0.0.tgz`);
    expect(dist.shasum).toBe(createHash('sha1').update(pkg.tarball).digest('hex'));
    expect(doc.versions['1.0.0'].scripts).toEqual({ test: 'x' });

    const small = await node.request({ method: 'GET', url: `${API}/hello`, headers: { accept: ABBREVIATED } });
    expect(small.headers['content-type']).toContain('application/vnd.npm.install-v1+json');
    expect(small.json().versions['1.0.0']).toEqual({
      name: 'hello',
      version: '1.0.0',
      dependencies: { left: '^1.0.0' },
      dist: { ...dist, tarball: `http://localhost:80/artifactory/api/npm/${REPO}/hello/-/hello-1.0.0.tgz` },
    });
    expect(small.headers.vary).toBe('Accept');

    const again = await node.request({ method: 'GET', url: `${API}/hello`, headers: { accept: ABBREVIATED, 'if-none-match': small.headers.etag as string } });
    expect(again.statusCode).toBe(304);

    const tgz = await node.request({ method: 'GET', url: `${API}/hello/-/hello-1.0.0.tgz` });
    expect(tgz.statusCode).toBe(200);
    expect(tgz.rawPayload.equals(pkg.tarball)).toBe(true);
    // Stored where Artifactory keeps it, visible through the generic API too.
    const generic = await node.request({ method: 'GET', url: `/artifactory/${REPO}/hello/-/hello-1.0.0.tgz` });
    expect(generic.rawPayload.equals(pkg.tarball)).toBe(true);
  });

  it('answers HEAD for packuments and tarballs with lengths and no body', async () => {
    const doc = await node.request({ method: 'HEAD', url: `${API}/hello` });
    expect(doc.statusCode).toBe(200);
    expect(Number(doc.headers['content-length'])).toBeGreaterThan(100);
    expect(doc.body).toBe('');
    const tgz = await node.request({ method: 'HEAD', url: `${API}/hello/-/hello-1.0.0.tgz` });
    expect(tgz.statusCode).toBe(200);
    expect(tgz.headers['x-checksum-sha1']).toMatch(/^[0-9a-f]{40}$/);
    expect(tgz.body).toBe('');
    expect((await node.request({ method: 'HEAD', url: `${API}/hello/-/hello-7.0.0.tgz` })).statusCode).toBe(404);
  });

  it('serves one version by number or dist-tag', async () => {
    const byTag = await node.request({ method: 'GET', url: `${API}/hello/latest` });
    expect(byTag.statusCode).toBe(200);
    expect(byTag.json()).toMatchObject({ name: 'hello', version: '1.0.0' });
    expect((await node.request({ method: 'GET', url: `${API}/hello/9.9.9` })).statusCode).toBe(404);
  });

  it('refuses to publish over an existing version, and stores nothing for a bad publish', async () => {
    const again = await put(`${API}/hello`, publishBody(packPackage({ name: 'hello', version: '1.0.0', description: 'other' })));
    expect(again.statusCode).toBe(403);
    expect(again.json().error).toContain('cannot publish over the previously published version 1.0.0');

    const body = publishBody(packPackage({ name: 'broken', version: '1.0.0' }));
    (body.versions as Record<string, { dist: Record<string, string> }>)['1.0.0'].dist.integrity = 'sha512-' + Buffer.alloc(64).toString('base64');
    const bad = await put(`${API}/broken`, body);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: expect.stringContaining('Integrity mismatch for broken@1.0.0') });
    expect((await node.request({ method: 'GET', url: `${API}/broken` })).statusCode).toBe(404);
    expect((await node.request({ method: 'GET', url: `/artifactory/${REPO}/broken/-/broken-1.0.0.tgz` })).statusCode).toBe(404);

    const mismatch = await put(`${API}/other-name`, publishBody(packPackage({ name: 'hello', version: '2.0.0' })));
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.json().error).toContain("does not match the URL ('other-name')");
  });

  it('answers npm errors for unknown packages, bad JSON and bad names', async () => {
    const missing = await node.request({ method: 'GET', url: `${API}/nope` });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: 'Package nope not found' });
    const json = await node.request({ method: 'PUT', url: `${API}/x`, headers: { 'content-type': 'application/json' }, payload: '{oops' });
    expect(json.statusCode).toBe(400);
    expect(json.json().error).toContain('Invalid JSON body');
    const name = await node.request({ method: 'GET', url: `${API}/..%2fetc` });
    expect(name.statusCode).toBe(400);
    expect(name.json().error).toContain('Invalid package name');
  });

  it('asks for credentials in npm shape', async () => {
    const res = await node.request({ method: 'GET', url: `${API}/hello`, headers: { authorization: '' } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: expect.stringContaining('Authentication is required') });
    const bad = await node.request({ method: 'GET', url: `${API}/hello`, headers: { authorization: basic('admin', 'wrong') } });
    expect(bad.statusCode).toBe(401);
  });
});
