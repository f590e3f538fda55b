import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, startTestNode, type TestNode } from '../helpers/node-context.js';
import { errorCode, h, json, OciClient, sha256, type OciResponse, type OciTarget } from './oci-client.js';
import { DOCKER_REGISTRY, HttpPusher, RecordingProxy, startDockerRegistry, type RegistryProcess } from './oci-remote-upstreams.js';

/**
 * Virtual docker repositories over a local repository and a remote one proxying the CNCF
 * registry: resolution order (local members first), merged tags and referrers, pushes to
 * the defaultDeploymentRepo, member permissions, and a failing upstream.
 */

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

if (!DOCKER_REGISTRY) console.warn('[skip] virtual docker repository tests: docker-registry is not installed (apt-get install docker-registry)');

describe.skipIf(!DOCKER_REGISTRY)('virtual docker repositories', () => {
  let registry: RegistryProcess;
  let proxy: RecordingProxy;
  let node: TestNode;
  let local: OciClient;
  let virtual: OciClient;
  let upShared: Awaited<ReturnType<HttpPusher['image']>>;
  let upOnly: Awaited<ReturnType<HttpPusher['image']>>;
  let localShared: Awaited<ReturnType<OciClient['pushImage']>>;

  const target = (authorization?: string): OciTarget => ({
    repoKey: 'docker-virtual',
    close: async () => undefined,
    async request(method, path, opts = {}) {
      const headers = { ...(authorization ? { authorization } : {}), ...(opts.headers ?? {}) };
      const r = await node.request({ method: method as 'GET', url: path, headers, payload: opts.body });
      return { status: r.statusCode, headers: r.headers, body: r.rawPayload };
    },
  });
  const get = (path: string, headers: Record<string, string> = { accept: OCI_MANIFEST }, method = 'GET'): Promise<OciResponse> => target().request(method, path, { headers });
  const repo = (key: string, body: Record<string, unknown>) => node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { packageType: 'docker', ...body } });

  beforeAll(async () => {
    registry = await startDockerRegistry();
    proxy = await new RecordingProxy(registry.url).start();
    const up = new HttpPusher(registry.url);
    upShared = await up.image('shared/app', 'v1', ['shared app from upstream']);
    await up.image('shared/app', 'up-only', ['up-only tag']);
    upOnly = await up.image('upstream/only', 'v1', ['only upstream has this image']);
    node = await startTestNode();
    expect((await repo('docker-local', { rclass: 'local' })).statusCode).toBe(200);
    expect((await repo('docker-remote', { rclass: 'remote', url: proxy.url, assumedOfflinePeriodSecs: 0, retrievalCachePeriodSecs: 0 })).statusCode).toBe(200);
    // The remote is listed first: locals still win.
    expect((await repo('docker-virtual', { rclass: 'virtual', repositories: ['docker-remote', 'docker-local'], defaultDeploymentRepo: 'docker-local' })).statusCode).toBe(200);
    expect((await repo('docker-readonly', { rclass: 'virtual', repositories: ['docker-local', 'docker-remote'] })).statusCode).toBe(200);
    local = new OciClient(target(), 'docker-local');
    virtual = new OciClient(target(), 'docker-virtual');
    localShared = await local.pushImage('shared/app', 'v1', { layers: ['shared app from local'] });
    await local.pushImage('shared/app', 'local-only', { layers: ['local-only tag'] });
  }, 60_000);
  afterAll(async () => {
    await node?.close();
    await proxy?.stop();
    await registry?.stop();
  });

  it('resolves local members first, then remote ones, for manifests and blobs', async () => {
    const shared = await get('/v2/docker-virtual/shared/app/manifests/v1');
    expect([shared.status, shared.body.toString()]).toEqual([200, localShared.manifest]);
    const only = await get('/v2/docker-virtual/upstream/only/manifests/v1');
    expect([only.status, only.body.toString()]).toEqual([200, upOnly.manifest]);
    expect(sha256((await get(`/v2/docker-virtual/upstream/only/blobs/${upOnly.layers[0]}`)).body)).toBe(upOnly.layers[0]);
    // By digest, the upstream's own manifest of the shared name is there too.
    expect((await get(`/v2/docker-virtual/shared/app/manifests/${upShared.digest}`)).body.toString()).toBe(upShared.manifest);
    expect(errorCode(await get('/v2/docker-virtual/nowhere/app/manifests/v1'))).toBe('MANIFEST_UNKNOWN');
  });

  it('merges the tags of every member', async () => {
    const tags = await get('/v2/docker-virtual/shared/app/tags/list');
    expect(json(tags)).toEqual({ name: 'docker-virtual/shared/app', tags: ['local-only', 'up-only', 'v1'] });
    const page = await get('/v2/docker-virtual/shared/app/tags/list?n=1&last=local-only');
    expect(json(page).tags).toEqual(['up-only']);
    expect(h(page, 'link')).toBe('</v2/docker-virtual/shared/app/tags/list?n=1&last=up-only>; rel="next"');
    expect((await get('/v2/docker-virtual/nowhere/app/tags/list')).status).toBe(404);
  });

  it('sends pushes to the defaultDeploymentRepo, keeping the virtual name in the URLs it gives', async () => {
    const pushed = await virtual.pushImage('pushed/app', 'v1', { layers: ['pushed through the virtual repository'] });
    expect(h(pushed.res, 'location')).toBe(`/v2/docker-virtual/pushed/app/manifests/${pushed.digest}`);
    expect((await get('/v2/docker-local/pushed/app/manifests/v1')).body.toString()).toBe(pushed.manifest);
    // A chunked upload through the virtual repository.
    const start = await virtual.t.request('POST', '/v2/docker-virtual/pushed/app/blobs/uploads/');
    const location = h(start, 'location')!;
    expect(location).toMatch(/^\/v2\/docker-virtual\/pushed\/app\/blobs\/uploads\//);
    expect((await virtual.t.request('PATCH', location, { headers: { 'content-type': 'application/octet-stream' }, body: 'chunk one, ' })).status).toBe(202);
    const status = await virtual.t.request('GET', location);
    expect([status.status, h(status, 'range')]).toEqual([204, '0-10']);
    const d = sha256('chunk one, chunk two');
    expect((await virtual.t.request('PUT', `${location}?digest=${d}`, { headers: { 'content-type': 'application/octet-stream' }, body: 'chunk two' })).status).toBe(201);
    expect((await get(`/v2/docker-local/pushed/app/blobs/${d}`)).body.toString()).toBe('chunk one, chunk two');
    // Deletes go there too.
    expect((await virtual.t.request('DELETE', '/v2/docker-virtual/pushed/app/manifests/v1')).status).toBe(202);
    expect((await get('/v2/docker-local/pushed/app/manifests/v1')).status).toBe(404);
    // Without a defaultDeploymentRepo: 405 UNSUPPORTED, nothing stored.
    for (const [method, path] of [
      ['POST', '/v2/docker-readonly/pushed/app/blobs/uploads/'],
      ['PUT', '/v2/docker-readonly/pushed/app/manifests/v2'],
    ] as const) {
      const r = await target().request(method, path, { headers: { 'content-type': OCI_MANIFEST }, body: pushed.manifest });
      expect([r.status, errorCode(r)], `${method} ${path}`).toEqual([405, 'UNSUPPORTED']);
    }
    expect((await get('/v2/docker-local/pushed/app/manifests/v2')).status).toBe(404);
  });

  it('answers a blob HEAD from the deployment repository only, so a push never skips a blob it needs', async () => {
    const head = await get(`/v2/docker-virtual/upstream/only/blobs/${upOnly.layers[0]}`, {}, 'HEAD');
    expect(head.status).toBe(404);
    expect((await get(`/v2/docker-virtual/upstream/only/blobs/${upOnly.layers[0]}`, {})).status).toBe(200);
    const localLayer = JSON.parse(localShared.manifest).layers[0].digest;
    const localHead = await get(`/v2/docker-virtual/shared/app/blobs/${localLayer}`, {}, 'HEAD');
    expect([localHead.status, h(localHead, 'docker-content-digest')]).toEqual([200, localLayer]);
  });

  it('merges referrers of every member', async () => {
    const empty = await local.pushBlob('shared/app', '{}');
    const sig = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.example.sig',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty, size: 2 },
      layers: [],
      subject: { mediaType: OCI_MANIFEST, digest: upShared.digest, size: upShared.manifest.length },
    });
    expect((await local.putManifest('shared/app', sha256(sig), sig, OCI_MANIFEST)).status).toBe(201);
    const refs = await get(`/v2/docker-virtual/shared/app/referrers/${upShared.digest}`);
    expect(json(refs).manifests.map((m: { digest: string; artifactType: string }) => [m.digest, m.artifactType])).toEqual([[sha256(sig), 'application/vnd.example.sig']]);
    const filtered = await get(`/v2/docker-virtual/shared/app/referrers/${upShared.digest}?artifactType=application/other`);
    expect([json(filtered).manifests, h(filtered, 'oci-filters-applied')]).toEqual([[], 'artifactType']);
  });

  it('skips members the caller may not read', async () => {
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/security/users/rita', payload: { password: 'Rita-Pw-1', email: 'rita@example.com' } })).statusCode).toBe(201);
    const perm = await node.request({
      method: 'PUT',
      url: '/artifactory/api/security/permissions/rita-reads',
      payload: { repositories: ['docker-virtual', 'docker-remote'], principals: { users: { rita: ['r'] } } },
    });
    expect(perm.statusCode, perm.body).toBe(201);
    const rita = target(basic('rita', 'Rita-Pw-1'));
    const shared = await rita.request('GET', '/v2/docker-virtual/shared/app/manifests/v1', { headers: { accept: OCI_MANIFEST } });
    expect([shared.status, shared.body.toString()]).toEqual([200, upShared.manifest]);
    const tags = await rita.request('GET', '/v2/docker-virtual/shared/app/tags/list');
    expect(json(tags).tags).toEqual(['up-only', 'v1']);
    const push = await rita.request('POST', '/v2/docker-virtual/shared/app/blobs/uploads/');
    expect([push.status, errorCode(push)]).toEqual([403, 'DENIED']);
  });

  it('keeps serving its local members and cached content while the upstream is down', async () => {
    proxy.down = true;
    try {
      expect((await get('/v2/docker-virtual/shared/app/manifests/local-only')).status).toBe(200);
      expect((await get('/v2/docker-virtual/upstream/only/manifests/v1')).body.toString()).toBe(upOnly.manifest);
      expect(json(await get('/v2/docker-virtual/shared/app/tags/list')).tags).toEqual(['local-only', 'v1']);
      expect(errorCode(await get('/v2/docker-virtual/upstream/never/manifests/v1'))).toBe('MANIFEST_UNKNOWN');
    } finally {
      proxy.down = false;
    }
  });
});
