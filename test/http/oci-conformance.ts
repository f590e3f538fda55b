import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, h, json, OciClient, sha256, sha512, type OciTarget } from './oci-client.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

/**
 * The OCI Distribution Specification's four workflow categories (pull, push, content
 * discovery, content management) as one suite, run against whatever `start` gives: an
 * in-process node, in-process nodes sharing a database, or a real cluster behind nginx.
 */
export function ociConformance(label: string, start: () => Promise<OciTarget>): void {
  describe(`OCI conformance: ${label}`, () => {
    let t: OciTarget;
    let c: OciClient;
    // One namespace per run, so the suite can run twice against one database.
    const ns = `conf-${randomBytes(3).toString('hex')}`;
    const img = (name: string) => `${ns}/${name}`;

    beforeAll(async () => {
      t = await start();
      c = new OciClient(t, t.repoKey);
    });
    afterAll(async () => {
      await t?.close();
    });

    describe('pull', () => {
      let pushed: { manifest: string; digest: string };
      const layer = randomBytes(1500).toString('hex');
      beforeAll(async () => {
        pushed = await c.pushImage(img('pull'), 'v1', { layers: [layer] });
      });

      it('answers the base check with the API version header', async () => {
        const r = await t.request('GET', '/v2/');
        expect(r.status).toBe(200);
        expect(h(r, 'docker-distribution-api-version')).toBe('registry/2.0');
      });

      it('serves a manifest by tag and by digest (GET and HEAD) with its type and digest', async () => {
        for (const ref of ['v1', pushed.digest]) {
          const g = await t.request('GET', c.url(img('pull'), `manifests/${ref}`), { headers: { accept: OCI_MANIFEST } });
          expect(g.status).toBe(200);
          expect(g.body.toString()).toBe(pushed.manifest);
          expect(h(g, 'content-type')).toBe(OCI_MANIFEST);
          expect(h(g, 'docker-content-digest')).toBe(pushed.digest);
          const hd = await t.request('HEAD', c.url(img('pull'), `manifests/${ref}`));
          expect(hd.status).toBe(200);
          expect(Number(h(hd, 'content-length'))).toBe(Buffer.byteLength(pushed.manifest));
          expect(h(hd, 'docker-content-digest')).toBe(pushed.digest);
          expect(hd.body.length).toBe(0);
        }
      });

      it('serves a manifest through the blob endpoint too', async () => {
        const g = await t.request('GET', c.url(img('pull'), `blobs/${pushed.digest}`));
        expect([g.status, g.body.toString()]).toEqual([200, pushed.manifest]);
      });

      it('serves a blob, its HEAD, and byte ranges', async () => {
        const d = sha256(layer);
        const g = await t.request('GET', c.url(img('pull'), `blobs/${d}`));
        expect(g.status).toBe(200);
        expect(g.body.toString()).toBe(layer);
        expect(h(g, 'docker-content-digest')).toBe(d);
        const hd = await t.request('HEAD', c.url(img('pull'), `blobs/${d}`));
        expect(hd.status).toBe(200);
        expect(h(hd, 'content-length')).toBe('3000');
        const r = await t.request('GET', c.url(img('pull'), `blobs/${d}`), { headers: { range: 'bytes=10-19' } });
        expect(r.status).toBe(206);
        expect(h(r, 'content-range')).toBe('bytes 10-19/3000');
        expect(r.body.toString()).toBe(layer.slice(10, 20));
      });

      it('answers 404 with the spec codes for unknown manifests, blobs and repositories', async () => {
        const m = await t.request('GET', c.url(img('pull'), 'manifests/nope'));
        expect([m.status, errorCode(m)]).toEqual([404, 'MANIFEST_UNKNOWN']);
        const b = await t.request('GET', c.url(img('pull'), `blobs/${sha256('never pushed')}`));
        expect([b.status, errorCode(b)]).toEqual([404, 'BLOB_UNKNOWN']);
        const hb = await t.request('HEAD', c.url(img('pull'), `blobs/${sha256('never pushed')}`));
        expect(hb.status).toBe(404);
        const n = await t.request('GET', `/v2/no-such-repo/${img('x')}/manifests/v1`);
        expect([n.status, errorCode(n)]).toEqual([404, 'NAME_UNKNOWN']);
        const bad = await t.request('GET', c.url(img('pull'), 'blobs/sha256:nothex'));
        expect([bad.status, errorCode(bad)]).toEqual([400, 'DIGEST_INVALID']);
        const badName = await t.request('GET', `/v2/${t.repoKey}/Upper/manifests/v1`);
        expect([badName.status, errorCode(badName)]).toEqual([400, 'NAME_INVALID']);
      });

      it('serves Docker schema 2 manifests and manifest lists, and withholds an index from a client that cannot take one', async () => {
        const config = JSON.stringify({ os: 'linux', architecture: 'arm64' });
        const cd = await c.pushBlob(img('docker'), config);
        const ld = await c.pushBlob(img('docker'), 'docker layer');
        const m = JSON.stringify({
          schemaVersion: 2,
          mediaType: DOCKER_MANIFEST,
          config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: cd },
          layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 12, digest: ld }],
        });
        expect((await c.putManifest(img('docker'), 'arm64', m, DOCKER_MANIFEST)).status).toBe(201);
        const list = JSON.stringify({
          schemaVersion: 2,
          mediaType: DOCKER_LIST,
          manifests: [{ mediaType: DOCKER_MANIFEST, size: m.length, digest: sha256(m), platform: { architecture: 'arm64', os: 'linux' } }],
        });
        const put = await c.putManifest(img('docker'), 'multi', list, DOCKER_LIST);
        expect(put.status).toBe(201);
        const g = await t.request('GET', c.url(img('docker'), 'manifests/multi'), { headers: { accept: `${DOCKER_LIST}, ${DOCKER_MANIFEST}` } });
        expect([g.status, h(g, 'content-type'), g.body.toString()]).toEqual([200, DOCKER_LIST, list]);
        const old = await t.request('GET', c.url(img('docker'), 'manifests/multi'), { headers: { accept: DOCKER_MANIFEST } });
        expect([old.status, errorCode(old)]).toEqual([404, 'MANIFEST_UNKNOWN']);
        const single = await t.request('GET', c.url(img('docker'), 'manifests/arm64'), { headers: { accept: DOCKER_MANIFEST } });
        expect([single.status, h(single, 'content-type')]).toEqual([200, DOCKER_MANIFEST]);
      });
    });

    describe('push', () => {
      it('takes a monolithic upload in a single POST', async () => {
        const data = 'single post blob';
        const r = await t.request('POST', `${c.url(img('push'), 'blobs/uploads/')}?digest=${sha256(data)}`, {
          headers: { 'content-type': 'application/octet-stream' },
          body: data,
        });
        expect(r.status).toBe(201);
        expect(h(r, 'location')).toContain(`/blobs/${sha256(data)}`);
        expect((await t.request('HEAD', c.url(img('push'), `blobs/${sha256(data)}`))).status).toBe(200);
      });

      it('takes a chunked upload, reports its progress, and refuses an out-of-order chunk with 416', async () => {
        const data = randomBytes(5000);
        const s = await t.request('POST', c.url(img('push'), 'blobs/uploads/'), { headers: { 'content-length': '0' } });
        expect(s.status).toBe(202);
        expect(h(s, 'docker-upload-uuid')).toMatch(/^[0-9a-f-]{36}$/);
        let loc = h(s, 'location')!;
        const p1 = await t.request('PATCH', loc, { headers: { 'content-type': 'application/octet-stream', 'content-range': '0-1999' }, body: data.subarray(0, 2000) });
        expect([p1.status, h(p1, 'range')]).toEqual([202, '0-1999']);
        loc = h(p1, 'location')!;
        const wrong = await t.request('PATCH', loc, { headers: { 'content-type': 'application/octet-stream', 'content-range': '3000-3999' }, body: data.subarray(3000, 4000) });
        expect(wrong.status).toBe(416);
        const st = await t.request('GET', loc);
        expect([st.status, h(st, 'range')]).toEqual([204, '0-1999']);
        const p2 = await t.request('PATCH', loc, { headers: { 'content-type': 'application/octet-stream', 'content-range': '2000-3999' }, body: data.subarray(2000, 4000) });
        expect([p2.status, h(p2, 'range')]).toEqual([202, '0-3999']);
        // The last chunk comes with the closing PUT.
        const done = await t.request('PUT', `${h(p2, 'location')}?digest=${sha256(data)}`, {
          headers: { 'content-type': 'application/octet-stream', 'content-range': '4000-4999' },
          body: data.subarray(4000),
        });
        expect(done.status).toBe(201);
        expect(h(done, 'docker-content-digest')).toBe(sha256(data));
        const g = await t.request('GET', c.url(img('push'), `blobs/${sha256(data)}`));
        expect(g.body.equals(data)).toBe(true);
        expect((await t.request('GET', loc)).status).toBe(404);
      });

      it('verifies digests: a mismatch is 400 DIGEST_INVALID and nothing is stored; sha512 works', async () => {
        const s = await t.request('POST', c.url(img('push'), 'blobs/uploads/'));
        const bad = await t.request('PUT', `${h(s, 'location')}?digest=${sha256('something else')}`, { body: 'the real content' });
        expect([bad.status, errorCode(bad)]).toEqual([400, 'DIGEST_INVALID']);
        expect((await t.request('HEAD', c.url(img('push'), `blobs/${sha256('something else')}`))).status).toBe(404);
        expect((await t.request('HEAD', c.url(img('push'), `blobs/${sha256('the real content')}`))).status).toBe(404);
        const one = await t.request('POST', `${c.url(img('push'), 'blobs/uploads/')}?digest=${sha256('x')}`, { body: 'y' });
        expect([one.status, errorCode(one)]).toEqual([400, 'DIGEST_INVALID']);
        const data = randomBytes(700);
        const s2 = await t.request('POST', c.url(img('push'), 'blobs/uploads/'));
        const ok = await t.request('PUT', `${h(s2, 'location')}?digest=${sha512(data)}`, { body: data });
        expect(ok.status).toBe(201);
        const g = await t.request('GET', c.url(img('push'), `blobs/${sha512(data)}`));
        expect([g.status, g.body.equals(data)]).toEqual([200, true]);
      });

      it('mounts a blob from another image, and falls back to a session when it cannot', async () => {
        const d = await c.pushBlob(img('source'), 'mountable layer');
        const m = await t.request('POST', `${c.url(img('target'), 'blobs/uploads/')}?mount=${d}&from=${t.repoKey}/${img('source')}`);
        expect([m.status, h(m, 'location')]).toEqual([201, c.url(img('target'), `blobs/${d}`)]);
        expect((await t.request('GET', c.url(img('target'), `blobs/${d}`))).body.toString()).toBe('mountable layer');
        const miss = await t.request('POST', `${c.url(img('target'), 'blobs/uploads/')}?mount=${sha256('absent')}&from=${t.repoKey}/${img('source')}`);
        expect(miss.status).toBe(202);
        expect(h(miss, 'location')).toContain('/blobs/uploads/');
      });

      it('cancels an upload', async () => {
        const s = await t.request('POST', c.url(img('push'), 'blobs/uploads/'));
        await t.request('PATCH', h(s, 'location')!, { body: 'partial' });
        expect((await t.request('DELETE', h(s, 'location')!)).status).toBe(204);
        const st = await t.request('GET', h(s, 'location')!);
        expect([st.status, errorCode(st)]).toEqual([404, 'BLOB_UPLOAD_UNKNOWN']);
      });

      it('refuses manifests that reference unknown blobs or are not valid, and checks a digest reference', async () => {
        const config = await c.pushBlob(img('bad'), '{}');
        const missing = JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 2 },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256('not pushed'), size: 10 }],
        });
        const r = await c.putManifest(img('bad'), 'v1', missing, OCI_MANIFEST);
        expect([r.status, errorCode(r)]).toEqual([400, 'MANIFEST_BLOB_UNKNOWN']);
        const junk = await c.putManifest(img('bad'), 'v1', '{not json', OCI_MANIFEST);
        expect([junk.status, errorCode(junk)]).toEqual([400, 'MANIFEST_INVALID']);
        const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sha256('no manifest'), size: 5 }] });
        const ri = await c.putManifest(img('bad'), 'idx', index, OCI_INDEX);
        expect([ri.status, errorCode(ri)]).toEqual([400, 'MANIFEST_BLOB_UNKNOWN']);
        const good = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 2 }, layers: [] });
        const wrong = await c.putManifest(img('bad'), sha256('other bytes'), good, OCI_MANIFEST);
        expect([wrong.status, errorCode(wrong)]).toEqual([400, 'DIGEST_INVALID']);
        const byDigest = await c.putManifest(img('bad'), sha256(good), good, OCI_MANIFEST);
        expect([byDigest.status, h(byDigest, 'docker-content-digest')]).toEqual([201, sha256(good)]);
        expect((await t.request('GET', c.url(img('bad'), 'manifests/v1'))).status).toBe(404);
      });

      it('stores any artifact type and config media type (a Helm chart) and answers OCI-Subject for a manifest with a subject', async () => {
        const chart = await c.pushImage(img('chart'), '0.1.0', {
          config: JSON.stringify({ name: 'mychart', version: '0.1.0', apiVersion: 'v2' }),
          configType: 'application/vnd.cncf.helm.config.v1+json',
          layers: ['fake chart tgz'],
        });
        const g = await t.request('GET', c.url(img('chart'), 'manifests/0.1.0'));
        expect(json(g).config.mediaType).toBe('application/vnd.cncf.helm.config.v1+json');
        const sig = await c.pushImage(img('chart'), 'sig', {
          config: '{}',
          configType: 'application/vnd.oci.empty.v1+json',
          layers: ['signature bytes'],
          extra: { artifactType: 'application/vnd.example.signature.v1', subject: { mediaType: OCI_MANIFEST, digest: chart.digest, size: chart.manifest.length } },
        });
        expect(h(sig.res, 'oci-subject')).toBe(chart.digest);
      });
    });

    describe('content discovery', () => {
      beforeAll(async () => {
        for (const tag of ['b', 'a', 'd', 'c', 'E']) await c.pushImage(img('tags'), tag);
      });

      it('lists tags sorted, with n, last and a Link header', async () => {
        const all = await t.request('GET', c.url(img('tags'), 'tags/list'));
        expect(all.status).toBe(200);
        expect(json(all)).toEqual({ name: `${t.repoKey}/${img('tags')}`, tags: ['E', 'a', 'b', 'c', 'd'] });
        const p1 = await t.request('GET', `${c.url(img('tags'), 'tags/list')}?n=2`);
        expect(json(p1).tags).toEqual(['E', 'a']);
        expect(h(p1, 'link')).toContain('rel="next"');
        expect(h(p1, 'link')).toContain('last=a');
        const p2 = await t.request('GET', `${c.url(img('tags'), 'tags/list')}?n=2&last=a`);
        expect(json(p2).tags).toEqual(['b', 'c']);
        const p3 = await t.request('GET', `${c.url(img('tags'), 'tags/list')}?n=5&last=c`);
        expect([json(p3).tags, h(p3, 'link')]).toEqual([['d'], undefined]);
        const zero = await t.request('GET', `${c.url(img('tags'), 'tags/list')}?n=0`);
        expect([json(zero).tags, h(zero, 'link')]).toEqual([[], undefined]);
        const none = await t.request('GET', c.url(img('never'), 'tags/list'));
        expect([none.status, errorCode(none)]).toEqual([404, 'NAME_UNKNOWN']);
      });

      it('lists referrers, filters them by artifactType, and answers an empty index for others', async () => {
        const subject = await c.pushImage(img('refs'), 'base');
        const desc = { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.manifest.length };
        const sbom = await c.pushImage(img('refs'), 'sbom', { config: '{}', configType: 'application/vnd.oci.empty.v1+json', extra: { artifactType: 'application/spdx+json', subject: desc, annotations: { 'org.example.kind': 'sbom' } } });
        const sig = await c.pushImage(img('refs'), 'sig', { config: '{"sig":1}', configType: 'application/vnd.example.sig.config', extra: { subject: desc } });
        const r = await t.request('GET', c.url(img('refs'), `referrers/${subject.digest}`));
        expect([r.status, h(r, 'content-type')]).toEqual([200, OCI_INDEX]);
        const body = json(r);
        expect(body.mediaType).toBe(OCI_INDEX);
        const byDigest = new Map<string, any>(body.manifests.map((m: any) => [m.digest, m]));
        expect(byDigest.get(sbom.digest)).toEqual({ mediaType: OCI_MANIFEST, digest: sbom.digest, size: sbom.manifest.length, artifactType: 'application/spdx+json', annotations: { 'org.example.kind': 'sbom' } });
        expect(byDigest.get(sig.digest).artifactType).toBe('application/vnd.example.sig.config');
        const f = await t.request('GET', `${c.url(img('refs'), `referrers/${subject.digest}`)}?artifactType=application/spdx%2Bjson`);
        expect(h(f, 'oci-filters-applied')).toBe('artifactType');
        expect(json(f).manifests.map((m: any) => m.digest)).toEqual([sbom.digest]);
        const empty = await t.request('GET', c.url(img('refs'), `referrers/${sha256('nothing refers')}`));
        expect([empty.status, json(empty).manifests]).toEqual([200, []]);
        const bad = await t.request('GET', c.url(img('refs'), 'referrers/sha256:zz'));
        expect(bad.status).toBe(400);
      });

      it('lists the image in the catalog', async () => {
        const r = await t.request('GET', '/v2/_catalog');
        expect(r.status).toBe(200);
        expect(json(r).repositories).toContain(`${t.repoKey}/${img('tags')}`);
        const p = await t.request('GET', '/v2/_catalog?n=1');
        expect(json(p).repositories).toHaveLength(1);
        expect(h(p, 'link')).toContain('rel="next"');
      });
    });

    describe('content management', () => {
      it('deletes a tag only; the manifest stays by digest', async () => {
        const p = await c.pushImage(img('del'), 'gone');
        const d = await t.request('DELETE', c.url(img('del'), 'manifests/gone'));
        expect(d.status).toBe(202);
        expect((await t.request('GET', c.url(img('del'), 'manifests/gone'))).status).toBe(404);
        expect((await t.request('GET', c.url(img('del'), `manifests/${p.digest}`))).status).toBe(200);
      });

      it('deletes a manifest by digest with the tags pointing to it and its referrer entry', async () => {
        const p = await c.pushImage(img('del'), 'one');
        await c.putManifest(img('del'), 'two', p.manifest, OCI_MANIFEST);
        const ref = await c.pushImage(img('del'), 'ref', { extra: { subject: { mediaType: OCI_MANIFEST, digest: p.digest, size: p.manifest.length } } });
        expect(json(await t.request('GET', c.url(img('del'), `referrers/${p.digest}`))).manifests).toHaveLength(1);
        expect((await t.request('DELETE', c.url(img('del'), `manifests/${ref.digest}`))).status).toBe(202);
        expect(json(await t.request('GET', c.url(img('del'), `referrers/${p.digest}`))).manifests).toEqual([]);
        expect((await t.request('DELETE', c.url(img('del'), `manifests/${p.digest}`))).status).toBe(202);
        for (const r of [p.digest, 'one', 'two']) {
          const g = await t.request('GET', c.url(img('del'), `manifests/${r}`));
          expect([g.status, errorCode(g)]).toEqual([404, 'MANIFEST_UNKNOWN']);
        }
        const again = await t.request('DELETE', c.url(img('del'), `manifests/${p.digest}`));
        expect([again.status, errorCode(again)]).toEqual([404, 'MANIFEST_UNKNOWN']);
      });

      it('deletes a blob', async () => {
        const d = await c.pushBlob(img('del'), 'blob to delete');
        expect((await t.request('DELETE', c.url(img('del'), `blobs/${d}`))).status).toBe(202);
        expect((await t.request('HEAD', c.url(img('del'), `blobs/${d}`))).status).toBe(404);
        const again = await t.request('DELETE', c.url(img('del'), `blobs/${d}`));
        expect([again.status, errorCode(again)]).toEqual([404, 'BLOB_UNKNOWN']);
      });
    });
  });
}
