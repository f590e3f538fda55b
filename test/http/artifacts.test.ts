import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { raw } from '../helpers/raw-http.js';

const hash = (alg: string, d: Buffer | string) => createHash(alg).update(d).digest('hex');

/** Deploy, download and delete against a real `arca start` process with two workers. */
describe('artifacts over HTTP (real process, 2 workers)', () => {
  let node: NodeProcess;
  const call = (req: Parameters<typeof raw>[1]) => raw(node.url, req);

  beforeAll(async () => {
    node = await startNodeProcess({ workers: 2 });
    const res = await call({
      method: 'PUT',
      path: '/artifactory/api/repositories/generic-local',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rclass: 'local', packageType: 'generic' }),
    });
    expect(res.status).toBe(200);
  });
  afterAll(async () => {
    await node?.cleanup();
  });

  it('deploys a file: 201, Location and the JFrog ItemCreated JSON', async () => {
    const data = 'hello world\n';
    const res = await call({ method: 'PUT', path: '/artifactory/generic-local/org/acme/app/1.0/app-1.0.txt', body: data });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toContain('application/vnd.org.jfrog.artifactory.storage.ItemCreated+json');
    const body = res.json();
    expect(body).toMatchObject({
      repo: 'generic-local',
      path: '/org/acme/app/1.0/app-1.0.txt',
      createdBy: 'admin',
      mimeType: 'text/plain',
      size: String(data.length),
      checksums: { sha1: hash('sha1', data), md5: hash('md5', data), sha256: hash('sha256', data) },
      originalChecksums: {},
      downloadUri: `${node.base}/generic-local/org/acme/app/1.0/app-1.0.txt`,
      uri: `${node.base}/api/storage/generic-local/org/acme/app/1.0/app-1.0.txt`,
    });
    expect(new Date(body.created).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(res.headers.location).toBe(body.downloadUri);
    expect(res.headers['x-artifactory-node-id']).toBeTruthy();
  });

  it('leaves sha256 out of the deploy response for ArtifactoryBuildClient', async () => {
    const res = await call({
      method: 'PUT',
      path: '/artifactory/generic-local/build-client.txt',
      headers: { 'user-agent': 'ArtifactoryBuildClient/2.1' },
      body: 'x',
    });
    expect(res.status).toBe(201);
    expect(res.json().checksums.sha256).toBeUndefined();
    expect(res.json().checksums.sha1).toBe(hash('sha1', 'x'));
  });

  it('serves a file with ETag, checksums, Last-Modified, ranges support and attachment disposition', async () => {
    const data = randomBytes(3000);
    expect((await call({ method: 'PUT', path: '/artifactory/generic-local/bin/data%20file.bin', body: data })).status).toBe(201);
    const res = await call({ path: '/artifactory/generic-local/bin/data%20file.bin' });
    expect(res.status).toBe(200);
    expect(res.body.equals(data)).toBe(true);
    expect(res.headers.etag).toBe(hash('sha1', data));
    expect(res.headers['x-checksum-sha1']).toBe(hash('sha1', data));
    expect(res.headers['x-checksum-sha256']).toBe(hash('sha256', data));
    expect(res.headers['x-checksum-md5']).toBe(hash('md5', data));
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers['x-artifactory-filename']).toBe('data%20file.bin');
    expect(res.headers['content-disposition']).toContain('attachment');
    expect(res.headers['content-length']).toBe('3000');
    expect(Date.parse(res.headers['last-modified']!)).toBeGreaterThan(Date.now() - 60_000);

    const head = await call({ method: 'HEAD', path: '/artifactory/generic-local/bin/data%20file.bin' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers['content-length']).toBe('3000');
    expect(head.headers['x-checksum-sha256']).toBe(hash('sha256', data));

    const cached = await call({ path: '/artifactory/generic-local/bin/data%20file.bin', headers: { 'if-none-match': `"${hash('sha1', data)}"` } });
    expect(cached.status).toBe(304);
    expect(cached.body.length).toBe(0);
    const since = await call({ path: '/artifactory/generic-local/bin/data%20file.bin', headers: { 'if-modified-since': res.headers['last-modified']! } });
    expect(since.status).toBe(304);
    const changed = await call({ path: '/artifactory/generic-local/bin/data%20file.bin', headers: { 'if-none-match': '"0000"' } });
    expect(changed.status).toBe(200);
  });

  describe.each([
    ['small (memory path)', 5000],
    ['large (streaming path)', 300_000],
  ])('ranges on a %s file', (_label, size) => {
    const data = randomBytes(size);
    const path = `/artifactory/generic-local/ranges/${size}.bin`;
    beforeAll(async () => {
      expect((await call({ method: 'PUT', path, body: data })).status).toBe(201);
    });

    it('answers a single range with 206 and Content-Range', async () => {
      const res = await call({ path, headers: { range: 'bytes=100-199' } });
      expect(res.status).toBe(206);
      expect(res.headers['content-range']).toBe(`bytes 100-199/${size}`);
      expect(res.body.equals(data.subarray(100, 200))).toBe(true);
      const suffix = await call({ path, headers: { range: 'bytes=-10' } });
      expect(suffix.status).toBe(206);
      expect(suffix.body.equals(data.subarray(size - 10))).toBe(true);
      const open = await call({ path, headers: { range: `bytes=${size - 5}-` } });
      expect(open.body.equals(data.subarray(size - 5))).toBe(true);
    });

    it('answers several ranges with multipart/byteranges', async () => {
      const res = await call({ path, headers: { range: 'bytes=0-9,50-59,-5' } });
      expect(res.status).toBe(206);
      const boundary = /boundary=(\S+)/.exec(res.headers['content-type']!)![1];
      expect(Number(res.headers['content-length'])).toBe(res.body.length);
      const parts = res.body.toString('latin1').split(`--${boundary}`).slice(1, -1);
      expect(parts).toHaveLength(3);
      const expected = [data.subarray(0, 10), data.subarray(50, 60), data.subarray(size - 5)];
      parts.forEach((p, i) => {
        const [head, body] = p.split('\r\n\r\n');
        expect(head).toContain('Content-Range: bytes');
        expect(Buffer.from(body.replace(/\r\n$/, ''), 'latin1').equals(expected[i])).toBe(true);
      });
    });

    it('answers an unsatisfiable range with 416', async () => {
      const res = await call({ path, headers: { range: `bytes=${size + 10}-${size + 20}` } });
      expect(res.status).toBe(416);
      expect(res.headers['content-range']).toBe(`bytes */${size}`);
      expect(res.json().errors[0].status).toBe(416);
    });
  });

  it('verifies declared checksums: a mismatch answers 409 and stores nothing', async () => {
    const data = 'checked content';
    for (const [header, good] of [
      ['x-checksum-sha1', hash('sha1', data)],
      ['x-checksum-sha256', hash('sha256', data)],
      ['x-checksum-md5', hash('md5', data)],
      ['x-checksum', hash('sha256', data)],
      ['x-checksum', hash('sha1', data)],
    ] as const) {
      const bad = good.replace(/^./, good[0] === '0' ? '1' : '0');
      const path = `/artifactory/generic-local/checks/${header}-${good.length}.txt`;
      const rejected = await call({ method: 'PUT', path, headers: { [header]: bad }, body: data });
      expect(rejected.status, header).toBe(409);
      expect(rejected.json().errors[0].message).toContain('Checksum mismatch');
      expect((await call({ path })).status).toBe(404);
      const ok = await call({ method: 'PUT', path, headers: { [header]: good }, body: data });
      expect(ok.status, header).toBe(201);
      expect(Object.values(ok.json().originalChecksums)).toContain(good);
    }
  });

  it('deploys by checksum: 201 for a known sha256 or sha1, 404 otherwise', async () => {
    const data = randomBytes(20_000);
    expect((await call({ method: 'PUT', path: '/artifactory/generic-local/cd/original.bin', body: data })).status).toBe(201);
    const bySha256 = await call({
      method: 'PUT',
      path: '/artifactory/generic-local/cd/copy-256.bin',
      headers: { 'x-checksum-deploy': 'true', 'x-checksum-sha256': hash('sha256', data), 'x-checksum-sha1': 'f'.repeat(40) },
    });
    expect(bySha256.status).toBe(201);
    expect(bySha256.json().checksums.sha1).toBe(hash('sha1', data));
    const bySha1 = await call({ method: 'PUT', path: '/artifactory/generic-local/cd/copy-1.bin', headers: { 'x-checksum-deploy': 'true', 'x-checksum-sha1': hash('sha1', data) } });
    expect(bySha1.status).toBe(201);
    expect((await call({ path: '/artifactory/generic-local/cd/copy-1.bin' })).body.equals(data)).toBe(true);

    const unknown = await call({ method: 'PUT', path: '/artifactory/generic-local/cd/none.bin', headers: { 'x-checksum-deploy': 'true', 'x-checksum-sha1': 'a'.repeat(40) } });
    expect(unknown.status).toBe(404);
    expect(unknown.json().errors[0].message).toContain('No existing file with sha1');
    const missing = await call({ method: 'PUT', path: '/artifactory/generic-local/cd/none.bin', headers: { 'x-checksum-deploy': 'true' } });
    expect(missing.status).toBe(404);
    const malformed = await call({ method: 'PUT', path: '/artifactory/generic-local/cd/none.bin', headers: { 'x-checksum-deploy': 'true', 'x-checksum-sha256': 'xyz' } });
    expect(malformed.status).toBe(404);
    expect((await call({ path: '/artifactory/generic-local/cd/none.bin' })).status).toBe(404);
  });

  it('creates folders, lists them as HTML and redirects a folder URL without the slash', async () => {
    const folder = await call({ method: 'PUT', path: '/artifactory/generic-local/empty-folder/' });
    expect(folder.status).toBe(201);
    expect(folder.json()).toMatchObject({ repo: 'generic-local', path: '/empty-folder/' });
    await call({ method: 'PUT', path: '/artifactory/generic-local/listing/a.txt', body: 'a' });
    await call({ method: 'PUT', path: '/artifactory/generic-local/listing/sub/b.txt', body: 'b' });
    const redirect = await call({ path: '/artifactory/generic-local/listing' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toBe('/artifactory/generic-local/listing/');
    const html = await call({ path: '/artifactory/generic-local/listing/' });
    expect(html.status).toBe(200);
    expect(html.headers['content-type']).toContain('text/html');
    expect(html.text()).toContain('<a href="a.txt">a.txt</a>');
    expect(html.text()).toContain('<a href="sub/">sub/</a>');
  });

  it('refuses a file where a folder stands and a folder below a file (409)', async () => {
    await call({ method: 'PUT', path: '/artifactory/generic-local/clash/file.txt', body: 'f' });
    expect((await call({ method: 'PUT', path: '/artifactory/generic-local/clash', body: 'x' })).status).toBe(409);
    expect((await call({ method: 'PUT', path: '/artifactory/generic-local/clash/file.txt/inner.txt', body: 'x' })).status).toBe(409);
  });

  it('deletes a file (204) and a folder with everything below it', async () => {
    await call({ method: 'PUT', path: '/artifactory/generic-local/del/one.txt', body: '1' });
    await call({ method: 'PUT', path: '/artifactory/generic-local/del/deep/two.txt', body: '2' });
    expect((await call({ method: 'DELETE', path: '/artifactory/generic-local/del/one.txt' })).status).toBe(204);
    expect((await call({ path: '/artifactory/generic-local/del/one.txt' })).status).toBe(404);
    expect((await call({ method: 'DELETE', path: '/artifactory/generic-local/del' })).status).toBe(204);
    expect((await call({ path: '/artifactory/generic-local/del/deep/two.txt' })).status).toBe(404);
    expect((await call({ method: 'DELETE', path: '/artifactory/generic-local/del' })).status).toBe(404);
  });

  it('answers 404 with the JFrog error body for an unknown repository or item', async () => {
    for (const path of ['/artifactory/no-such-repo/a.txt', '/artifactory/generic-local/no/such.txt']) {
      const res = await call({ path });
      expect(res.status).toBe(404);
      expect(res.json()).toEqual({ errors: [{ status: 404, message: expect.any(String) }] });
    }
    expect((await call({ method: 'PUT', path: '/artifactory/no-such-repo/a.txt', body: 'x' })).status).toBe(404);
  });

  it('requires credentials (anonymous access is off by default) and rejects bad ones', async () => {
    const anon = await call({ path: '/artifactory/generic-local/org/acme/app/1.0/app-1.0.txt', anonymous: true });
    expect(anon.status).toBe(401);
    expect(anon.headers['www-authenticate']).toContain('Basic realm=');
    const wrong = await call({ path: '/artifactory/generic-local/org/acme/app/1.0/app-1.0.txt', headers: { authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}` } });
    expect(wrong.status).toBe(401);
    expect((await call({ path: '/artifactory/api/system/ping', anonymous: true })).text()).toBe('OK');
  });

  it('overwrites: the redeployed content replaces the old one', async () => {
    const path = '/artifactory/generic-local/over/file.txt';
    expect((await call({ method: 'PUT', path, body: 'v1' })).status).toBe(201);
    expect((await call({ method: 'PUT', path, body: 'version two' })).status).toBe(201);
    expect((await call({ path })).text()).toBe('version two');
  });
});
