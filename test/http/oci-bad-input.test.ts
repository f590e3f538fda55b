import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/node-context.js';
import { errorCode, h, json, OciClient, sha256, type OciResponse, type OciTarget } from './oci-client.js';

/** Bad requests to the registry API: a clear 4xx in the OCI envelope, and nothing stored. */
describe('OCI registry bad input', () => {
  let node: TestNode;
  let t: OciTarget;
  let c: OciClient;
  const req = async (method: string, url: string, opts: { headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<OciResponse> => {
    const r = await node.request({ method: method as 'GET', url, headers: opts.headers, payload: opts.body });
    return { status: r.statusCode, headers: r.headers, body: r.rawPayload };
  };
  /** Every item path below `folder` of the repository, through the storage API. */
  const stored = async (folder: string): Promise<string[]> => {
    const r = await req('GET', `/artifactory/api/storage/docker-local/${folder}?list&deep=1`);
    return r.status === 404 ? [] : (json(r).files as { uri: string }[]).map((f) => f.uri);
  };

  beforeAll(async () => {
    node = await startTestNode();
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/repositories/docker-local', payload: { rclass: 'local', packageType: 'docker' } })).statusCode).toBe(200);
    t = { repoKey: 'docker-local', close: async () => undefined, request: (m, p, o) => req(m, p, o) };
    c = new OciClient(t, 'docker-local');
  });
  afterAll(async () => {
    await node?.close();
  });

  it('answers every error in the OCI envelope with the API version header', async () => {
    const r = await req('GET', '/v2/docker-local/app/manifests/missing');
    expect(r.status).toBe(404);
    expect(h(r, 'content-type')).toMatch(/^application\/json/);
    expect(h(r, 'docker-distribution-api-version')).toBe('registry/2.0');
    expect(json(r)).toEqual({ errors: [{ code: 'MANIFEST_UNKNOWN', message: "Manifest 'missing' is not in 'docker-local/app'", detail: { reference: 'missing' } }] });
  });

  it('refuses malformed names, references and endpoints', async () => {
    const cases: [string, string, number, string][] = [
      ['GET', '/v2/docker-local/manifests/v1', 400, 'NAME_INVALID'],
      ['GET', '/v2/docker-local/APP/manifests/v1', 400, 'NAME_INVALID'],
      ['GET', '/v2/docker-local/a__b__/tags/list', 400, 'NAME_INVALID'],
      ['GET', '/v2/docker-local/app/manifests/.hidden', 404, 'MANIFEST_UNKNOWN'],
      ['PUT', '/v2/docker-local/app/manifests/.hidden', 400, 'MANIFEST_INVALID'],
      ['GET', `/v2/docker-local/app/blobs/md5:${'a'.repeat(32)}`, 400, 'DIGEST_INVALID'],
      ['GET', '/v2/docker-local/app/whatever/x', 404, 'NAME_UNKNOWN'],
      ['POST', '/v2/docker-local/app/manifests/v1', 405, 'UNSUPPORTED'],
      ['GET', '/v2/docker-local/app/tags/list?n=-1', 400, 'UNSUPPORTED'],
      ['GET', '/v2/docker-local/app/blobs/uploads/not-a-uuid', 404, 'BLOB_UPLOAD_UNKNOWN'],
      ['PUT', '/v2/docker-local/app/blobs/uploads/00000000-0000-4000-8000-000000000000?digest=' + sha256('x'), 404, 'BLOB_UPLOAD_UNKNOWN'],
    ];
    for (const [method, url, status, code] of cases) {
      const r = await req(method, url);
      expect([method, url, r.status, errorCode(r)]).toEqual([method, url, status, code]);
    }
  });

  it('closes an upload only with a valid digest, and refuses a bad Content-Range', async () => {
    const s = await req('POST', '/v2/docker-local/up/blobs/uploads/');
    const loc = h(s, 'location')!;
    const none = await req('PUT', loc, { body: 'data' });
    expect([none.status, errorCode(none)]).toEqual([400, 'DIGEST_INVALID']);
    const range = await req('PATCH', loc, { headers: { 'content-range': 'bytes=abc' }, body: 'data' });
    expect([range.status, errorCode(range)]).toEqual([416, 'BLOB_UPLOAD_INVALID']);
    const short = await req('PATCH', loc, { headers: { 'content-range': '0-99' }, body: 'only eleven' });
    expect([short.status, errorCode(short)]).toEqual([416, 'SIZE_INVALID']);
    const st = await req('GET', loc);
    expect([st.status, h(st, 'range')]).toEqual([204, '0-0']);
    expect((await stored('up')).filter((p) => p.includes('part-'))).toEqual([]);
  });

  it('stores nothing for a refused manifest or a digest mismatch', async () => {
    const config = await c.pushBlob('nothing', '{}');
    const body = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 2 }, layers: [{ mediaType: 'x', digest: sha256('absent'), size: 6 }] });
    const before = await stored('nothing');
    expect((await c.putManifest('nothing', 'v1', body, 'application/vnd.oci.image.manifest.v1+json')).status).toBe(400);
    const wrongType = await c.putManifest('nothing', 'v1', body, 'application/vnd.docker.distribution.manifest.list.v2+json');
    expect([wrongType.status, errorCode(wrongType)]).toEqual([400, 'MANIFEST_INVALID']);
    const big = await c.putManifest('nothing', 'v1', `{"pad":"${'x'.repeat(4 * 1024 * 1024)}"}`, 'application/vnd.oci.image.manifest.v1+json');
    expect([big.status, errorCode(big)]).toEqual([413, 'SIZE_INVALID']);
    const reserved = await c.putManifest('nothing', '_uploads', body, 'application/vnd.oci.image.manifest.v1+json');
    expect([reserved.status, errorCode(reserved)]).toEqual([400, 'MANIFEST_INVALID']);
    const mono = await req('POST', `/v2/docker-local/nothing/blobs/uploads/?digest=${sha256('claimed')}`, { body: 'actual' });
    expect([mono.status, errorCode(mono)]).toEqual([400, 'DIGEST_INVALID']);
    expect(await stored('nothing')).toEqual(before);
  });

  it('refuses pushes to a virtual docker repository without a defaultDeploymentRepo with UNSUPPORTED', async () => {
    const r = await node.request({ method: 'PUT', url: '/artifactory/api/repositories/docker-virtual', payload: { rclass: 'virtual', packageType: 'docker', repositories: ['docker-local'] } });
    expect(r.statusCode, r.body).toBe(200);
    const push = await req('POST', '/v2/docker-virtual/app/blobs/uploads/');
    expect([push.status, errorCode(push)]).toEqual([405, 'UNSUPPORTED']);
  });
});
