import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumsOf } from '../../src/core/digests.js';
import { pathKey } from '../../src/db/items.js';
import { DIALECTS } from '../helpers/databases.js';
import { startTestNode, type TestNode } from '../helpers/node-context.js';
import { raw } from '../helpers/raw-http.js';

const BASE = 'http://localhost:80/artifactory';
const STORAGE = 'application/vnd.org.jfrog.artifactory.storage.';

describe.each(DIALECTS)('storage API: item info and lists on %s', (dialect) => {
  let node: TestNode;

  async function deploy(repo: string, path: string, body: string) {
    const res = await node.request({ method: 'PUT', url: `/artifactory/${repo}/${path}`, payload: body });
    expect(res.statusCode, res.body).toBe(201);
  }

  async function setModified(repo: string, path: string, ms: number) {
    await node.ctx.database.db.updateTable('items').set({ modified: ms }).where('path_key', '=', pathKey(repo, path)).execute();
  }

  const get = (url: string, headers?: Record<string, string>) => node.request({ method: 'GET', url, headers });

  beforeAll(async () => {
    node = await startTestNode(dialect);
    for (const key of ['info-local', 'empty-local']) {
      const res = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'local', packageType: 'generic' } });
      expect(res.statusCode).toBe(200);
    }
    await deploy('info-local', 'org/acme/app/1.0/app-1.0.jar', 'jar-content');
    await deploy('info-local', 'org/acme/app/1.0/app-1.0.pom', '<project/>');
    await deploy('info-local', 'org/acme/doc.txt', 'hello docs');
    await deploy('info-local', 'org/acme-tools/tool.bin', 'tool');
    await deploy('info-local', 'top.txt', 'top');
  });
  afterAll(async () => {
    await node?.close();
  });

  it('answers file info with the FileInfo media type and the deploy checksums', async () => {
    const res = await get('/artifactory/api/storage/info-local/org/acme/doc.txt');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain(`${STORAGE}FileInfo+json`);
    const sums = checksumsOf(Buffer.from('hello docs'));
    const body = res.json();
    expect(body).toMatchObject({
      repo: 'info-local',
      path: '/org/acme/doc.txt',
      createdBy: 'admin',
      modifiedBy: 'admin',
      size: '10',
      mimeType: 'text/plain',
      downloadUri: `${BASE}/info-local/org/acme/doc.txt`,
      uri: `${BASE}/api/storage/info-local/org/acme/doc.txt`,
      checksums: { sha1: sums.sha1, md5: sums.md5, sha256: sums.sha256 },
    });
    expect(Date.parse(body.created)).not.toBeNaN();
    expect(Date.parse(body.lastUpdated)).not.toBeNaN();
    expect(body.children).toBeUndefined();
  });

  it('answers folder info with its readable children', async () => {
    const res = await get('/artifactory/api/storage/info-local/org/acme');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain(`${STORAGE}FolderInfo+json`);
    expect(res.json()).toMatchObject({
      repo: 'info-local',
      path: '/org/acme',
      uri: `${BASE}/api/storage/info-local/org/acme`,
      children: [
        { uri: '/app', folder: true },
        { uri: '/doc.txt', folder: false },
      ],
    });
    const slash = await get('/artifactory/api/storage/info-local/org/acme/');
    expect(slash.json().children).toHaveLength(2);
  });

  it('treats the repository root as a folder', async () => {
    for (const url of ['/artifactory/api/storage/info-local', '/artifactory/api/storage/info-local/']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toContain(`${STORAGE}FolderInfo+json`);
      expect(res.json()).toMatchObject({
        repo: 'info-local',
        path: '/',
        uri: `${BASE}/api/storage/info-local`,
        children: [
          { uri: '/org', folder: true },
          { uri: '/top.txt', folder: false },
        ],
      });
    }
    expect((await get('/artifactory/api/storage/empty-local')).json().children).toEqual([]);
  });

  it('answers 404 for a missing item or repository and 400 for traversal', async () => {
    const missing = await get('/artifactory/api/storage/info-local/org/nope.txt');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().errors[0].status).toBe(404);
    expect((await get('/artifactory/api/storage/no-such-repo/x')).statusCode).toBe(404);
    expect((await get('/artifactory/api/storage/no-such-repo')).statusCode).toBe(404);
  });

  it('answers 400 for traversal sent verbatim over a socket', async () => {
    // inject() normalises `..` away (WHATWG URL), so these go through a real listener.
    const address = await node.app.listen({ port: 0, host: '127.0.0.1' });
    for (const path of [
      '/artifactory/api/storage/info-local/org/../../x',
      '/artifactory/api/storage/info-local/org/%2e%2e/%2e%2e/x',
      '/artifactory/api/storage/info-local/a/%2E%2E/top.txt?list',
      '/artifactory/api/storage/info-local/org/%2e%2e?properties=a=b',
    ]) {
      const method = path.includes('properties') ? 'PUT' : 'GET';
      const res = await raw(address, { method, path });
      expect(res.status, path).toBe(400);
      expect(res.json().errors[0].status).toBe(400);
    }
  });

  it('lists the files of a folder flat by default (folders left out)', async () => {
    const res = await get('/artifactory/api/storage/info-local/org/acme?list');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain(`${STORAGE}FileList+json`);
    const body = res.json();
    expect(body.uri).toBe(`${BASE}/api/storage/info-local/org/acme`);
    expect(Date.parse(body.created)).not.toBeNaN();
    const sums = checksumsOf(Buffer.from('hello docs'));
    expect(body.files).toEqual([
      { uri: '/doc.txt', size: 10, lastModified: expect.any(String), folder: false, sha1: sums.sha1, sha2: sums.sha256 },
    ]);
  });

  it('accepts every spelling of the list flag', async () => {
    for (const q of ['list', 'list=', 'list=true', 'list=1']) {
      const res = await get(`/artifactory/api/storage/info-local/org/acme?${q}`);
      expect(res.json().files, q).toHaveLength(1);
    }
    // list=false is not a list request: plain folder info comes back
    expect((await get('/artifactory/api/storage/info-local/org/acme?list=false')).json().children).toHaveLength(2);
  });

  it('lists deep, with folders, in tree order, limited by depth', async () => {
    const deep = await get('/artifactory/api/storage/info-local/org?list&deep=1');
    expect(deep.json().files.map((f: { uri: string }) => f.uri)).toEqual([
      '/acme/app/1.0/app-1.0.jar',
      '/acme/app/1.0/app-1.0.pom',
      '/acme/doc.txt',
      '/acme-tools/tool.bin',
    ]);
    const withFolders = await get('/artifactory/api/storage/info-local/org?list=true&deep=1&listFolders=1');
    const files = withFolders.json().files;
    expect(files.map((f: { uri: string }) => f.uri)).toEqual([
      '/acme',
      '/acme/app',
      '/acme/app/1.0',
      '/acme/app/1.0/app-1.0.jar',
      '/acme/app/1.0/app-1.0.pom',
      '/acme/doc.txt',
      '/acme-tools',
      '/acme-tools/tool.bin',
    ]);
    expect(files[0]).toEqual({ uri: '/acme', size: -1, lastModified: expect.any(String), folder: true });
    const depth2 = await get('/artifactory/api/storage/info-local/org?list&deep=1&depth=2&listFolders=1');
    expect(depth2.json().files.map((f: { uri: string }) => f.uri)).toEqual(['/acme', '/acme/app', '/acme/doc.txt', '/acme-tools', '/acme-tools/tool.bin']);
    const rootDeep = await get('/artifactory/api/storage/info-local?list&deep=1&depth=1');
    expect(rootDeep.json().files.map((f: { uri: string }) => f.uri)).toEqual(['/top.txt']);
    expect((await get('/artifactory/api/storage/info-local?list&deep=1&depth=x')).statusCode).toBe(400);
  });

  it('puts the listed folder first with includeRootPath and listFolders', async () => {
    const res = await get('/artifactory/api/storage/info-local/org/acme-tools?list&deep=1&listFolders=1&includeRootPath=1');
    expect(res.json().files).toEqual([
      { uri: '/', size: -1, lastModified: expect.any(String), folder: true },
      { uri: '/tool.bin', size: 4, lastModified: expect.any(String), folder: false, sha1: expect.any(String), sha2: expect.any(String) },
    ]);
    const noFolders = await get('/artifactory/api/storage/info-local/org/acme-tools?list&deep=1&includeRootPath=1');
    expect(noFolders.json().files.map((f: { uri: string }) => f.uri)).toEqual(['/tool.bin']);
  });

  it('adds mdTimestamps for items with properties when asked', async () => {
    const put = await node.request({ method: 'PUT', url: '/artifactory/api/storage/info-local/org/acme/doc.txt?properties=team=docs' });
    expect(put.statusCode).toBe(204);
    const res = await get('/artifactory/api/storage/info-local/org/acme?list&mdTimestamps=1&listFolders=1');
    const [app, doc] = res.json().files;
    expect(app.mdTimestamps).toBeUndefined();
    expect(Date.parse(doc.mdTimestamps.properties)).not.toBeNaN();
    const without = await get('/artifactory/api/storage/info-local/org/acme?list');
    expect(without.json().files[0].mdTimestamps).toBeUndefined();
  });

  it('refuses a list of a file (400), a missing folder (404) and anonymous callers (401)', async () => {
    expect((await get('/artifactory/api/storage/info-local/top.txt?list')).statusCode).toBe(400);
    expect((await get('/artifactory/api/storage/info-local/nothing?list')).statusCode).toBe(404);
    await node.ctx.settings.update({ anonAccessEnabled: true });
    try {
      const anon = await get('/artifactory/api/storage/info-local/org?list', { authorization: '' });
      expect(anon.statusCode).toBe(401);
      expect(anon.headers['www-authenticate']).toContain('Basic');
    } finally {
      await node.ctx.settings.update({ anonAccessEnabled: false });
    }
  });

  it('answers lastModified with the newest file below a folder', async () => {
    const t0 = Date.UTC(2025, 0, 1);
    await setModified('info-local', 'org/acme/app/1.0/app-1.0.jar', t0 + 5000);
    await setModified('info-local', 'org/acme/app/1.0/app-1.0.pom', t0 + 1000);
    await setModified('info-local', 'org/acme/doc.txt', t0 + 2000);
    const res = await get('/artifactory/api/storage/info-local/org/acme?lastModified');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain(`${STORAGE}ItemLastModified+json`);
    expect(res.json()).toEqual({ uri: `${BASE}/api/storage/info-local/org/acme/app/1.0/app-1.0.jar`, lastModified: new Date(t0 + 5000).toISOString() });
    const file = await get('/artifactory/api/storage/info-local/org/acme/doc.txt?lastModified');
    expect(file.json()).toEqual({ uri: `${BASE}/api/storage/info-local/org/acme/doc.txt`, lastModified: new Date(t0 + 2000).toISOString() });
    expect((await get('/artifactory/api/storage/info-local/nope?lastModified')).statusCode).toBe(404);
  });

  it('answers the caller’s effective permissions', async () => {
    const res = await get('/artifactory/api/storage/info-local/org/acme/doc.txt?permissions');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      uri: `${BASE}/api/storage/info-local/org/acme/doc.txt`,
      principals: { users: { admin: ['r', 'n', 'w', 'd', 'm'] }, groups: {} },
    });
  });

  it('answers 501 for the storage query it does not offer', async () => {
    const res = await get('/artifactory/api/storage/info-local/top.txt?propertiesXml');
    expect(res.statusCode).toBe(501);
  });

  it('uses the forwarded host and protocol in URIs', async () => {
    const res = await get('/artifactory/api/storage/info-local/top.txt', { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'repo.example.com' });
    expect(res.json().uri).toBe('https://repo.example.com/artifactory/api/storage/info-local/top.txt');
  });
});
