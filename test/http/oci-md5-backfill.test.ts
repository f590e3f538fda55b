import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { startTestNode, type TestNode } from '../helpers/node-context.js';
import { h, OciClient, sha256, nodeTarget } from './oci-client.js';

/**
 * Registry blobs are stored without an MD5, which the node computes after the push: until
 * then the storage API and the checksum headers leave it out and the metric counts it; then
 * every item of the blob (the upload link and the layer items of the image) has it.
 */
const REPO = 'docker-local';

const md5Of = (data: Buffer) => createHash('md5').update(data).digest('hex');

for (const dialect of DIALECTS) {
  describe(`MD5 of registry blobs (${dialect})`, () => {
    let node: TestNode;
    let c: OciClient;

    beforeAll(async () => {
      // No timer fires during the test: it runs the backfill itself.
      node = await startTestNode(dialect, { ARCA_BINARYSTORE_MD5DELAYSECS: '3600', ARCA_BINARYSTORE_MD5SWEEPSECS: '3600' });
      c = new OciClient(nodeTarget(node, REPO), REPO);
      expect((await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${REPO}`, payload: { rclass: 'local', packageType: 'docker' } })).statusCode).toBe(200);
    });
    afterAll(async () => {
      await node?.close();
    });

    const pendingMetric = async () => {
      const r = await node.request({ method: 'GET', url: '/artifactory/api/v1/metrics' });
      return Number(/^arca_binaries_md5_pending (\d+)/m.exec(r.body)?.[1]);
    };

    it('leaves the MD5 out until the backfill computes it, for monolithic and chunked uploads alike', async () => {
      const whole = randomBytes(3 * 1024 * 1024 + 3);
      const wholeDigest = await c.pushBlob('app', whole);

      // Chunked: POST, two PATCHes, PUT (two parts: the blob is staged again from them).
      const chunked = randomBytes(1024 * 1024 + 11);
      const start = await c.t.request('POST', c.url('app', 'blobs/uploads/'));
      expect(start.status).toBe(202);
      let location = h(start, 'location')!;
      for (const [a, b] of [
        [0, 500_000],
        [500_000, chunked.length],
      ]) {
        const patch = await c.t.request('PATCH', location, { headers: { 'content-type': 'application/octet-stream', 'content-range': `${a}-${b - 1}` }, body: chunked.subarray(a, b) });
        expect(patch.status).toBe(202);
        location = h(patch, 'location')!;
      }
      const chunkedDigest = sha256(chunked);
      const put = await c.t.request('PUT', `${location}${location.includes('?') ? '&' : '?'}digest=${chunkedDigest}`);
      expect(put.status).toBe(201);

      const storage = (d: string) => node.request({ method: 'GET', url: `/artifactory/api/storage/${REPO}/app/_uploads/${d.replace(':', '__')}` });
      const download = (d: string) => node.request({ method: 'GET', url: `/artifactory/${REPO}/app/_uploads/${d.replace(':', '__')}` });
      for (const d of [wholeDigest, chunkedDigest]) {
        const info = await storage(d);
        expect(info.statusCode, info.body).toBe(200);
        expect(info.json().checksums.sha256).toBe(d.replace('sha256:', ''));
        expect(info.json().checksums).not.toHaveProperty('md5');
        expect((await download(d)).headers['x-checksum-md5']).toBeUndefined();
      }
      expect(await pendingMetric()).toBeGreaterThanOrEqual(2);

      await node.ctx.content.md5Backfill.runOnce(true, 0);

      expect(await pendingMetric()).toBe(0);
      for (const [d, data] of [
        [wholeDigest, whole],
        [chunkedDigest, chunked],
      ] as const) {
        expect((await storage(d)).json().checksums.md5).toBe(md5Of(data));
        const got = await download(d);
        expect(got.headers['x-checksum-md5']).toBe(md5Of(data));
        expect(got.rawPayload.equals(data)).toBe(true);
      }
    });

    it('gives the layer items of an image pushed after the backfill the MD5 as well', async () => {
      const layer = randomBytes(200_000).toString('base64');
      await c.pushBlob('web', layer);
      await node.ctx.content.md5Backfill.runOnce(false);
      // The manifest PUT writes layer items for blobs whose MD5 is known by now.
      const pushed = await c.pushImage('web', 'v1', { layers: [layer] });
      expect(pushed).toBeDefined();
      const item = await node.request({ method: 'GET', url: `/artifactory/api/storage/${REPO}/web/v1/${sha256(layer).replace(':', '__')}` });
      expect(item.statusCode, item.body).toBe(200);
      expect(item.json().checksums.md5).toBe(md5Of(Buffer.from(layer)));
    });
  });
}
