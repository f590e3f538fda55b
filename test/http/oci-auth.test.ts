import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, startTestNode, type TestNode } from '../helpers/node-context.js';
import { errorCode, h, json, OciClient, sha256, type OciResponse, type OciTarget } from './oci-client.js';

const READER = basic('reader', 'Reader-Pw1');
const PUSHER = basic('pusher', 'Pusher-Pw1');

/** Authentication and authorisation of the registry API: challenges, the token service, permissions. */
describe('OCI registry authentication', () => {
  let node: TestNode;
  let t: OciTarget;
  let c: OciClient;
  let image: { digest: string };
  const req = async (method: string, url: string, authorization: string, body?: string): Promise<OciResponse> => {
    const r = await node.request({ method: method as 'GET', url, headers: { authorization }, payload: body });
    return { status: r.statusCode, headers: r.headers, body: r.rawPayload };
  };
  const setAnonymous = async (on: boolean) => {
    const r = await node.request({
      method: 'PATCH',
      url: '/artifactory/api/system/configuration',
      headers: { 'content-type': 'application/yaml' },
      payload: `security:\n  anonAccessEnabled: ${on}\n`,
    });
    expect(r.statusCode, r.body).toBe(200);
  };

  beforeAll(async () => {
    node = await startTestNode();
    for (const key of ['docker-local', 'other-local']) {
      expect((await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'local', packageType: 'docker' } })).statusCode).toBe(200);
    }
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/repositories/generic-local', payload: { rclass: 'local', packageType: 'generic' } })).statusCode).toBe(200);
    for (const [name, pw] of [
      ['reader', 'Reader-Pw1'],
      ['pusher', 'Pusher-Pw1'],
    ]) {
      expect((await node.request({ method: 'PUT', url: `/artifactory/api/security/users/${name}`, payload: { password: pw } })).statusCode).toBe(201);
    }
    const target = (name: string, users: Record<string, string[]>, include = ['**']) =>
      node.request({
        method: 'PUT',
        url: `/artifactory/api/v2/security/permissions/${name}`,
        payload: { name, repo: { 'include-patterns': include, 'exclude-patterns': [], repositories: ['docker-local'], actions: { users } } },
      });
    expect((await target('oci-reader', { reader: ['read'], anonymous: ['read'] })).statusCode).toBeLessThan(300);
    expect((await target('oci-pusher', { pusher: ['read', 'write'] })).statusCode).toBeLessThan(300);
    t = {
      repoKey: 'docker-local',
      close: async () => undefined,
      request: (method, path, opts = {}) => req(method, path, opts.headers?.authorization ?? basic('admin', 'admin-Passw0rd!'), opts.body?.toString()),
    };
    c = new OciClient(t, 'docker-local');
    image = await c.pushImage('app', 'v1');
  });
  afterAll(async () => {
    await node?.close();
  });

  it('challenges a base check without credentials with a Bearer token service and Basic', async () => {
    const r = await req('GET', '/v2/', '');
    expect([r.status, errorCode(r)]).toEqual([401, 'UNAUTHORIZED']);
    const challenges = r.headers['www-authenticate'] as string[];
    expect(challenges[0]).toBe('Bearer realm="http://localhost:80/v2/token",service="localhost"');
    expect(challenges[1]).toMatch(/^Basic realm=/);
    const scoped = await req('GET', '/artifactory/api/docker/docker-local/v2/app/manifests/v1', '');
    expect(scoped.status).toBe(401);
    expect((scoped.headers['www-authenticate'] as string[])[0]).toBe(
      'Bearer realm="http://localhost:80/artifactory/api/docker/docker-local/v2/token",service="localhost",scope="repository:docker-local/app:pull"',
    );
    expect((await req('GET', '/v2/', READER)).status).toBe(200);
    expect((await req('GET', '/v2/', basic('reader', 'wrong'))).status).toBe(401);
  });

  it('issues a short-lived access token for Basic credentials that works as a Bearer token', async () => {
    const tok = await req('GET', '/v2/token?service=localhost&scope=repository:docker-local/app:pull', READER);
    expect(tok.status).toBe(200);
    const body = json(tok);
    expect(body.token).toBe(body.access_token);
    expect(body.expires_in).toBe(300);
    const bearer = `Bearer ${body.token}`;
    expect((await req('GET', '/v2/', bearer)).status).toBe(200);
    const m = await req('GET', '/v2/docker-local/app/manifests/v1', bearer);
    expect([m.status, h(m, 'docker-content-digest')]).toEqual([200, image.digest]);
    expect((await req('GET', '/v2/token', basic('reader', 'wrong'))).status).toBe(401);
    const scoped = await req('GET', '/artifactory/api/docker/docker-local/v2/token', READER);
    expect(scoped.status).toBe(200);
    const viaScoped = await req('GET', '/artifactory/api/docker/docker-local/v2/app/manifests/v1', `Bearer ${json(scoped).token}`);
    expect([viaScoped.status, h(viaScoped, 'docker-content-digest')]).toEqual([200, image.digest]);
    expect((await req('GET', '/v2/docker-local/app/manifests/v1', 'Bearer not.a.token')).status).toBe(401);
  });

  it('issues tokens through the OAuth2 form (grant_type=password) too', async () => {
    const post = (form: string) =>
      node.request({ method: 'POST', url: '/v2/token', headers: { authorization: '', 'content-type': 'application/x-www-form-urlencoded' }, payload: form });
    const ok = await post('grant_type=password&username=reader&password=Reader-Pw1&service=localhost&scope=repository%3Adocker-local%2Fapp%3Apull&client_id=docker');
    expect(ok.statusCode, ok.body).toBe(200);
    const body = JSON.parse(ok.body);
    expect([body.token_type, body.expires_in, body.scope]).toEqual(['Bearer', 300, 'repository:docker-local/app:pull']);
    expect((await req('GET', '/v2/docker-local/app/manifests/v1', `Bearer ${body.access_token}`)).status).toBe(200);
    expect((await post('grant_type=password&username=reader&password=wrong')).statusCode).toBe(401);
    const refresh = await post('grant_type=refresh_token&refresh_token=x');
    expect([refresh.statusCode, JSON.parse(refresh.body).errors[0].code]).toEqual([400, 'UNSUPPORTED']);
  });

  it('refuses anonymous tokens while anonymous access is off, and gives read-only ones when it is on', async () => {
    expect((await req('GET', '/v2/token', '')).status).toBe(401);
    expect((await req('GET', '/v2/docker-local/app/manifests/v1', '')).status).toBe(401);
    await setAnonymous(true);
    try {
      const tok = await req('GET', '/v2/token', '');
      expect(tok.status).toBe(200);
      const bearer = `Bearer ${json(tok).token}`;
      expect((await req('GET', '/v2/', bearer)).status).toBe(200);
      expect((await req('GET', '/v2/docker-local/app/manifests/v1', bearer)).status).toBe(200);
      const push = await req('POST', '/v2/docker-local/app/blobs/uploads/', bearer);
      expect([push.status, errorCode(push)]).toEqual([401, 'UNAUTHORIZED']);
      // One character of the signature changed, well before its end (whose last bits may be unused).
      const issued = json(tok).token as string;
      const at = issued.lastIndexOf('.') + 5;
      const forged = `${issued.slice(0, at)}${issued[at] === 'A' ? 'B' : 'A'}${issued.slice(at + 1)}`;
      expect(forged).not.toBe(issued);
      expect((await req('GET', '/v2/docker-local/app/manifests/v1', `Bearer ${forged}`)).status).toBe(401);
    } finally {
      await setAnonymous(false);
    }
  });

  it('answers DENIED for a user without the permission, and lets a pusher push but not move a tag', async () => {
    const post = await req('POST', '/v2/docker-local/app/blobs/uploads/', READER);
    expect([post.status, errorCode(post)]).toEqual([403, 'DENIED']);
    // A repository the reader may not read at all answers as one that does not exist (issue 12, item 7).
    const other = await req('GET', '/v2/other-local/app/tags/list', READER);
    const none = await req('GET', '/v2/no-such-local/app/tags/list', READER);
    expect([other.status, errorCode(other)]).toEqual([404, 'NAME_UNKNOWN']);
    expect([none.status, errorCode(none)]).toEqual([404, 'NAME_UNKNOWN']);
    const pusher = new OciClient({ ...t, request: (m, p, o = {}) => req(m, p, PUSHER, o.body?.toString()) }, 'docker-local');
    const first = await pusher.pushImage('team', 'v1');
    expect(first.res.status).toBe(201);
    const again = await pusher.putManifest('team', 'v1', first.manifest, 'application/vnd.oci.image.manifest.v1+json');
    expect(again.status).toBe(201);
    await expect(pusher.pushImage('team', 'v1', { layers: ['different'] })).rejects.toThrow(/403/);
    // A mount from a repository the pusher cannot read falls back to an upload session.
    const hidden = await new OciClient(t, 'other-local').pushBlob('secret', 'secret layer');
    const mount = await req('POST', `/v2/docker-local/team/blobs/uploads/?mount=${hidden}&from=other-local/secret`, PUSHER);
    expect([mount.status, h(mount, 'location')]).toEqual([202, expect.stringContaining('/v2/docker-local/team/blobs/uploads/')]);
    expect((await req('HEAD', `/v2/docker-local/team/blobs/${hidden}`, PUSHER)).status).toBe(404);
    const del = await req('DELETE', `/v2/docker-local/team/manifests/v1`, PUSHER);
    expect([del.status, errorCode(del)]).toEqual([403, 'DENIED']);
  });

  it('lists in the catalog only the images the caller may read', async () => {
    await new OciClient(t, 'other-local').pushImage('hidden', 'v1');
    const admin = json(await req('GET', '/v2/_catalog', basic('admin', 'admin-Passw0rd!'))).repositories;
    expect(admin).toEqual(expect.arrayContaining(['docker-local/app', 'other-local/hidden']));
    const reader = json(await req('GET', '/v2/_catalog', READER)).repositories;
    expect(reader).toContain('docker-local/app');
    expect(reader).not.toContain('other-local/hidden');
    const scoped = json(await req('GET', '/artifactory/api/docker/other-local/v2/_catalog', basic('admin', 'admin-Passw0rd!'))).repositories;
    expect(scoped).toEqual(['hidden']);
  });

  it('refuses repositories of other formats and generic deploys into registry repositories', async () => {
    const r = await req('GET', '/v2/generic-local/app/manifests/v1', READER);
    expect([r.status, errorCode(r)]).toEqual([404, 'NAME_UNKNOWN']);
    const put = await req('PUT', '/artifactory/docker-local/app/v2/manifest.json', basic('admin', 'admin-Passw0rd!'), '{}');
    expect(put.status).toBe(400);
    expect(put.body.toString()).toContain('registry API');
    const listing = await req('GET', '/artifactory/api/storage/docker-local/app/v1/manifest.json', basic('admin', 'admin-Passw0rd!'));
    expect([listing.status, json(listing).checksums.sha256]).toEqual([200, image.digest.slice(7)]);
    expect(sha256('x')).toMatch(/^sha256:/);
  });
});
