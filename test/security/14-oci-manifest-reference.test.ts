import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, startTestNode, type TestNode } from '../helpers/node-context.js';
import { errorCode, h, OciClient, type OciResponse, type OciTarget } from '../http/oci-client.js';

/**
 * Issue 12, item 14: a manifest request whose reference is neither a valid tag nor a digest
 * was answered 400 MANIFEST_INVALID before authentication. Now every manifest GET, HEAD and
 * DELETE authenticates and authorises first (401 with the registry's challenges for an
 * anonymous caller), then answers the spec's 404 MANIFEST_UNKNOWN: such a manifest is simply
 * not there. Local, remote and virtual repositories, at /v2/ and at the repository-scoped API.
 * A push to such a reference stays a 400, after authentication too.
 */

const STRANGER = basic('stranger', 'Stranger-Pw1');
const BAD_REFS = ['.hidden', '-dash', 'x'.repeat(129), 'sha256:abc', `md5:${'a'.repeat(32)}`, 'sha256:' + 'A'.repeat(64)];

describe('item 14: malformed manifest references are not found, after authentication', () => {
  let node: TestNode;
  const req = async (method: string, url: string, authorization?: string, body?: string): Promise<OciResponse> => {
    const r = await node.request({ method: method as 'GET', url, headers: { authorization: authorization ?? basic('admin', 'admin-Passw0rd!') }, payload: body });
    return { status: r.statusCode, headers: r.headers, body: r.rawPayload };
  };
  const setAnonymous = async (on: boolean) => {
    const r = await node.request({ method: 'PATCH', url: '/artifactory/api/system/configuration', headers: { 'content-type': 'application/yaml' }, payload: `security:\n  anonAccessEnabled: ${on}\n` });
    expect(r.statusCode, r.body).toBe(200);
  };
  const urls = (ref: string) => [
    `/v2/docker-local/app/manifests/${encodeURIComponent(ref)}`,
    `/artifactory/api/docker/docker-local/v2/app/manifests/${encodeURIComponent(ref)}`,
    `/v2/docker-remote/app/manifests/${encodeURIComponent(ref)}`,
    `/v2/docker-virtual/app/manifests/${encodeURIComponent(ref)}`,
  ];

  beforeAll(async () => {
    node = await startTestNode();
    for (const [key, config] of [
      ['docker-local', { rclass: 'local' }],
      // Never asked: a malformed reference does not reach the upstream.
      ['docker-remote', { rclass: 'remote', url: 'http://127.0.0.1:9/' }],
      ['docker-virtual', { rclass: 'virtual', repositories: ['docker-local', 'docker-remote'], defaultDeploymentRepo: 'docker-local' }],
    ] as const) {
      const r = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { packageType: 'docker', ...config } });
      expect(r.statusCode, r.body).toBe(200);
    }
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/security/users/stranger', payload: { password: 'Stranger-Pw1' } })).statusCode).toBe(201);
    const t: OciTarget = { repoKey: 'docker-local', close: async () => undefined, request: (m, p, o = {}) => req(m, p, o.headers?.authorization, o.body?.toString()) };
    await new OciClient(t, 'docker-local').pushImage('app', 'v1');
    await setAnonymous(false);
  });
  afterAll(async () => {
    await node?.close();
  });

  it('challenges an anonymous caller (401 with WWW-Authenticate) before looking at the reference', async () => {
    for (const ref of BAD_REFS) {
      for (const url of urls(ref)) {
        for (const method of ['GET', 'HEAD', 'DELETE']) {
          // A remote repository is read-only: a DELETE there is 405 whoever asks.
          if (method === 'DELETE' && url.includes('docker-remote')) continue;
          const r = await req(method, url, '');
          expect([method, url, r.status]).toEqual([method, url, 401]);
          expect(h(r, 'www-authenticate')).toMatch(/^Bearer realm="[^"]+\/token",service="[^"]+",scope="repository:[^"]+"/);
          if (method !== 'HEAD') expect(errorCode(r)).toBe('UNAUTHORIZED');
        }
      }
    }
  });

  it('answers 404 MANIFEST_UNKNOWN to an authenticated reader', async () => {
    for (const ref of BAD_REFS) {
      for (const url of urls(ref)) {
        const get = await req('GET', url);
        expect([url, get.status, errorCode(get)]).toEqual([url, 404, 'MANIFEST_UNKNOWN']);
        const head = await req('HEAD', url);
        expect([url, head.status]).toEqual([url, 404]);
      }
      const del = await req('DELETE', urls(ref)[0]);
      expect([ref, del.status, errorCode(del)]).toEqual([ref, 404, 'MANIFEST_UNKNOWN']);
    }
    // What was pushed is still there.
    expect((await req('GET', '/v2/docker-local/app/manifests/v1')).status).toBe(200);
  });

  it('refuses a user without read permission the same way for good and bad references', async () => {
    // The repository is hidden from the stranger (item 7): the answer is that of a repository that does not exist.
    for (const ref of ['v1', ...BAD_REFS]) {
      const r = await req('GET', urls(ref)[0], STRANGER);
      expect([ref, r.status, errorCode(r)]).toEqual([ref, 404, 'NAME_UNKNOWN']);
    }
  });

  it('with anonymous access on, an anonymous reader also gets 404 MANIFEST_UNKNOWN', async () => {
    const target = await node.request({
      method: 'PUT',
      url: '/artifactory/api/v2/security/permissions/anon-docker',
      payload: { name: 'anon-docker', repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['docker-local'], actions: { users: { anonymous: ['read'] } } } },
    });
    expect(target.statusCode, target.body).toBeLessThan(300);
    await setAnonymous(true);
    try {
      const r = await req('GET', urls('.hidden')[0], '');
      expect([r.status, errorCode(r)]).toEqual([404, 'MANIFEST_UNKNOWN']);
    } finally {
      await setAnonymous(false);
    }
  });

  it('a push to a malformed reference is a 400 after authentication', async () => {
    const anonymous = await req('PUT', urls('.hidden')[0], '', '{}');
    expect(anonymous.status).toBe(401);
    const admin = await req('PUT', urls('.hidden')[0], undefined, '{}');
    expect([admin.status, errorCode(admin)]).toEqual([400, 'MANIFEST_INVALID']);
  });
});
