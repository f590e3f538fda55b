import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../helpers/fake-upstream.js';
import { startTestNode, type TestNode } from '../helpers/node-context.js';
import { errorCode, h, json, sha256, type OciResponse } from './oci-client.js';
import { DOCKER_REGISTRY, HttpPusher, RecordingProxy, startDockerRegistry, type RegistryProcess } from './oci-remote-upstreams.js';

/**
 * Remote docker repositories proxying the CNCF registry (the Debian `docker-registry`),
 * with a recording proxy between Arca and the registry to see which requests reach it.
 */

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

if (!DOCKER_REGISTRY) console.warn('[skip] remote docker repository tests: docker-registry is not installed (apt-get install docker-registry)');

describe.skipIf(!DOCKER_REGISTRY)('remote docker repositories (CNCF registry upstream)', () => {
  let registry: RegistryProcess;
  let proxy: RecordingProxy;
  let up: HttpPusher;
  let node: TestNode;
  let app: Awaited<ReturnType<HttpPusher['image']>>;

  const get = async (path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<OciResponse> => {
    const r = await node.request({ method: method as 'GET', url: path, headers });
    return { status: r.statusCode, headers: r.headers, body: r.rawPayload };
  };
  const remote = (key: string, extra: Record<string, unknown> = {}) =>
    node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'remote', packageType: 'docker', url: proxy.url, assumedOfflinePeriodSecs: 0, ...extra } });

  beforeAll(async () => {
    registry = await startDockerRegistry();
    proxy = await new RecordingProxy(registry.url).start();
    up = new HttpPusher(registry.url);
    app = await up.image('team/app', 'v1', ['first layer of team/app', randomBytes(4096)]);
    node = await startTestNode();
    expect((await remote('docker-remote')).statusCode).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await node?.close();
    await proxy?.stop();
    await registry?.stop();
  });

  it('pulls a manifest by tag and its blobs, verified, and serves them again from the cache', async () => {
    const m = await get('/v2/docker-remote/team/app/manifests/v1', { accept: OCI_MANIFEST });
    expect(m.status, m.body.toString()).toBe(200);
    expect(m.body.toString()).toBe(app.manifest);
    expect([h(m, 'docker-content-digest'), h(m, 'content-type')]).toEqual([app.digest, OCI_MANIFEST]);
    for (const d of [app.config, ...app.layers]) {
      const b = await get(`/v2/docker-remote/team/app/blobs/${d}`);
      expect(b.status).toBe(200);
      expect(sha256(b.body)).toBe(d);
    }
    // Also under the repository-scoped API, and by digest: all from the cache now.
    const before = proxy.log.length;
    expect((await get(`/artifactory/api/docker/docker-remote/v2/team/app/manifests/${app.digest}`)).body.toString()).toBe(app.manifest);
    expect((await get('/v2/docker-remote/team/app/manifests/v1', { accept: OCI_MANIFEST })).status).toBe(200);
    const ranged = await get(`/v2/docker-remote/team/app/blobs/${app.layers[1]}`, { range: 'bytes=0-99' });
    expect([ranged.status, ranged.body.length]).toEqual([206, 100]);
    expect(proxy.log.length).toBe(before);
    // The cache is ordinary items of the remote repository.
    const item = await node.request({ method: 'GET', url: `/artifactory/api/storage/docker-remote/team/app/${app.digest}/manifest.json` });
    expect(item.statusCode).toBe(200);
  });

  it('fetches a blob once for concurrent requests', async () => {
    const big = randomBytes(2 << 20);
    const img = await up.image('team/big', 'v1', [big]);
    const all = await Promise.all(Array.from({ length: 6 }, () => get(`/v2/docker-remote/team/big/blobs/${img.layers[0]}`)));
    for (const r of all) expect([r.status, sha256(r.body)]).toEqual([200, img.layers[0]]);
    expect(proxy.count(`/team/big/blobs/${img.layers[0]}`, 'GET')).toBe(1);
  });

  it('re-checks a tag once retrievalCachePeriodSecs have passed: a HEAD, and a GET only when the digest moved', async () => {
    const first = await up.image('team/moving', 'latest', ['moving one']);
    expect(h(await get('/v2/docker-remote/team/moving/manifests/latest'), 'docker-content-digest')).toBe(first.digest);
    const second = await up.image('team/moving', 'latest', ['moving two']);
    // Inside the cache period: the old manifest, and the upstream is not asked.
    const heads = () => proxy.count('/team/moving/manifests/latest', 'HEAD');
    const gets = () => proxy.count('/team/moving/manifests/latest', 'GET');
    expect([heads(), gets()]).toEqual([0, 1]);
    expect(h(await get('/v2/docker-remote/team/moving/manifests/latest'), 'docker-content-digest')).toBe(first.digest);
    expect([heads(), gets()]).toEqual([0, 1]);
    // Period 0: every pull checks; the moved tag is fetched, then an unchanged one is only HEADed.
    expect((await node.request({ method: 'POST', url: '/artifactory/api/repositories/docker-remote', payload: { retrievalCachePeriodSecs: 0 } })).statusCode).toBe(200);
    const moved = await get('/v2/docker-remote/team/moving/manifests/latest');
    expect([h(moved, 'docker-content-digest'), moved.body.toString()]).toEqual([second.digest, second.manifest]);
    expect([heads(), gets()]).toEqual([1, 2]);
    expect(h(await get('/v2/docker-remote/team/moving/manifests/latest'), 'docker-content-digest')).toBe(second.digest);
    expect([heads(), gets()]).toEqual([2, 2]);
    // The first manifest stays cached by digest.
    expect((await get(`/v2/docker-remote/team/moving/manifests/${first.digest}`)).status).toBe(200);
  });

  it('serves cached tags while the upstream is down, and says why for what it never cached', async () => {
    proxy.down = true;
    try {
      const cached = await get('/v2/docker-remote/team/moving/manifests/latest');
      expect(cached.status).toBe(200);
      const blob = await get(`/v2/docker-remote/team/app/blobs/${app.layers[0]}`);
      expect(blob.status).toBe(200);
      const missing = await get('/v2/docker-remote/team/never/manifests/v1');
      expect(missing.status).toBe(502);
      expect(json(missing).errors[0].message).toMatch(/unreachable/);
      const tags = await get('/v2/docker-remote/team/moving/tags/list');
      expect([tags.status, json(tags).tags]).toEqual([200, ['latest']]);
    } finally {
      proxy.down = false;
    }
  });

  it('lists the upstream tags with paging, and proxies a multi-platform index and its manifests', async () => {
    for (const t of ['v2', 'v3']) await up.image('team/app', t, [`team/app ${t}`]);
    const tags = await get('/v2/docker-remote/team/app/tags/list');
    expect(json(tags)).toEqual({ name: 'docker-remote/team/app', tags: ['v1', 'v2', 'v3'] });
    const page = await get('/v2/docker-remote/team/app/tags/list?n=2');
    expect(json(page).tags).toEqual(['v1', 'v2']);
    expect(h(page, 'link')).toBe('</v2/docker-remote/team/app/tags/list?n=2&last=v2>; rel="next"');
    expect((await get('/v2/docker-remote/team/nothing/tags/list')).status).toBe(404);

    const arm = await up.image('team/multi', 'arm', ['arm layer']);
    const amd = await up.image('team/multi', 'amd', ['amd layer']);
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { mediaType: OCI_MANIFEST, digest: amd.digest, size: amd.manifest.length, platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: OCI_MANIFEST, digest: arm.digest, size: arm.manifest.length, platform: { os: 'linux', architecture: 'arm64' } },
      ],
    });
    const indexDigest = await up.manifest('team/multi', 'all', index, OCI_INDEX);
    const got = await get('/v2/docker-remote/team/multi/manifests/all', { accept: `${OCI_MANIFEST}, ${OCI_INDEX}` });
    expect([got.status, h(got, 'content-type'), h(got, 'docker-content-digest')]).toEqual([200, OCI_INDEX, indexDigest]);
    // A client that lists no index type is not given one (as from a local repository).
    expect(errorCode(await get('/v2/docker-remote/team/multi/manifests/all', { accept: OCI_MANIFEST }))).toBe('MANIFEST_UNKNOWN');
    const child = await get(`/v2/docker-remote/team/multi/manifests/${arm.digest}`, { accept: OCI_MANIFEST });
    expect(child.body.toString()).toBe(arm.manifest);
    expect(sha256((await get(`/v2/docker-remote/team/multi/blobs/${arm.layers[0]}`)).body)).toBe(arm.layers[0]);
  });

  it('answers MANIFEST_UNKNOWN and BLOB_UNKNOWN for what the upstream does not have', async () => {
    expect(errorCode(await get('/v2/docker-remote/team/app/manifests/nope'))).toBe('MANIFEST_UNKNOWN');
    expect(errorCode(await get(`/v2/docker-remote/team/app/manifests/sha256:${'0'.repeat(64)}`))).toBe('MANIFEST_UNKNOWN');
    const blob = await get(`/v2/docker-remote/team/app/blobs/sha256:${'0'.repeat(64)}`);
    expect([blob.status, errorCode(blob)]).toEqual([404, 'BLOB_UNKNOWN']);
  });

  it('is read-only: pushes, uploads and deletes answer 405 UNSUPPORTED in the OCI envelope', async () => {
    const auth = { 'content-type': OCI_MANIFEST };
    for (const [method, path] of [
      ['POST', '/v2/docker-remote/team/app/blobs/uploads/'],
      ['PUT', '/v2/docker-remote/team/app/manifests/v9'],
      ['DELETE', '/v2/docker-remote/team/app/manifests/v1'],
      ['DELETE', `/v2/docker-remote/team/app/blobs/${app.layers[0]}`],
      ['PATCH', '/v2/docker-remote/team/app/blobs/uploads/0f0f0f0f-0000-4000-8000-000000000000'],
    ] as const) {
      const r = await node.request({ method, url: path, headers: auth, payload: method === 'PUT' ? app.manifest : undefined });
      expect([r.statusCode, r.json().errors[0].code], `${method} ${path}`).toEqual([405, 'UNSUPPORTED']);
    }
    expect((await get('/v2/docker-remote/team/app/manifests/v1')).status).toBe(200);
  });

  it('refuses upstream content whose digest does not match, and caches nothing of it', async () => {
    const fake = await new FakeUpstream().start();
    try {
      const claimed = `sha256:${'1'.repeat(64)}`;
      const manifest = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: claimed, size: 2 }, layers: [] });
      fake.on(`/v2/bad/blobs/${claimed}`, { status: 200, body: 'not what the digest says' });
      fake.on('/v2/bad/manifests/v1', { status: 200, body: manifest, headers: { 'content-type': OCI_MANIFEST, 'docker-content-digest': claimed } });
      fake.on('/v2/bad/manifests/junk', { status: 200, body: '{"schemaVersion": 2, "config": 1}', headers: { 'content-type': OCI_MANIFEST } });
      expect((await node.request({ method: 'PUT', url: '/artifactory/api/repositories/docker-fake', payload: { rclass: 'remote', packageType: 'docker', url: fake.url } })).statusCode).toBe(200);
      for (let i = 1; i <= 2; i++) {
        const b = await get(`/v2/docker-fake/bad/blobs/${claimed}`);
        expect([b.status, errorCode(b)]).toEqual([502, 'UNKNOWN']);
        expect(json(b).errors[0].message).toMatch(/not cached/);
        expect(fake.count(`/v2/bad/blobs/${claimed}`)).toBe(i);
      }
      const m = await get('/v2/docker-fake/bad/manifests/v1');
      expect([m.status, json(m).errors[0].message]).toEqual([502, expect.stringMatching(/has sha256 [0-9a-f]{64}, not sha256:1111/)]);
      const junk = await get('/v2/docker-fake/bad/manifests/junk');
      expect([junk.status, json(junk).errors[0].message]).toEqual([502, expect.stringMatching(/is not valid/)]);
      const items = await node.request({ method: 'GET', url: '/artifactory/api/storage/docker-fake/bad' });
      expect(items.statusCode).toBe(404);
    } finally {
      await fake.stop();
    }
  });
});
