import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { startTestNode, type TestNode } from '../helpers/node-context.js';
import { h, json, OciClient, sha256, nodeTarget } from './oci-client.js';

/**
 * Online garbage collection of registry repositories through the cluster `gc` task
 * (`POST /api/system/storage/gc`): what is kept (tags, children of kept indexes, referrers
 * of kept manifests, anything inside the grace window) and what goes (untagged manifests,
 * their referrers, blobs no kept manifest lists, stale upload sessions, and then their
 * binaries), with pushes and pulls running during the collection.
 */

const HOUR = 3_600_000;
const REPO = 'docker-local';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** Moves everything stored so far two hours into the past (items and binaries), as if pushed long ago. */
async function age(node: TestNode): Promise<void> {
  const db = node.ctx.database.db;
  await db.updateTable('items').set((eb) => ({ created: eb('created', '-', 2 * HOUR), updated: eb('updated', '-', 2 * HOUR) })).execute();
  await db.updateTable('binaries').set((eb) => ({ created: eb('created', '-', 2 * HOUR) })).execute();
}

async function gc(node: TestNode): Promise<Record<string, number>> {
  const res = await node.request({ method: 'POST', url: '/artifactory/api/system/storage/gc' });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function binaryStored(node: TestNode, digest: string): Promise<boolean> {
  const row = await node.ctx.database.db.selectFrom('binaries').select('sha1').where('sha256', '=', digest.replace('sha256:', '')).executeTakeFirst();
  return row !== undefined && (await node.ctx.content.provider.exists(row.sha1));
}

for (const dialect of DIALECTS) {
  describe(`OCI garbage collection (${dialect})`, () => {
    let node: TestNode;
    let c: OciClient;
    const status = async (method: string, path: string) => (await c.t.request(method, path)).status;
    const manifest = (image: string, ref: string) => status('GET', c.url(image, `manifests/${ref}`));
    const blob = (image: string, d: string) => status('GET', c.url(image, `blobs/${d}`));

    beforeAll(async () => {
      node = await startTestNode(dialect, { ARCA_GC_GRACESECS: '3600', ARCA_GC_INTERVALSECS: '0' });
      c = new OciClient(nodeTarget(node, REPO), REPO);
      expect((await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${REPO}`, payload: { rclass: 'local', packageType: 'docker' } })).statusCode).toBe(200);
    });
    afterAll(async () => node?.close());

    it('keeps tags, children of tagged indexes, referrers of kept manifests and recent pushes; collects the rest and frees its binaries', async () => {
      const img = 'rules/app';
      const v1 = await c.pushImage(img, 'v1', { layers: [`${dialect} v1 layer`] });
      // Untagged: pushed by digest only.
      const lone = await c.pushImage(img, 'tmp', { layers: [`${dialect} lone layer`] });
      expect((await c.t.request('DELETE', c.url(img, 'manifests/tmp'))).status).toBe(202);
      // A tag moved: the manifest it pointed to first is untagged now.
      const old = await c.pushImage(img, 'v2', { layers: [`${dialect} v2 old layer`] });
      const cur = await c.pushImage(img, 'v2', { layers: [`${dialect} v2 new layer`] });
      // A tagged index over two platform manifests pushed by digest.
      const platforms = [];
      for (const arch of ['amd64', 'arm64']) {
        const p = await c.pushImage(img, `p-${arch}`, { layers: [`${dialect} ${arch} layer`] });
        expect((await c.t.request('DELETE', c.url(img, `manifests/p-${arch}`))).status).toBe(202);
        platforms.push({ mediaType: OCI_MANIFEST, digest: p.digest, size: Buffer.byteLength(p.manifest), platform: { os: 'linux', architecture: arch } });
      }
      const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: platforms });
      expect((await c.putManifest(img, 'multi', index, OCI_INDEX)).status).toBe(201);
      // Referrers: one of a tagged manifest (kept), one of the untagged one (collected).
      const empty = await c.pushBlob(img, '{}');
      const referrer = (subject: { digest: string; manifest: string }, text: string) =>
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          artifactType: 'application/vnd.example.signature',
          config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty, size: 2 },
          layers: [],
          subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: Buffer.byteLength(subject.manifest) },
          annotations: { text },
        });
      const sigKept = referrer(v1, 'kept');
      const sigGone = referrer(lone, 'gone');
      for (const s of [sigKept, sigGone]) expect((await c.putManifest(img, sha256(s), s, OCI_MANIFEST)).status).toBe(201);
      // A blob nobody references, and an upload session left half done.
      const orphan = await c.pushBlob(img, `${dialect} orphan blob`);
      const session = await c.t.request('POST', c.url(img, 'blobs/uploads/'));
      const sessionUrl = h(session, 'location')!;
      expect((await c.t.request('PATCH', sessionUrl, { headers: { 'content-type': 'application/octet-stream' }, body: 'half' })).status).toBe(202);
      await age(node);

      // Recent pushes, inside the grace window: a blob not referenced yet and an untagged manifest.
      const fresh = await c.pushBlob(img, `${dialect} fresh blob`);
      const recent = await c.pushImage(img, 'recent', { layers: [`${dialect} recent layer`] });
      expect((await c.t.request('DELETE', c.url(img, 'manifests/recent'))).status).toBe(202);

      const counts = await gc(node);
      expect(counts).toMatchObject({ ociManifestsRemoved: 3, ociUploadsRemoved: 1, ociImagesDeferred: 0 });
      // The orphan, the layer and config of the untagged one, the old v2 layer (its config is the new v2 one).
      expect(counts.ociBlobLinksRemoved).toBe(4);
      expect(counts.binariesRemoved).toBeGreaterThanOrEqual(4);

      // Kept.
      for (const ref of ['v1', 'v2', 'multi', v1.digest, cur.digest, ...platforms.map((p) => p.digest), sha256(sigKept), recent.digest]) {
        expect(await manifest(img, ref), ref).toBe(200);
      }
      for (const d of [...JSON.parse(v1.manifest).layers, ...JSON.parse(cur.manifest).layers].map((l: { digest: string }) => l.digest)) expect(await blob(img, d)).toBe(200);
      expect(await blob(img, fresh)).toBe(200);
      const refs = json(await c.t.request('GET', c.url(img, `referrers/${v1.digest}`)));
      expect(refs.manifests.map((m: { digest: string }) => m.digest)).toEqual([sha256(sigKept)]);
      // Collected, and their binaries freed.
      for (const ref of [lone.digest, old.digest, sha256(sigGone)]) expect(await manifest(img, ref), ref).toBe(404);
      const loneLayer = JSON.parse(lone.manifest).layers[0].digest;
      const oldLayer = JSON.parse(old.manifest).layers[0].digest;
      for (const d of [orphan, loneLayer, oldLayer]) {
        expect(await blob(img, d), d).toBe(404);
        expect(await binaryStored(node, d), d).toBe(false);
      }
      expect(json(await c.t.request('GET', c.url(img, `referrers/${lone.digest}`))).manifests).toEqual([]);
      expect(await status('GET', sessionUrl)).toBe(404);
      // What stayed in the grace window can still be used: the fresh blob goes into a manifest now.
      const config = await c.pushBlob(img, JSON.stringify({ architecture: 'amd64', os: 'linux', fresh: true }));
      const late = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: Buffer.byteLength(JSON.stringify({ architecture: 'amd64', os: 'linux', fresh: true })) }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: fresh, size: Buffer.byteLength(`${dialect} fresh blob`) }] });
      expect((await c.putManifest(img, 'late', late, OCI_MANIFEST)).status).toBe(201);
      // A second run finds nothing more to do.
      expect(await gc(node)).toMatchObject({ ociManifestsRemoved: 0, ociBlobLinksRemoved: 0, ociUploadsRemoved: 0 });
    });

    it('collects while pushes and pulls go on, and every image pushed meanwhile stays whole', { timeout: 180_000 }, async () => {
      const old = 'busy/old';
      const kept = await c.pushImage(old, 'keep', { layers: [`${dialect} kept a`, `${dialect} kept b`] });
      const garbage: { digest: string; layers: string[] }[] = [];
      for (let i = 0; i < 15; i++) {
        const g = await c.pushImage(old, `g${i}`, { layers: [`${dialect} garbage ${i}`] });
        expect((await c.t.request('DELETE', c.url(old, `manifests/g${i}`))).status).toBe(202);
        garbage.push({ digest: g.digest, layers: JSON.parse(g.manifest).layers.map((l: { digest: string }) => l.digest) });
      }
      await age(node);

      let running = true;
      const pushed: { image: string; tag: string; digest: string; layers: string[] }[] = [];
      const pushes = (async () => {
        for (let i = 0; running || i < 4; i++) {
          // Half the pushes reuse a blob of the collected images (its binary may be freed meanwhile).
          const image = `busy/new${i % 3}`;
          const layers = [`${dialect} new ${i}`, ...(i % 2 ? [`${dialect} garbage ${i % 15}`] : [])];
          const p = await c.pushImage(image, `t${i}`, { layers });
          pushed.push({ image, tag: `t${i}`, digest: p.digest, layers: JSON.parse(p.manifest).layers.map((l: { digest: string }) => l.digest) });
        }
      })();
      let pulls = 0;
      const pulling = (async () => {
        while (running) {
          const res = await c.t.request('GET', c.url(old, 'manifests/keep'), { headers: { accept: OCI_MANIFEST } });
          expect(res.status).toBe(200);
          for (const l of JSON.parse(kept.manifest).layers) expect(await blob(old, l.digest)).toBe(200);
          pulls++;
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const counts = await gc(node).finally(() => (running = false));
      await Promise.all([pushes, pulling]);

      expect(counts.ociManifestsRemoved).toBeGreaterThanOrEqual(15);
      expect(pulls).toBeGreaterThan(0);
      for (const g of garbage) expect(await manifest(old, g.digest)).toBe(404);
      expect(await manifest(old, 'keep')).toBe(200);
      expect(pushed.length).toBeGreaterThanOrEqual(4);
      for (const p of pushed) {
        expect(await manifest(p.image, p.tag), `${p.image}:${p.tag}`).toBe(200);
        for (const l of p.layers) {
          const res = await c.t.request('GET', c.url(p.image, `blobs/${l}`));
          expect(res.status, `${p.image}:${p.tag} ${l}`).toBe(200);
          expect(sha256(res.body)).toBe(l);
        }
      }
      // The images pushed during the run are inside the grace window: another run keeps them.
      await gc(node);
      for (const p of pushed) expect(await manifest(p.image, p.digest)).toBe(200);
    });

    it('never lets an index list a manifest the collector removed', { timeout: 120_000 }, async () => {
      const img = 'race/index';
      const child = await c.pushImage(img, 'child', { layers: [`${dialect} child layer`] });
      expect((await c.t.request('DELETE', c.url(img, 'manifests/child'))).status).toBe(202);
      await age(node);
      const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: child.digest, size: Buffer.byteLength(child.manifest) }] });
      const [counts, put] = await Promise.all([gc(node), c.putManifest(img, 'idx', index, OCI_INDEX)]);
      if (put.status === 201) {
        // The index won: the child stays, and so does everything it lists.
        expect(await manifest(img, child.digest)).toBe(200);
        expect(await blob(img, JSON.parse(child.manifest).layers[0].digest)).toBe(200);
      } else {
        // The collector won: the push is refused (the child is gone, or — when the collector
        // removed the whole untagged image meanwhile — the image), and no index is stored.
        expect([400, 404]).toContain(put.status);
        if (put.status === 400) expect(json(put).errors[0].code).toBe('MANIFEST_BLOB_UNKNOWN');
        expect(counts.ociManifestsRemoved).toBe(1);
        expect(await manifest(img, child.digest)).toBe(404);
        expect(await manifest(img, 'idx')).toBe(404);
      }
    });
  });
}
