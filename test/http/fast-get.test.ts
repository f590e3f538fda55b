import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, startTestNode, type TestNode } from '../helpers/node-context.js';
import { raw, type RawRequest } from '../helpers/raw-http.js';
import { zipOf } from '../helpers/stored-zip.js';

const DEV = basic('dev', 'Dev-passw0rd!');
const jsonBody = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
/** Headers Node adds itself (they differ between two answers, or between inject() and a socket). */
const TRANSPORT = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

function appHeaders(h: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(h).filter(([k]) => !TRANSPORT.has(k.toLowerCase())));
}

/**
 * The download fast path (src/http/fast-get.ts) over real sockets: a listening app, since
 * `inject()` goes to Fastify directly and never meets it. Every answer it gives must be the one
 * the full path gives, and everything it cannot decide must reach the full path.
 */
describe('download fast path (one process, SQLite)', () => {
  let node: TestNode;
  let url: string;
  const on = (req: RawRequest) => raw(url, req);
  const requestsTotal = async (): Promise<number> => {
    const text = (await node.request({ url: '/artifactory/api/v1/metrics' })).body;
    const m = /^arca_http_requests_total\{method="GET",status="200"\} (\d+)/m.exec(text);
    return m ? Number(m[1]) : 0;
  };

  beforeAll(async () => {
    node = await startTestNode('sqlite');
    url = await node.app.listen({ port: 0, host: '127.0.0.1' });
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/repositories/fast-local', ...jsonBody({ rclass: 'local', packageType: 'generic' }) })).statusCode).toBe(200);
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/repositories/fast-maven', ...jsonBody({ rclass: 'local', packageType: 'maven' }) })).statusCode).toBe(200);
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/security/users/dev', ...jsonBody({ email: 'dev@example.com', password: 'Dev-passw0rd!' }) })).statusCode).toBe(201);
    const target = { name: 'dev-read', repo: { 'include-patterns': ['open/**'], 'exclude-patterns': [], repositories: ['fast-local'], actions: { users: { dev: ['read'] } } } };
    expect((await node.request({ method: 'POST', url: '/artifactory/api/v2/security/permissions/dev-read', ...jsonBody(target) })).statusCode).toBe(201);
  });
  afterAll(async () => {
    await node?.close();
  });

  it('answers with exactly the headers and bytes of the full path, and counts the request', async () => {
    const body = Buffer.from('fast path bytes\n'.repeat(100));
    expect((await on({ method: 'PUT', path: '/artifactory/fast-local/open/a.txt', body })).status).toBe(201);
    const slow = await node.request({ url: '/artifactory/fast-local/open/a.txt' });
    expect(node.ctx.serve.currentFiles.size).toBe(0);
    const before = await requestsTotal();
    const first = await on({ path: '/artifactory/fast-local/open/a.txt' });
    const second = await on({ path: '/artifactory/fast-local/open/a.txt' });
    // The fast path kept the file: it answered (at least) the second request.
    expect(node.ctx.serve.currentFiles.size).toBe(1);
    for (const r of [first, second]) {
      expect(r.status).toBe(200);
      expect(r.body.equals(body)).toBe(true);
      expect(appHeaders(r.headers)).toEqual(appHeaders(slow.headers));
    }
    // The two downloads and the first scrape itself.
    expect((await requestsTotal()) - before).toBe(3);
    // Both paths count the download in the statistics: the inject, then the two fast answers.
    await node.ctx.downloadStats.flush();
    const stats = (await node.request({ url: '/artifactory/api/storage/fast-local/open/a.txt?stats' })).json();
    expect(stats).toMatchObject({ downloadCount: 3, lastDownloadedBy: 'admin' });
  });

  it('serves what the last commit left: a redeploy, a delete, a deploy again', async () => {
    const path = '/artifactory/fast-local/open/changing.bin';
    for (let i = 0; i < 5; i++) {
      const body = Buffer.from(`version ${i} `.repeat(50 + i));
      expect((await on({ method: 'PUT', path, body })).status).toBe(201);
      for (let j = 0; j < 3; j++) {
        const r = await on({ path });
        expect(r.status).toBe(200);
        expect(r.body.equals(body)).toBe(true);
        expect(r.headers['content-length']).toBe(String(body.length));
      }
    }
    expect((await on({ method: 'DELETE', path })).status).toBe(204);
    expect((await on({ path })).status).toBe(404);
    expect((await on({ method: 'PUT', path, body: 'back' })).status).toBe(201);
    expect((await on({ path })).text()).toBe('back');
  });

  it('leaves ranges, conditions, HEAD, folders, checksum files and refusals to the full path', async () => {
    const path = '/artifactory/fast-local/open/r.txt';
    expect((await on({ method: 'PUT', path, body: '0123456789' })).status).toBe(201);
    const warm = await on({ path });
    expect(warm.status).toBe(200);
    const range = await on({ path, headers: { range: 'bytes=2-4' } });
    expect([range.status, range.text(), range.headers['content-range']]).toEqual([206, '234', 'bytes 2-4/10']);
    expect((await on({ path, headers: { 'if-none-match': `"${warm.headers.etag}"` } })).status).toBe(304);
    const head = await on({ method: 'HEAD', path });
    expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, '10', 0]);
    const folder = await on({ path: '/artifactory/fast-local/open' });
    expect(folder.status).toBe(302);
    // A maven checksum file is made by the format from the stored file.
    expect((await on({ method: 'PUT', path: '/artifactory/fast-maven/g/a/1/a-1.jar', body: 'jar' })).status).toBe(201);
    expect((await on({ path: '/artifactory/fast-maven/g/a/1/a-1.jar' })).status).toBe(200);
    const sum = await on({ path: '/artifactory/fast-maven/g/a/1/a-1.jar.sha1' });
    expect([sum.status, sum.text()]).toEqual([200, createHash('sha1').update('jar').digest('hex')]);
    // Refusals keep their words: anonymous, a user without the permission, a missing repository.
    expect((await on({ path, anonymous: true })).status).toBe(401);
    expect((await on({ path: '/artifactory/fast-local/closed.txt', headers: { authorization: DEV } })).status).toBe(403);
    expect((await on({ path: '/artifactory/no-such-repo/x.txt' })).status).toBe(404);
    expect((await on({ path: '/artifactory/fast-local/open/nothing-here.txt' })).status).toBe(404);
  });

  it('stops serving a user the moment a permission is revoked, and a deleted user at once', async () => {
    const path = '/artifactory/fast-local/open/secret.txt';
    expect((await on({ method: 'PUT', path, body: 'for dev' })).status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await on({ path, headers: { authorization: DEV } })).text()).toBe('for dev');
    expect((await on({ method: 'DELETE', path: '/artifactory/api/v2/security/permissions/dev-read' })).status).toBe(200);
    expect((await on({ path, headers: { authorization: DEV } })).status).toBe(404);
    const target = { name: 'dev-read', repo: { 'include-patterns': ['open/**'], 'exclude-patterns': [], repositories: ['fast-local'], actions: { users: { dev: ['read'] } } } };
    expect((await on({ method: 'POST', path: '/artifactory/api/v2/security/permissions/dev-read', ...jsonBody(target) })).status).toBe(201);
    expect((await on({ path, headers: { authorization: DEV } })).text()).toBe('for dev');
    expect((await on({ method: 'DELETE', path: '/artifactory/api/security/users/dev' })).status).toBe(200);
    expect((await on({ path, headers: { authorization: DEV } })).status).toBe(401);
  });
});

describe('download fast path: anonymous callers and format protocol URLs (one process, SQLite)', () => {
  let node: TestNode;
  let url: string;
  const on = (req: RawRequest) => raw(url, req);
  const module = 'example.com/!fast/mod';
  const base = `/artifactory/api/go/fast-go/${module}/@v`;
  const mod = 'module example.com/Fast/mod\n\ngo 1.19\n';

  beforeAll(async () => {
    node = await startTestNode('sqlite');
    url = await node.app.listen({ port: 0, host: '127.0.0.1' });
    for (const [key, packageType] of [
      ['fast-go', 'go'],
      ['fast-open', 'generic'],
    ]) {
      expect((await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, ...jsonBody({ rclass: 'local', packageType }) })).statusCode).toBe(200);
    }
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/repositories/fast-go-virtual', ...jsonBody({ rclass: 'virtual', packageType: 'go', repositories: ['fast-go'] }) })).statusCode).toBe(200);
    const zip = zipOf([
      { name: 'example.com/Fast/mod@v1.0.0/go.mod', data: mod },
      { name: 'example.com/Fast/mod@v1.0.0/m.go', data: 'package mod\n' },
    ]);
    for (const [name, data] of [
      ['v1.0.0.mod', mod],
      ['v1.0.0.zip', zip],
    ] as const) {
      expect((await on({ method: 'PUT', path: `${base}/${name}`, body: data })).status).toBe(201);
    }
    const target = { name: 'anon-read', repo: { 'include-patterns': ['open/**'], 'exclude-patterns': [], repositories: ['fast-open'], actions: { users: { anonymous: ['read'] } } } };
    expect((await node.request({ method: 'POST', url: '/artifactory/api/v2/security/permissions/anon-read', ...jsonBody(target) })).statusCode).toBe(201);
  });
  afterAll(async () => {
    await node?.close();
  });

  it("serves a Go module's stored .mod and .zip with the full path's headers; a made .info, other repositories and HEAD go to the routes", async () => {
    for (const name of ['v1.0.0.mod', 'v1.0.0.zip']) {
      const slow = await node.request({ url: `${base}/${name}` });
      expect(slow.statusCode).toBe(200);
      const kept = node.ctx.serve.currentFiles.size;
      const [first, second] = [await on({ path: `${base}/${name}` }), await on({ path: `${base}/${name}` })];
      expect(node.ctx.serve.currentFiles.size).toBe(kept + 1);
      for (const r of [first, second]) {
        expect(r.status).toBe(200);
        expect(r.body.equals(slow.rawPayload)).toBe(true);
        expect(appHeaders(r.headers)).toEqual(appHeaders(slow.headers));
      }
    }
    const kept = node.ctx.serve.currentFiles.size;
    // No .info was deployed: the route makes one from the version.
    const info = await on({ path: `${base}/v1.0.0.info` });
    expect([info.status, JSON.parse(info.text()).Version]).toEqual([200, 'v1.0.0']);
    // The same module through a virtual repository, and HEAD: the routes answer.
    const virtual = await on({ path: `/artifactory/api/go/fast-go-virtual/${module}/@v/v1.0.0.mod` });
    expect([virtual.status, virtual.text()]).toEqual([200, mod]);
    const head = await on({ method: 'HEAD', path: `${base}/v1.0.0.mod` });
    expect([head.status, head.headers['content-length']]).toEqual([200, String(Buffer.byteLength(mod))]);
    expect(node.ctx.serve.currentFiles.size).toBe(kept);
    // A Go URL naming a repository of another type, or a path outside the protocol: the route's own errors.
    expect((await on({ path: `/artifactory/api/go/fast-open/${module}/@v/v1.0.0.mod` })).status).toBe(400);
    expect((await on({ path: `/artifactory/api/go/fast-go/${module}/@v/v1.0.0.tar` })).status).toBe(404);
    expect((await on({ path: `/artifactory/api/go/fast-go/${module}/@v/v9.9.9.zip` })).status).toBe(404);
    // Without read permission (anonymous access is off): refused as the route refuses.
    expect((await on({ path: `${base}/v1.0.0.mod`, anonymous: true })).status).toBe(401);
  });

  it('serves anonymous callers while anonymous access is on and they may read, and stops the moment it is turned off', async () => {
    const path = '/artifactory/fast-open/open/public.txt';
    expect((await on({ method: 'PUT', path, body: 'for everyone' })).status).toBe(201);
    expect((await on({ method: 'PUT', path: '/artifactory/fast-open/closed.txt', body: 'not for anonymous' })).status).toBe(201);
    await node.ctx.settings.update({ anonAccessEnabled: true });
    try {
      const slow = await node.request({ url: path });
      const kept = node.ctx.serve.currentFiles.size;
      for (let i = 0; i < 3; i++) {
        const r = await on({ path, anonymous: true });
        expect([r.status, r.text()]).toEqual([200, 'for everyone']);
        expect(appHeaders(r.headers)).toEqual(appHeaders(slow.headers));
      }
      expect(node.ctx.serve.currentFiles.size).toBe(kept + 1);
      // Outside the grant: the full path's refusal.
      expect((await on({ path: '/artifactory/fast-open/closed.txt', anonymous: true })).status).toBe(401);
      await node.ctx.downloadStats.flush();
      const stats = (await node.request({ url: `/artifactory/api/storage/fast-open/open/public.txt?stats` })).json();
      expect(stats).toMatchObject({ lastDownloadedBy: 'anonymous' });
    } finally {
      await node.ctx.settings.update({ anonAccessEnabled: false });
    }
    expect((await on({ path, anonymous: true })).status).toBe(401);
  });
});
