import { createServer, type Server } from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packPackage, publishBody } from '../../src/formats/npm/testing/pack.js';
import { ADMIN_AUTH, ADMIN_PASSWORD, startTestNode, type TestNode } from '../helpers/node-context.js';

const ABBREVIATED = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*';

/**
 * Remote and virtual npm repositories: a second in-process node (listening on 127.0.0.1) is
 * the upstream registry; a small fake registry answers npm audit.
 */
describe('npm remote and virtual repositories', () => {
  let upstream: TestNode;
  let node: TestNode;
  let upstreamUrl: string;
  let auditServer: Server;
  let auditUrl: string;
  const audits: { path: string; encoding?: string; body: Buffer }[] = [];
  const tarballs: Record<string, Buffer> = {};

  const repo = (n: TestNode, key: string, body: Record<string, unknown>) =>
    n.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { packageType: 'npm', ...body } });
  const publish = async (n: TestNode, key: string, name: string, version: string) => {
    const pkg = packPackage({ name, version, description: `${name} from ${key}` });
    tarballs[`${key}:${name}@${version}`] = pkg.tarball;
    const res = await n.request({
      method: 'PUT',
      url: `/artifactory/api/npm/${key}/${name.replace('/', '%2f')}`,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(publishBody(pkg)),
    });
    return res.statusCode;
  };
  const get = (url: string, headers: Record<string, string> = {}) => node.request({ method: 'GET', url, headers });

  beforeAll(async () => {
    upstream = await startTestNode();
    await upstream.app.listen({ port: 0, host: '127.0.0.1' });
    upstreamUrl = `http://127.0.0.1:${(upstream.app.server.address() as { port: number }).port}/artifactory/api/npm/up-local`;
    expect((await repo(upstream, 'up-local', { rclass: 'local' })).statusCode).toBe(200);
    expect(await publish(upstream, 'up-local', 'shared', '1.0.0')).toBe(201);
    expect(await publish(upstream, 'up-local', 'shared', '2.0.0')).toBe(201);
    expect(await publish(upstream, 'up-local', '@far/away', '0.3.0')).toBe(201);

    auditServer = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        audits.push({ path: req.url ?? '', encoding: req.headers['content-encoding'], body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ 'left-pad': [{ id: 1, title: 'from the fake upstream' }] }));
      });
    });
    await new Promise<void>((r) => auditServer.listen(0, '127.0.0.1', r));
    auditUrl = `http://127.0.0.1:${(auditServer.address() as { port: number }).port}/registry`;

    node = await startTestNode();
    expect((await repo(node, 'npm-remote', { rclass: 'remote', url: upstreamUrl, username: 'admin', password: ADMIN_PASSWORD })).statusCode).toBe(200);
    expect((await repo(node, 'npm-audit', { rclass: 'remote', url: auditUrl })).statusCode).toBe(200);
    expect((await repo(node, 'npm-mine', { rclass: 'local' })).statusCode).toBe(200);
    expect((await repo(node, 'npm-all', { rclass: 'virtual', repositories: ['npm-mine', 'npm-remote'], defaultDeploymentRepo: 'npm-mine' })).statusCode).toBe(200);
    expect(await publish(node, 'npm-mine', 'shared', '3.0.0-local.1')).toBe(201);
    expect(await publish(node, 'npm-mine', 'mine-only', '1.0.0')).toBe(201);
  });
  afterAll(async () => {
    await node?.close();
    await upstream?.close();
    await new Promise((r) => auditServer?.close(r));
  });

  it('proxies a packument with tarball URLs rewritten to the remote repository, and caches it', async () => {
    const res = await get('/artifactory/api/npm/npm-remote/shared');
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(Object.keys(doc.versions)).toEqual(['1.0.0', '2.0.0']);
    expect(doc['dist-tags'].latest).toBe('2.0.0');
    expect(doc.versions['2.0.0'].dist.tarball).toBe('http://localhost:80/artifactory/api/npm/npm-remote/shared/-/shared-2.0.0.tgz');
    const cached = await get('/artifactory/npm-remote/.npm/shared/package.json');
    expect(cached.statusCode).toBe(200);
    // The cache keeps the upstream's own document; URLs are rewritten when served.
    expect(cached.json().versions['1.0.0'].dist.tarball).toBe(`${upstreamUrl}/shared/-/shared-1.0.0.tgz`);
  });

  it('proxies tarballs (scoped too) and keeps them at the Artifactory path', async () => {
    const tgz = await get('/artifactory/api/npm/npm-remote/shared/-/shared-1.0.0.tgz');
    expect(tgz.statusCode).toBe(200);
    expect(tgz.rawPayload.equals(tarballs['up-local:shared@1.0.0'])).toBe(true);
    expect((await get('/artifactory/npm-remote/shared/-/shared-1.0.0.tgz')).rawPayload.equals(tarballs['up-local:shared@1.0.0'])).toBe(true);
    const scoped = (await get('/artifactory/api/npm/npm-remote/@far%2faway', { accept: ABBREVIATED })).json();
    const url = new URL(scoped.versions['0.3.0'].dist.tarball);
    expect(url.pathname).toBe('/artifactory/api/npm/npm-remote/@far/away/-/@far/away-0.3.0.tgz');
    const st = await get(url.pathname);
    expect(st.statusCode).toBe(200);
    expect(st.rawPayload.equals(tarballs['up-local:@far/away@0.3.0'])).toBe(true);
    expect((await get('/artifactory/api/npm/npm-remote/nothing-here')).statusCode).toBe(404);
    expect((await get('/artifactory/api/npm/npm-remote/shared/-/shared-9.9.9.tgz')).statusCode).toBe(404);
  });

  it('refuses writes to a remote repository', async () => {
    const res = await node.request({ method: 'PUT', url: '/artifactory/api/npm/npm-remote/x', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(publishBody(packPackage({ name: 'x', version: '1.0.0' }))) });
    expect(res.statusCode).toBe(405);
    expect(res.json().error).toContain('read-only');
  });

  it('merges packuments of a virtual repository, locals first, and serves every tarball through it', async () => {
    const doc = (await get('/artifactory/api/npm/npm-all/shared', { accept: ABBREVIATED })).json();
    expect(Object.keys(doc.versions).sort()).toEqual(['1.0.0', '2.0.0', '3.0.0-local.1']);
    expect(doc['dist-tags'].latest).toBe('3.0.0-local.1');
    for (const [v, key] of [['1.0.0', 'up-local'], ['3.0.0-local.1', 'npm-mine']]) {
      const url = new URL(doc.versions[v].dist.tarball);
      expect(url.pathname).toBe(`/artifactory/api/npm/npm-all/shared/-/shared-${v}.tgz`);
      const res = await get(url.pathname);
      expect(res.statusCode, v).toBe(200);
      expect(res.rawPayload.equals(tarballs[`${key}:shared@${v}`])).toBe(true);
    }
    expect((await get('/artifactory/api/npm/npm-all/mine-only')).json().versions['1.0.0'].dist.tarball).toContain('/api/npm/npm-all/mine-only/-/');
  });

  it('publishes through the virtual repository to its defaultDeploymentRepo, and reads ?write=true from there', async () => {
    expect(await publish(node, 'npm-all', 'via-virtual', '1.0.0')).toBe(201);
    expect((await get('/artifactory/npm-mine/via-virtual/-/via-virtual-1.0.0.tgz')).statusCode).toBe(200);
    const write = (await get('/artifactory/api/npm/npm-all/shared?write=true')).json();
    expect(Object.keys(write.versions)).toEqual(['3.0.0-local.1']);
    write.versions['3.0.0-local.1'].deprecated = 'local build';
    const dep = await node.request({ method: 'PUT', url: '/artifactory/api/npm/npm-all/shared', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(write) });
    expect(dep.statusCode).toBe(200);
    expect((await get('/artifactory/api/npm/npm-mine/shared')).json().versions['3.0.0-local.1'].deprecated).toBe('local build');
  });

  it('searches local members and the upstream through a virtual repository', async () => {
    const names = (await get('/artifactory/api/npm/npm-all/-/v1/search?text=shared&size=20')).json().objects.map((o: { package: { name: string } }) => o.package.name);
    expect(names).toEqual(['shared']);
    const far = (await get('/artifactory/api/npm/npm-all/-/v1/search?text=away')).json();
    expect(far.objects.map((o: { package: { name: string } }) => o.package.name)).toEqual(['@far/away']);
  });

  it('forwards npm audit to the upstream of a remote, body and encoding as sent', async () => {
    const report = { 'left-pad': ['1.3.0'] };
    const gz = gzipSync(JSON.stringify(report));
    const res = await node.request({
      method: 'POST',
      url: '/artifactory/api/npm/npm-audit/-/npm/v1/security/advisories/bulk',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: ADMIN_AUTH },
      payload: gz,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ 'left-pad': [{ id: 1, title: 'from the fake upstream' }] });
    const seen = audits.at(-1)!;
    expect(seen.path).toBe('/registry/-/npm/v1/security/advisories/bulk');
    expect(seen.encoding).toBe('gzip');
    expect(JSON.parse(gunzipSync(seen.body).toString())).toEqual(report);
  });
});
