import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestNode, type TestNode } from '../helpers/node-context.js';
import { OciClient, sha256, type OciResponse, type OciTarget } from './oci-client.js';
import { parseChallenges } from '../../src/formats/oci/service/remote-upstream.js';
import { RecordingProxy } from './oci-remote-upstreams.js';

/**
 * Token authentication towards the upstream of a remote docker repository. The upstream is a
 * second Arca node (anonymous access off): its registry API challenges with `Bearer
 * realm=…/v2/token` and Basic; the remote sends no credentials until challenged, then asks
 * the token service with its username and password and pulls with the token. A recording
 * proxy in front of the upstream shows the exchange.
 */

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

function injectTarget(node: TestNode, repoKey: string): OciTarget {
  return {
    repoKey,
    close: async () => undefined,
    async request(method, path, opts = {}) {
      const r = await node.request({ method: method as 'GET', url: path, headers: opts.headers, payload: opts.body });
      return { status: r.statusCode, headers: r.headers, body: r.rawPayload };
    },
  };
}

describe('parsing WWW-Authenticate', () => {
  it('reads several challenges from one header, quoted and bare values', () => {
    expect(parseChallenges('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push", Basic realm="Arca"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' } },
      { scheme: 'basic', params: { realm: 'Arca' } },
    ]);
    expect(parseChallenges('Basic realm=registry')).toEqual([{ scheme: 'basic', params: { realm: 'registry' } }]);
    expect(parseChallenges(undefined)).toEqual([]);
  });
});

describe('remote docker repository with token authentication (an Arca node as upstream)', () => {
  let upstream: TestNode;
  let proxy: RecordingProxy;
  let node: TestNode;
  let image: Awaited<ReturnType<OciClient['pushImage']>>;

  const get = async (path: string): Promise<OciResponse> => {
    const r = await node.request({ method: 'GET', url: path, headers: { accept: OCI_MANIFEST } });
    return { status: r.statusCode, headers: r.headers, body: r.rawPayload };
  };
  const remote = (key: string, body: Record<string, unknown>) =>
    node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'remote', packageType: 'docker', assumedOfflinePeriodSecs: 0, ...body } });

  beforeAll(async () => {
    upstream = await startTestNode();
    await upstream.app.listen({ port: 0, host: '127.0.0.1' });
    const upUrl = `http://127.0.0.1:${(upstream.app.server.address() as { port: number }).port}`;
    expect((await upstream.request({ method: 'PUT', url: '/artifactory/api/repositories/up-local', payload: { rclass: 'local', packageType: 'docker' } })).statusCode).toBe(200);
    image = await new OciClient(injectTarget(upstream, 'up-local'), 'up-local').pushImage('team/app', 'v1', { layers: ['token layer one', 'token layer two'] });
    proxy = await new RecordingProxy(upUrl).start();
    node = await startTestNode();
    const scoped = `${proxy.url}/artifactory/api/docker/up-local`;
    expect((await remote('arca-remote', { url: scoped, username: 'admin', password: ADMIN_PASSWORD })).statusCode).toBe(200);
    expect((await remote('arca-root', { url: proxy.url, username: 'admin', password: ADMIN_PASSWORD })).statusCode).toBe(200);
    expect((await remote('arca-badpw', { url: scoped, username: 'admin', password: 'not the password' })).statusCode).toBe(200);
    expect((await remote('arca-anon', { url: scoped })).statusCode).toBe(200);
  });
  afterAll(async () => {
    await node?.close();
    await proxy?.stop();
    await upstream?.close();
  });

  it('answers the Bearer challenge with a token from the upstream token service, then pulls with it', async () => {
    const m = await get('/v2/arca-remote/team/app/manifests/v1');
    expect(m.status, m.body.toString()).toBe(200);
    expect(m.body.toString()).toBe(image.manifest);
    const layers = JSON.parse(image.manifest).layers.map((l: { digest: string }) => l.digest);
    for (const d of layers) expect(sha256((await get(`/v2/arca-remote/team/app/blobs/${d}`)).body)).toBe(d);
    const seen = proxy.log.map((r) => `${r.method} ${r.path.split('?')[0].replace(/sha256:[0-9a-f]{64}/, 'D')} ${r.auth} ${r.status}`);
    expect(seen).toEqual([
      'GET /artifactory/api/docker/up-local/v2/team/app/manifests/v1 none 401',
      'GET /artifactory/api/docker/up-local/v2/token basic 200',
      'GET /artifactory/api/docker/up-local/v2/team/app/manifests/v1 bearer 200',
      'GET /artifactory/api/docker/up-local/v2/team/app/blobs/D bearer 200',
      'GET /artifactory/api/docker/up-local/v2/team/app/blobs/D bearer 200',
    ]);
    // The token request named the service and scope of the challenge.
    const tokenUrl = new URL(proxy.log[1].path, 'http://x');
    expect(tokenUrl.searchParams.get('scope')).toBe('repository:up-local/team/app:pull');
    expect(tokenUrl.searchParams.get('service')).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('works against the upstream /v2/ root too (the image name carries the upstream repository)', async () => {
    proxy.log.length = 0;
    const m = await get('/v2/arca-root/up-local/team/app/manifests/v1');
    expect(m.status, m.body.toString()).toBe(200);
    expect(m.body.toString()).toBe(image.manifest);
    expect(proxy.log.map((r) => `${r.path.split('?')[0]} ${r.auth} ${r.status}`)).toEqual([
      '/v2/up-local/team/app/manifests/v1 none 401',
      '/v2/token basic 200',
      '/v2/up-local/team/app/manifests/v1 bearer 200',
    ]);
  });

  it('reports refused credentials as UPSTREAM_FAILED naming the token service, and caches nothing', async () => {
    for (const key of ['arca-badpw', 'arca-anon']) {
      const m = await get(`/v2/${key}/team/app/manifests/v1`);
      expect(m.status, key).toBe(502);
      const message = JSON.parse(m.body.toString()).errors[0].message as string;
      expect(message).toMatch(/token service .*\/v2\/token answered HTTP 401/);
      // The remote's user name is not shown to callers (issue 12, item 7).
      expect(message).toMatch(key === 'arca-badpw' ? /with the remote's credentials/ : /no credentials configured/);
      expect(message).not.toContain("'admin'");
      const stored = await node.request({ method: 'GET', url: `/artifactory/api/storage/${key}/team` });
      expect(stored.statusCode).toBe(404);
    }
  });
});
