import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { startTestNode, type TestNode } from '../helpers/node-context.js';
import { h, json, OciClient, sha256, type OciResponse, type OciTarget } from './oci-client.js';

/** Clients pushing the same content at once (CI jobs, parallel tag pushes) on every database dialect. */
describe.each(DIALECTS)('OCI concurrent pushes on %s', (dialect) => {
  let node: TestNode;
  let t: OciTarget;
  let c: OciClient;
  beforeAll(async () => {
    node = await startTestNode(dialect);
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/repositories/docker-local', payload: { rclass: 'local', packageType: 'docker' } })).statusCode).toBe(200);
    t = {
      repoKey: 'docker-local',
      close: async () => undefined,
      async request(method, url, opts = {}): Promise<OciResponse> {
        const r = await node.request({ method: method as 'GET', url, headers: opts.headers, payload: opts.body });
        return { status: r.statusCode, headers: r.headers, body: r.rawPayload };
      },
    };
    c = new OciClient(t, 'docker-local');
  });
  afterAll(async () => {
    await node?.close();
  });

  it('takes the same blob from eight clients at once', async () => {
    const data = 'the same layer from every CI job';
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        i % 2 === 0
          ? t.request('POST', `/v2/docker-local/same/blobs/uploads/?digest=${sha256(data)}`, { body: data })
          : c.pushBlob('same', data).then(() => ({ status: 201 }) as OciResponse),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(201));
    const g = await t.request('GET', `/v2/docker-local/same/blobs/${sha256(data)}`);
    expect(g.body.toString()).toBe(data);
  });

  it('takes one manifest pushed under several tags at once, and by digest', async () => {
    const base = await c.pushImage('tags', 'first');
    const refs = ['a', 'b', 'c', 'a', base.digest, 'latest'];
    const results = await Promise.all(refs.map((r) => c.putManifest('tags', r, base.manifest, 'application/vnd.oci.image.manifest.v1+json')));
    expect(results.map((r) => [r.status, h(r, 'docker-content-digest')])).toEqual(refs.map(() => [201, base.digest]));
    expect(json(await t.request('GET', '/v2/docker-local/tags/tags/list')).tags).toEqual(['a', 'b', 'c', 'first', 'latest']);
  });
});
