import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ADMIN_AUTH, ADMIN_PASSWORD } from '../helpers/credentials.js';
import { chartTgz, chartYamlOf, formOf, provOf, sha256Of, tgzOf, type ChartSpec } from '../helpers/helm-charts.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { describeOnNodeAndCluster } from './harness/node-and-cluster.js';

/**
 * Classic Helm chart repositories against real `arca start` processes. No helm client exists
 * here, so the test does what helm does: it reads index.yaml with a YAML library, checks every
 * entry against the archive it names (sha256 digest, the URL resolved against the index URL
 * downloads the same bytes, Chart.yaml's fields), and uploads as `helm cm-push` does (the
 * ChartMuseum API, raw and as a form with a provenance file). Charts are packed by the `tar`
 * binary as `helm package` lays them out. A virtual repository merges a local member with a
 * remote one proxying a second node. Once on one node, once through nginx in front of a cluster.
 */

interface IndexDoc {
  apiVersion: string;
  generated: string;
  entries: Record<string, Array<Record<string, unknown> & { name: string; version: string; digest: string; urls: string[]; created: string }>>;
}

const auth = { authorization: ADMIN_AUTH };

/** A chart folder packed by GNU tar (folder entries, its own header layout) and gzip'd by it. */
function tarPacked(dir: string, spec: ChartSpec): Buffer {
  const root = join(dir, `${spec.name}-${spec.version}-${spec.variant ?? 1}`);
  mkdirSync(join(root, spec.name, 'templates'), { recursive: true });
  writeFileSync(join(root, spec.name, 'Chart.yaml'), chartYamlOf(spec));
  writeFileSync(join(root, spec.name, 'values.yaml'), `image: nginx\nvariant: ${spec.variant ?? 1}\n`);
  writeFileSync(join(root, spec.name, 'templates', 'service.yaml'), 'apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n');
  const out = join(root, 'chart.tgz');
  execFileSync('tar', ['-czf', out, '-C', root, spec.name]);
  return readFileSync(out);
}

function helmFlow(label: string, base: () => string) {
  describe(`helm repositories through ${label}`, () => {
    let node: string;
    let upstream: NodeProcess;
    const dir = mkdtempSync(join(tmpdir(), 'arca-helm-e2e-'));
    const helmUrl = (at: string, repo: string) => `${at}/api/helm/${repo}`;

    async function index(at: string, repo: string): Promise<{ doc: IndexDoc; etag: string; url: string }> {
      const url = `${helmUrl(at, repo)}/index.yaml`;
      const res = await fetch(url, { headers: auth });
      const text = await res.text();
      expect(res.status, text).toBe(200);
      return { doc: parse(text) as IndexDoc, etag: res.headers.get('etag') ?? '', url };
    }

    /** Every entry's digest and URL against the bytes it downloads, as helm pull would. */
    async function checkEntries(doc: IndexDoc, indexUrl: string, archives: Map<string, Buffer>) {
      for (const [name, list] of Object.entries(doc.entries)) {
        for (const e of list) {
          expect(e.name).toBe(name);
          expect(Number.isNaN(Date.parse(e.created))).toBe(false);
          const res = await fetch(new URL(e.urls[0], indexUrl), { headers: auth });
          const bytes = Buffer.from(await res.arrayBuffer());
          expect(res.status, `${name} ${e.version} at ${e.urls[0]}`).toBe(200);
          expect(sha256Of(bytes)).toBe(e.digest);
          const expected = archives.get(`${name}@${e.version}`);
          if (expected) expect(bytes.equals(expected), `${name} ${e.version}`).toBe(true);
        }
      }
    }

    const archives = new Map<string, Buffer>();
    const remember = (spec: ChartSpec, data: Buffer) => {
      archives.set(`${spec.name}@${spec.version}`, data);
      return data;
    };

    beforeAll(async () => {
      upstream = await startNodeProcess();
      node = base();
      for (const [at, key, config] of [
        [upstream.base, 'up-helm', { rclass: 'local' }],
        [node, 'helm-local', { rclass: 'local' }],
        [node, 'helm-remote', { rclass: 'remote', url: helmUrl(upstream.base, 'up-helm'), username: 'admin', password: ADMIN_PASSWORD, retrievalCachePeriodSecs: 0 }],
        [node, 'helm-virtual', { rclass: 'virtual', repositories: ['helm-local', 'helm-remote'], defaultDeploymentRepo: 'helm-local' }],
      ] as const) {
        const res = await fetch(`${at}/api/repositories/${key}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ key, packageType: 'helm', ...config }) });
        expect(res.status, await res.text()).toBe(200);
      }
    }, 120_000);

    afterAll(async () => {
      await upstream?.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('serves an empty index before any chart', async () => {
      const { doc } = await index(node, 'helm-local');
      expect(doc.apiVersion).toBe('v1');
      expect(doc.entries).toEqual({});
    });

    it('deploys by PUT, by ChartMuseum upload (raw and form with .prov) and by a plain deploy; index.yaml lists them all', async () => {
      const web1 = { name: 'web', version: '1.0.0', appVersion: '1.25.3', extra: { keywords: ['http'], maintainers: [{ name: 'Ann', email: 'ann@example.org' }], home: 'https://example.org', annotations: { category: 'Web' } } };
      const put = await fetch(`${helmUrl(node, 'helm-local')}/web-1.0.0.tgz`, { method: 'PUT', headers: auth, body: remember(web1, tarPacked(dir, web1)) });
      expect(put.status, await put.text()).toBe(201);

      const web2 = { name: 'web', version: '1.2.0-rc.1', appVersion: '1.10' };
      const raw = await fetch(`${helmUrl(node, 'helm-local')}/api/charts`, { method: 'POST', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: remember(web2, tarPacked(dir, web2)) });
      expect(raw.status).toBe(201);
      expect(await raw.json()).toEqual({ saved: true });

      const db = { name: 'db', version: '0.3.0', extra: { dependencies: [{ name: 'web', version: '>=1.0.0', repository: 'https://example.org/charts' }], deprecated: true } };
      const dbTgz = remember(db, chartTgz(db));
      const form = formOf({ chart: { filename: 'db-0.3.0.tgz', data: dbTgz }, prov: { filename: 'db-0.3.0.tgz.prov', data: provOf('db', '0.3.0', dbTgz) } });
      const multi = await fetch(`${helmUrl(node, 'helm-local')}/api/charts`, { method: 'POST', headers: { ...auth, 'content-type': form.contentType }, body: form.body });
      expect(multi.status, await multi.clone().text()).toBe(201);
      expect(await multi.json()).toEqual({ saved: true });

      const cache = { name: 'cache', version: '2.0.0' };
      const plain = await fetch(`${node}/helm-local/stable/cache-2.0.0.tgz`, { method: 'PUT', headers: auth, body: remember(cache, tarPacked(dir, cache)) });
      expect(plain.status, await plain.text()).toBe(201);

      const { doc, url } = await index(node, 'helm-local');
      expect(Object.keys(doc.entries)).toEqual(['cache', 'db', 'web']);
      expect(doc.entries.web.map((e) => e.version)).toEqual(['1.2.0-rc.1', '1.0.0']);
      expect(doc.entries.web[1]).toMatchObject({ apiVersion: 'v2', appVersion: '1.25.3', keywords: ['http'], maintainers: [{ name: 'Ann', email: 'ann@example.org' }], home: 'https://example.org', annotations: { category: 'Web' }, type: 'application', urls: ['web-1.0.0.tgz'] });
      expect(doc.entries.web[0].appVersion).toBe('1.10');
      expect(doc.entries.db[0]).toMatchObject({ deprecated: true, dependencies: [{ name: 'web', version: '>=1.0.0', repository: 'https://example.org/charts' }] });
      expect(doc.entries.cache[0].urls).toEqual(['stable/cache-2.0.0.tgz']);
      await checkEntries(doc, url, archives);

      const prov = await fetch(`${helmUrl(node, 'helm-local')}/db-0.3.0.tgz.prov`, { headers: auth });
      expect(prov.status).toBe(200);
      expect((await prov.text()).startsWith('-----BEGIN PGP SIGNED MESSAGE-----')).toBe(true);
    });

    it('answers the ChartMuseum API', async () => {
      const base = `${helmUrl(node, 'helm-local')}/api/charts`;
      const all = (await (await fetch(base, { headers: auth })).json()) as Record<string, Array<{ version: string; digest: string }>>;
      expect(Object.keys(all).sort()).toEqual(['cache', 'db', 'web']);
      expect(all.web.map((v) => v.version)).toEqual(['1.2.0-rc.1', '1.0.0']);
      const paged = (await (await fetch(`${base}?offset=1&limit=1`, { headers: auth })).json()) as Record<string, unknown>;
      expect(Object.keys(paged)).toEqual(['db']);
      expect((await fetch(`${base}?limit=0`, { headers: auth })).status).toBe(400);
      const web = (await (await fetch(`${base}/web`, { headers: auth })).json()) as Array<{ version: string }>;
      expect(web.map((v) => v.version)).toEqual(['1.2.0-rc.1', '1.0.0']);
      const one = (await (await fetch(`${base}/web/1.0.0`, { headers: auth })).json()) as { name: string; version: string; digest: string };
      expect(one).toMatchObject({ name: 'web', version: '1.0.0', digest: sha256Of(archives.get('web@1.0.0')!) });
      expect(((await (await fetch(`${base}/web/latest`, { headers: auth })).json()) as { version: string }).version).toBe('1.0.0');

      const missing = await fetch(`${base}/nope`, { headers: auth });
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual({ error: 'chart not found' });
      const noVersion = await fetch(`${base}/web/9.9.9`, { headers: auth });
      expect(noVersion.status).toBe(404);
      expect(await noVersion.json()).toEqual({ error: 'no chart version found for web-9.9.9' });
      expect((await fetch(`${base}/web`, { method: 'HEAD', headers: auth })).status).toBe(200);
      expect((await fetch(`${base}/nope`, { method: 'HEAD', headers: auth })).status).toBe(404);

      const again = await fetch(base, { method: 'POST', headers: auth, body: archives.get('web@1.0.0')! });
      expect(again.status).toBe(409);
      expect(await again.json()).toEqual({ error: 'file already exists' });
      const forced = await fetch(`${base}?force`, { method: 'POST', headers: auth, body: archives.get('web@1.0.0')! });
      expect(forced.status).toBe(201);

      const prov = provOf('web', '1.0.0', archives.get('web@1.0.0')!);
      const provUrl = `${helmUrl(node, 'helm-local')}/api/prov`;
      expect((await fetch(provUrl, { method: 'POST', headers: auth, body: prov })).status).toBe(201);
      expect((await fetch(provUrl, { method: 'POST', headers: auth, body: prov })).status).toBe(409);
      expect(Buffer.from(await (await fetch(`${helmUrl(node, 'helm-local')}/web-1.0.0.tgz.prov`, { headers: auth })).arrayBuffer()).equals(prov)).toBe(true);

      const anonymous = await fetch(base, { method: 'POST', body: archives.get('web@1.0.0')! });
      expect(anonymous.status).toBe(401);
    });

    it('serves index.yaml with an ETag: If-None-Match answers 304 until the index changes', async () => {
      const first = await index(node, 'helm-local');
      expect(first.etag).not.toBe('');
      const same = await fetch(first.url, { headers: { ...auth, 'if-none-match': first.etag } });
      expect(same.status).toBe(304);
      const spec = { name: 'etag-demo', version: '0.0.1' };
      expect((await fetch(`${helmUrl(node, 'helm-local')}/api/charts`, { method: 'POST', headers: auth, body: chartTgz(spec) })).status).toBe(201);
      const changed = await fetch(first.url, { headers: { ...auth, 'if-none-match': first.etag } });
      expect(changed.status).toBe(200);
      const doc = parse(await changed.text()) as IndexDoc;
      expect(doc.entries['etag-demo'][0].version).toBe('0.0.1');
      const etag = changed.headers.get('etag')!;
      expect(etag).not.toBe(first.etag);
      expect((await fetch(first.url, { headers: { ...auth, 'if-none-match': etag } })).status).toBe(304);
    });

    it('refuses bad charts with a ChartMuseum error and stores nothing', async () => {
      const before = await index(node, 'helm-local');
      const chartYaml = chartYamlOf({ name: 'evil', version: '1.0.0' });
      const bad: Array<[string, Buffer, RegExp]> = [
        ['symlink', tgzOf([{ name: 'evil/Chart.yaml', data: chartYaml }, { name: 'evil/x', type: '2', linkname: '/etc/shadow' }]), /link/],
        ['traversal', tgzOf([{ name: 'evil/Chart.yaml', data: chartYaml }, { name: 'evil/../../x', data: 'x' }]), /parent folder/],
        ['two folders', tgzOf([{ name: 'evil/Chart.yaml', data: chartYaml }, { name: 'other/a', data: 'x' }]), /top-level folder/],
        ['bad version', tgzOf([{ name: 'evil/Chart.yaml', data: 'apiVersion: v2\nname: evil\nversion: 1.0\n' }]), /SemVer/],
        ['not gzip', Buffer.from('just text'), /gzip/],
      ];
      for (const [what, body, reason] of bad) {
        const res = await fetch(`${helmUrl(node, 'helm-local')}/api/charts`, { method: 'POST', headers: auth, body });
        expect(res.status, what).toBe(400);
        expect(((await res.json()) as { error: string }).error, what).toMatch(reason);
      }
      const other = chartTgz({ name: 'evil', version: '1.0.0' });
      const mismatched = formOf({ chart: { filename: 'evil-1.0.0.tgz', data: other }, prov: { filename: 'x.prov', data: provOf('web', '1.0.0', other) } });
      const form = await fetch(`${helmUrl(node, 'helm-local')}/api/charts`, { method: 'POST', headers: { ...auth, 'content-type': mismatched.contentType }, body: mismatched.body });
      expect(form.status).toBe(400);
      expect(((await form.json()) as { error: string }).error).toMatch(/provenance file is for web 1\.0\.0/);
      const badProv = await fetch(`${helmUrl(node, 'helm-local')}/evil-1.0.0.tgz.prov`, { method: 'PUT', headers: auth, body: 'not signed' });
      expect(badProv.status).toBe(400);
      const misnamed = await fetch(`${helmUrl(node, 'helm-local')}/evil-2.0.0.tgz`, { method: 'PUT', headers: auth, body: chartTgz({ name: 'evil', version: '1.0.0' }) });
      expect(misnamed.status).toBe(400);
      expect(((await misnamed.json()) as { error: string }).error).toMatch(/evil-1\.0\.0\.tgz/);
      const generated = await fetch(`${node}/helm-local/index.yaml`, { method: 'PUT', headers: auth, body: 'apiVersion: v1\nentries: {}\n' });
      expect(generated.status).toBe(403);
      const after = await index(node, 'helm-local');
      expect(after.etag).toBe(before.etag);
      expect(after.doc.entries.evil).toBeUndefined();
      for (const path of ['evil-1.0.0.tgz', 'evil-2.0.0.tgz', 'evil-1.0.0.tgz.prov']) expect((await fetch(`${node}/api/storage/helm-local/${path}`, { headers: auth })).status).toBe(404);
    });

    it('merges a local and a remote member in a virtual repository (local first); the remote serves charts through itself', async () => {
      const shared = { name: 'web', version: '1.0.0', variant: 9 };
      const upOnly = { name: 'upstream-only', version: '3.1.4', appVersion: 'v3' };
      for (const spec of [shared, upOnly]) {
        const res = await fetch(`${helmUrl(upstream.base, 'up-helm')}/api/charts`, { method: 'POST', headers: auth, body: chartTgz(spec) });
        expect(res.status, await res.text()).toBe(201);
      }
      const remote = await index(node, 'helm-remote');
      expect(Object.keys(remote.doc.entries).sort()).toEqual(['upstream-only', 'web']);
      // Chart URLs relative to the remote: helm fetches them through Arca.
      expect(remote.doc.entries['upstream-only'][0].urls).toEqual(['upstream-only-3.1.4.tgz']);
      await checkEntries(remote.doc, remote.url, new Map([['upstream-only@3.1.4', chartTgz(upOnly)]]));
      const repeated = await fetch(remote.url, { headers: { ...auth, 'if-none-match': remote.etag } });
      expect(repeated.status).toBe(304);

      const virtual = await index(node, 'helm-virtual');
      expect(Object.keys(virtual.doc.entries)).toEqual(expect.arrayContaining(['cache', 'db', 'etag-demo', 'upstream-only', 'web']));
      const web = virtual.doc.entries.web.find((e) => e.version === '1.0.0')!;
      // The local member's 1.0.0 wins over the upstream's other archive of that version.
      expect(web.digest).toBe(sha256Of(archives.get('web@1.0.0')!));
      expect(web.digest).not.toBe(sha256Of(chartTgz(shared)));
      await checkEntries(virtual.doc, virtual.url, new Map([...archives, ['upstream-only@3.1.4', chartTgz(upOnly)]]));

      const cm = (await (await fetch(`${helmUrl(node, 'helm-virtual')}/api/charts/upstream-only`, { headers: auth })).json()) as Array<{ version: string }>;
      expect(cm.map((v) => v.version)).toEqual(['3.1.4']);

      // An upload through the virtual repository lands in its defaultDeploymentRepo.
      const viaVirtual = { name: 'via-virtual', version: '1.0.0' };
      expect((await fetch(`${helmUrl(node, 'helm-virtual')}/api/charts`, { method: 'POST', headers: auth, body: chartTgz(viaVirtual) })).status).toBe(201);
      expect((await index(node, 'helm-local')).doc.entries['via-virtual'][0].version).toBe('1.0.0');
      expect((await fetch(`${helmUrl(node, 'helm-remote')}/api/charts`, { method: 'POST', headers: auth, body: chartTgz(viaVirtual) })).status).toBe(405);
    });

    it('deletes versions: ChartMuseum DELETE and a plain DELETE update the index', async () => {
      const del = await fetch(`${helmUrl(node, 'helm-local')}/api/charts/db/0.3.0`, { method: 'DELETE', headers: auth });
      expect(del.status).toBe(200);
      expect(await del.json()).toEqual({ deleted: true });
      expect((await fetch(`${helmUrl(node, 'helm-local')}/db-0.3.0.tgz.prov`, { headers: auth })).status).toBe(404);
      expect((await fetch(`${helmUrl(node, 'helm-local')}/api/charts/db/0.3.0`, { method: 'DELETE', headers: auth })).status).toBe(404);

      expect((await fetch(`${node}/helm-local/web-1.2.0-rc.1.tgz`, { method: 'DELETE', headers: auth })).status).toBe(204);
      expect((await fetch(`${node}/helm-local/stable`, { method: 'DELETE', headers: auth })).status).toBe(204);
      const { doc, url } = await index(node, 'helm-local');
      expect(doc.entries.db).toBeUndefined();
      expect(doc.entries.cache).toBeUndefined();
      expect(doc.entries.web.map((e) => e.version)).toEqual(['1.0.0']);
      await checkEntries(doc, url, archives);
      const virtual = await index(node, 'helm-virtual');
      expect(virtual.doc.entries.db).toBeUndefined();
    });

    it('keeps every chart of concurrent uploads in the index', async () => {
      const specs = Array.from({ length: 8 }, (_, i) => ({ name: `burst-${i % 2}`, version: `1.0.${i}` }));
      const statuses = await Promise.all(specs.map(async (spec) => (await fetch(`${helmUrl(node, 'helm-local')}/api/charts`, { method: 'POST', headers: auth, body: chartTgz(spec) })).status));
      expect(statuses).toEqual(specs.map(() => 201));
      const { doc, url } = await index(node, 'helm-local');
      expect(doc.entries['burst-0'].map((e) => e.version)).toEqual(['1.0.6', '1.0.4', '1.0.2', '1.0.0']);
      expect(doc.entries['burst-1'].map((e) => e.version)).toEqual(['1.0.7', '1.0.5', '1.0.3', '1.0.1']);
      await checkEntries({ ...doc, entries: { 'burst-0': doc.entries['burst-0'], 'burst-1': doc.entries['burst-1'] } }, url, new Map(specs.map((s) => [`${s.name}@${s.version}`, chartTgz(s)])));
    });
  });
}

describeOnNodeAndCluster('helm', helmFlow);
