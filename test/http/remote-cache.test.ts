import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../helpers/fake-upstream.js';
import { startTestNode, type TestNode } from '../helpers/node-context.js';

const sha1 = (b: Buffer | string) => createHash('sha1').update(b).digest('hex');

describe('remote repositories: caching', () => {
  let node: TestNode;
  let up: FakeUpstream;
  let n = 0;

  beforeAll(async () => {
    node = await startTestNode();
    up = await new FakeUpstream().start();
  });
  afterAll(async () => {
    await node?.close();
    await up?.stop();
  });

  /** A fresh remote (own key, own path space) so cases do not share cache state. */
  async function remote(config: Record<string, unknown> = {}, packageType = 'generic'): Promise<string> {
    const key = `rem-${++n}`;
    const res = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'remote', packageType, url: `${up.url}/${key}`, ...config } });
    expect(res.statusCode, res.body).toBe(200);
    return key;
  }
  const get = (url: string, headers: Record<string, string> = {}) => node.request({ method: 'GET', url: `/artifactory/${url}`, headers });
  const setConfig = (key: string, payload: Record<string, unknown>) => node.request({ method: 'POST', url: `/artifactory/api/repositories/${key}`, payload });

  it('fetches an artifact once, then serves it from the cache with the upstream Last-Modified', async () => {
    const key = await remote();
    up.on(`/${key}/lib/a.bin`, { status: 200, body: 'alpha', headers: { 'last-modified': 'Tue, 03 Mar 2020 10:00:00 GMT' } });
    const first = await get(`${key}/lib/a.bin`);
    expect(first.statusCode).toBe(200);
    expect(first.body).toBe('alpha');
    expect(first.headers['x-checksum-sha1']).toBe(sha1('alpha'));
    const second = await get(`${key}/lib/a.bin`);
    expect(second.body).toBe('alpha');
    expect(second.headers['last-modified']).toBe('Tue, 03 Mar 2020 10:00:00 GMT');
    expect(up.count(`/${key}/lib/a.bin`)).toBe(1);
    // Statistics: two downloads, one of them fetched from the upstream.
    await node.ctx.downloadStats.flush();
    const stats = (await node.request({ method: 'GET', url: `/artifactory/api/storage/${key}/lib/a.bin?stats` })).json();
    expect(stats).toMatchObject({ downloadCount: 2, remoteDownloadCount: 1, remoteLastDownloaded: expect.any(Number) });
    // The cache is also addressed as {key}-cache, and never goes upstream from there.
    expect((await get(`${key}-cache/lib/a.bin`)).body).toBe('alpha');
    expect((await get(`${key}-cache/lib/other.bin`)).statusCode).toBe(404);
    expect(up.count(`/${key}/lib/other.bin`)).toBe(0);
  });

  it('deduplicates concurrent fetches of one path: one upstream request, every client served', async () => {
    const key = await remote();
    const body = Buffer.alloc(300_000, 7);
    up.on(`/${key}/big.bin`, { status: 200, body, delayMs: 300 });
    const all = await Promise.all(Array.from({ length: 8 }, () => get(`${key}/big.bin`)));
    for (const r of all) {
      expect(r.statusCode).toBe(200);
      expect(r.rawPayload.equals(body)).toBe(true);
    }
    expect(up.count(`/${key}/big.bin`)).toBe(1);
  });

  it('re-checks metadata after retrievalCachePeriodSecs (conditionally), never artifacts', async () => {
    const key = await remote({ retrievalCachePeriodSecs: 3600 }, 'maven');
    const meta = `/${key}/g/a/maven-metadata.xml`;
    let version = 1;
    up.on(meta, (req) => (req.headers['if-none-match'] === `"v${version}"` ? { status: 304 } : { status: 200, body: `<metadata>v${version}</metadata>`, headers: { etag: `"v${version}"` } }));
    expect((await get(`${key}/g/a/maven-metadata.xml`)).body).toBe('<metadata>v1</metadata>');
    version = 2;
    // Within the period: the cached copy, no upstream request.
    expect((await get(`${key}/g/a/maven-metadata.xml`)).body).toBe('<metadata>v1</metadata>');
    expect(up.count(meta)).toBe(1);
    expect((await setConfig(key, { retrievalCachePeriodSecs: 0 })).statusCode).toBe(200);
    expect((await get(`${key}/g/a/maven-metadata.xml`)).body).toBe('<metadata>v2</metadata>');
    expect(up.requests.filter((r) => r.path === meta).at(-1)!.headers['if-none-match']).toBe('"v1"');
    // Unchanged upstream: 304, the cached copy stays.
    expect((await get(`${key}/g/a/maven-metadata.xml`)).body).toBe('<metadata>v2</metadata>');
    expect(up.count(meta)).toBe(3);
    up.on(`/${key}/g/a/1/a-1.jar`, { status: 200, body: 'jar' });
    up.on(`/${key}/g/a/1/a-1.jar.sha1`, { status: 200, body: sha1('jar') });
    await get(`${key}/g/a/1/a-1.jar`);
    await get(`${key}/g/a/1/a-1.jar`);
    expect(up.count(`/${key}/g/a/1/a-1.jar`)).toBe(1);
  });

  it('remembers upstream misses for missedRetrievalCachePeriodSecs', async () => {
    const key = await remote({ missedRetrievalCachePeriodSecs: 3600 });
    expect((await get(`${key}/missing.bin`)).statusCode).toBe(404);
    up.on(`/${key}/missing.bin`, { status: 200, body: 'now here' });
    expect((await get(`${key}/missing.bin`)).statusCode).toBe(404);
    expect(up.count(`/${key}/missing.bin`)).toBe(1);
    expect((await setConfig(key, { missedRetrievalCachePeriodSecs: 0 })).statusCode).toBe(200);
    expect((await get(`${key}/missing.bin`)).body).toBe('now here');
    expect(up.count(`/${key}/missing.bin`)).toBe(2);
  });

  it('offline: serves only what is cached', async () => {
    const key = await remote();
    up.on(`/${key}/x.bin`, { status: 200, body: 'x' });
    up.on(`/${key}/y.bin`, { status: 200, body: 'y' });
    expect((await get(`${key}/x.bin`)).body).toBe('x');
    expect((await setConfig(key, { offline: true })).statusCode).toBe(200);
    expect((await get(`${key}/x.bin`)).body).toBe('x');
    expect((await get(`${key}/y.bin`)).statusCode).toBe(404);
    expect(up.count(`/${key}/y.bin`)).toBe(0);
  });

  it('serves the stale copy when the upstream fails (5xx), 502 when nothing is cached', async () => {
    const key = await remote({ retrievalCachePeriodSecs: 0 }, 'maven');
    const path = `${key}/g/b/maven-metadata.xml`;
    up.on(`/${path}`, { status: 200, body: '<metadata>old</metadata>' });
    expect((await get(path)).body).toBe('<metadata>old</metadata>');
    up.on(`/${path}`, { status: 503, body: 'down for maintenance' });
    const stale = await get(path);
    expect(stale.statusCode).toBe(200);
    expect(stale.body).toBe('<metadata>old</metadata>');
    up.on(`/${key}/g/c/maven-metadata.xml`, { status: 500, body: 'boom' });
    const failed = await get(`${key}/g/c/maven-metadata.xml`);
    expect(failed.statusCode).toBe(502);
    expect(failed.json().errors[0].message).toContain('HTTP 500');
  });

  it('times out a silent upstream (socketTimeoutMillis), then assumes it offline for assumedOfflinePeriodSecs', async () => {
    const key = await remote({ socketTimeoutMillis: 300, assumedOfflinePeriodSecs: 3600 });
    up.on(`/${key}/slow.bin`, { status: 200, body: 'slow', delayMs: 2000 });
    const started = Date.now();
    const res = await get(`${key}/slow.bin`);
    expect(res.statusCode).toBe(502);
    expect(Date.now() - started).toBeLessThan(1900);
    up.on(`/${key}/fast.bin`, { status: 200, body: 'fast' });
    const offline = await get(`${key}/fast.bin`);
    expect(offline.statusCode).toBe(502);
    expect(offline.json().errors[0].message).toContain('assumed offline');
    expect(up.count(`/${key}/fast.bin`)).toBe(0);
  });

  it('a body that stalls mid-transfer fails without storing a partial file', async () => {
    const key = await remote({ socketTimeoutMillis: 300, assumedOfflinePeriodSecs: 0 });
    up.on(`/${key}/stall.bin`, { status: 200, body: Buffer.alloc(10_000, 1), stallAfterBytes: 100 });
    expect((await get(`${key}/stall.bin`)).statusCode).toBe(502);
    expect((await get(`${key}-cache/stall.bin`)).statusCode).toBe(404);
  });

  it('connection refused: the cached copy is served, else 502', async () => {
    const dead = await new FakeUpstream().start();
    const deadUrl = dead.url;
    dead.on('/r/cached.bin', { status: 200, body: 'kept' });
    const key = `rem-${++n}`;
    await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'remote', packageType: 'generic', url: `${deadUrl}/r`, assumedOfflinePeriodSecs: 0 } });
    expect((await get(`${key}/cached.bin`)).body).toBe('kept');
    await dead.stop();
    expect((await get(`${key}/cached.bin`)).body).toBe('kept');
    const res = await get(`${key}/other.bin`);
    expect(res.statusCode).toBe(502);
    expect(res.json().errors[0].message).toContain('unreachable');
  });

  it('refuses content whose checksum differs from the upstream X-Checksum-Sha1 or .sha1 file', async () => {
    const key = await remote({}, 'maven');
    up.on(`/${key}/g/d/1/d-1.jar`, { status: 200, body: 'real', headers: { 'x-checksum-sha1': sha1('other') } });
    const bad = await get(`${key}/g/d/1/d-1.jar`);
    expect(bad.statusCode).toBe(502);
    expect(bad.json().errors[0].message).toContain('Checksum mismatch');
    up.on(`/${key}/g/e/1/e-1.jar`, { status: 200, body: 'real' });
    up.on(`/${key}/g/e/1/e-1.jar.sha1`, { status: 200, body: `${sha1('tampered')}  e-1.jar\n` });
    expect((await get(`${key}/g/e/1/e-1.jar`)).statusCode).toBe(502);
    expect((await get(`${key}-cache/g/e/1/e-1.jar`)).statusCode).toBe(404);
    up.on(`/${key}/g/f/1/f-1.jar`, { status: 200, body: 'fine' });
    up.on(`/${key}/g/f/1/f-1.jar.sha1`, { status: 200, body: sha1('fine') });
    expect((await get(`${key}/g/f/1/f-1.jar`)).body).toBe('fine');
  });

  it('sends the remote credentials upstream and stores the password encrypted', async () => {
    const key = await remote({ username: 'bob', password: 's3cret-pw' });
    up.on(`/${key}/auth.bin`, (req) =>
      req.headers.authorization === `Basic ${Buffer.from('bob:s3cret-pw').toString('base64')}` ? { status: 200, body: 'ok' } : { status: 401 },
    );
    expect((await get(`${key}/auth.bin`)).body).toBe('ok');
    const config = await node.request({ method: 'GET', url: `/artifactory/api/repositories/${key}` });
    expect(config.body).not.toContain('s3cret-pw');
    // The API never shows the password, not even encrypted; the database holds it encrypted.
    expect(config.json().password).toBeUndefined();
    const row = await node.ctx.database.db.selectFrom('repositories').select('config').where('repo_key', '=', key).executeTakeFirstOrThrow();
    expect(JSON.parse(row.config).password).toMatch(/^ENC\(/);
    // An update that leaves the password alone keeps working.
    expect((await setConfig(key, { description: 'x' })).statusCode).toBe(200);
    await node.request({ method: 'DELETE', url: `/artifactory/${key}/auth.bin` });
    expect((await get(`${key}/auth.bin`)).body).toBe('ok');
  });

  it('is read-only: deploys answer 405 with a clear message; deleting drops the cached copy', async () => {
    const key = await remote();
    const put = await node.request({ method: 'PUT', url: `/artifactory/${key}/new.bin`, payload: 'data' });
    expect(put.statusCode).toBe(405);
    expect(put.json().errors[0].message).toContain('read-only');
    expect((await node.request({ method: 'PUT', url: `/artifactory/${key}-cache/new.bin`, payload: 'data' })).statusCode).toBe(405);
    up.on(`/${key}/del.bin`, { status: 200, body: 'one' });
    expect((await get(`${key}/del.bin`)).body).toBe('one');
    expect((await node.request({ method: 'DELETE', url: `/artifactory/${key}/del.bin` })).statusCode).toBe(204);
    up.on(`/${key}/del.bin`, { status: 200, body: 'two' });
    expect((await get(`${key}/del.bin`)).body).toBe('two');
    expect(up.count(`/${key}/del.bin`)).toBe(2);
  });

  it('does not cache a folder: an upstream redirect to a folder URL is a miss; folder URLs list the cache', async () => {
    const key = await remote({ missedRetrievalCachePeriodSecs: 0 });
    up.on(`/${key}/dir`, { status: 302, headers: { location: `/${key}/dir/` } });
    up.on(`/${key}/dir/`, { status: 200, body: '<html>index</html>', headers: { 'content-type': 'text/html' } });
    up.on(`/${key}/dir/f.bin`, { status: 200, body: 'f' });
    expect((await get(`${key}/dir`)).statusCode).toBe(404);
    expect((await get(`${key}/dir/f.bin`)).body).toBe('f');
    const listing = await get(`${key}/dir/`);
    expect(listing.statusCode).toBe(200);
    expect(listing.body).toContain('f.bin');
    expect(up.count(`/${key}/dir/`)).toBe(1);
  });

  it('refuses storeArtifactsLocally=false and a missing url', async () => {
    const a = await node.request({ method: 'PUT', url: '/artifactory/api/repositories/rem-bad', payload: { rclass: 'remote', url: up.url, storeArtifactsLocally: false } });
    expect(a.statusCode).toBe(400);
    expect(a.json().errors[0].message).toContain('storeArtifactsLocally');
    const b = await node.request({ method: 'PUT', url: '/artifactory/api/repositories/rem-bad', payload: { rclass: 'remote' } });
    expect(b.statusCode).toBe(400);
    const defaults = await node.request({ method: 'GET', url: `/artifactory/api/repositories/${await remote()}` });
    expect(defaults.json()).toMatchObject({ retrievalCachePeriodSecs: 7200, missedRetrievalCachePeriodSecs: 1800, assumedOfflinePeriodSecs: 300, socketTimeoutMillis: 15000, offline: false, storeArtifactsLocally: true });
  });
});
