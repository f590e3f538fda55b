import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packPackage, publishBody } from '../../src/formats/npm/testing/pack.js';
import { DIALECTS } from '../helpers/databases.js';
import { basic, startTestNode, type TestNode } from '../helpers/node-context.js';
import { multipartBody, sha256Hex, twineFields, wheelFilename, writeWheel } from '../helpers/pypi-fixtures.js';
import { storedZip } from '../helpers/stored-zip.js';
import { copyRepo, itemUrl, listItems, type CopyResult } from '../helpers/replication-copy.js';
import { OciClient, nodeTarget, sha256 } from './oci-client.js';

const REPLICATOR = basic('replicator', 'Replicator-Passw0rd!1');
const DEPLOYER = basic('deployer', 'Deployer-Passw0rd!1');
const READER = basic('reader', 'Reader-Passw0rd!1');
const REPOS: [string, string][] = [
  ['gen-local', 'generic'],
  ['mvn-local', 'maven'],
  ['npm-local', 'npm'],
  ['pypi-local', 'pypi'],
  ['oci-local', 'docker'],
  ['artifactory-build-info', 'buildinfo'],
];
const pom = (v: string) =>
  `<?xml version="1.0"?>\n<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion><groupId>org.ex</groupId><artifactId>lib</artifactId><version>${v}</version></project>\n`;
const stored = (results: CopyResult[]) => results.map((r) => [r.path, r.status]);
const allStatus = (results: CopyResult[], ...codes: number[]) => {
  for (const r of results) expect(codes, `${r.path}: ${r.status} ${r.body}`).toContain(r.status);
};

/**
 * The target side of replication (issue 16, items 2 and 5) on every dialect: a source node
 * publishes through each format's own API, every item of the repository is copied to a target
 * node with the wire protocol (checksum deploy, the body on 404, exact properties), and the
 * target answers each format's read API as the source does. Loops, identical no-ops,
 * permissions, bad headers and deletes.
 */
describe.each(DIALECTS)('replication apply on %s', (dialect) => {
  let source: TestNode;
  let target: TestNode;
  let sourceSite: string;
  let targetSite: string;
  const dir = mkdtempSync(join(tmpdir(), 'arca-repl-apply-'));
  const copy = (repo: string, opts: Partial<Parameters<typeof copyRepo>[3]> = {}) => copyRepo(source, target, repo, { origin: sourceSite, ...opts });
  const same = async (repo: string) => {
    const [a, b] = [await listItems(source, repo), await listItems(target, repo)];
    expect(b).toEqual(a);
  };
  const get = (node: TestNode, url: string, headers: Record<string, string> = {}) => node.request({ method: 'GET', url, headers });
  const apply = (method: 'PUT' | 'DELETE', url: string, headers: Record<string, string> = {}, payload?: string | Buffer) =>
    target.request({ method, url, headers: { 'x-arca-replication-origin': sourceSite, ...headers }, ...(payload === undefined ? {} : { payload }) });

  beforeAll(async () => {
    [source, target] = await Promise.all([startTestNode(dialect), startTestNode(dialect)]);
    for (const node of [source, target]) {
      for (const [key, type] of REPOS) {
        const res = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'local', packageType: type } });
        expect(res.statusCode, res.body).toBe(200);
      }
    }
    for (const [user, letters] of [['replicator', ['r', 'w', 'd', 'n']], ['deployer', ['r', 'w', 'd']], ['reader', ['r']]] as const) {
      const password = `${user[0].toUpperCase()}${user.slice(1)}-Passw0rd!1`;
      expect((await target.request({ method: 'PUT', url: `/artifactory/api/security/users/${user}`, payload: { email: `${user}@example.com`, password } })).statusCode).toBeLessThan(300);
      const perm = await target.request({
        method: 'PUT',
        url: `/artifactory/api/security/permissions/${user}`,
        payload: { name: user, repositories: REPOS.map(([k]) => k), principals: { users: { [user]: letters } } },
      });
      expect(perm.statusCode, perm.body).toBeLessThan(300);
    }
    sourceSite = await source.ctx.replicationApply.ownSiteId();
    targetSite = await target.ctx.replicationApply.ownSiteId();
    expect(sourceSite).not.toBe(targetSite);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([source?.close(), target?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('generic: stores every file as given (body first, then by checksum) with exactly its properties, and answers the site id', async () => {
    const put = (path: string, body: string) => source.request({ method: 'PUT', url: `/artifactory/gen-local/${path}`, payload: body });
    expect((await put('a/one.txt;team=core;tags=x;tags=y;comma=x,y;odd=a%2Cb%3Bc%3Dd', 'one')).statusCode).toBe(201);
    expect((await put('a/b/two.bin', 'two')).statusCode).toBe(201);
    expect((await put('a/b/dup.bin', 'two')).statusCode).toBe(201);
    const results = await copy('gen-local', { authorization: REPLICATOR });
    allStatus(results, 201);
    for (const r of results) expect(r.siteId).toBe(targetSite);
    // The first copy of a binary needs its body; the second path with the same content does not.
    expect(results.map((r) => [r.path, r.withBody])).toEqual([
      ['a/b/dup.bin', true],
      ['a/b/two.bin', false],
      ['a/one.txt', true],
    ]);
    await same('gen-local');
    const props = await get(target, '/artifactory/api/storage/gen-local/a/one.txt?properties');
    expect(props.json().properties).toEqual({ team: ['core'], tags: ['x', 'y'], comma: ['x,y'], odd: ['a,b;c=d'] });
    expect((await get(target, '/artifactory/gen-local/a/one.txt')).body).toBe('one');
  });

  it('the archive entry index of the target knows a replicated archive', async () => {
    const zip = storedZip({ 'org/x/Replicated.class': 'class bytes', 'README.txt': 'hi' });
    expect((await source.request({ method: 'PUT', url: '/artifactory/gen-local/zips/r-1.0.jar', payload: zip })).statusCode).toBe(201);
    allStatus(await copy('gen-local', { authorization: REPLICATOR, paths: ['zips/r-1.0.jar'] }), 201);
    await target.ctx.archives.index.idle();
    const aql = await target.request({ method: 'POST', url: '/artifactory/api/search/aql', payload: 'items.find({"archive.entry.name":"Replicated.class"})' });
    expect(aql.statusCode, aql.body).toBe(200);
    expect(aql.json().results.map((r: { path: string; name: string }) => `${r.path}/${r.name}`)).toEqual(['zips/r-1.0.jar']);
    expect((await apply('DELETE', itemUrl('gen-local', 'zips'), { authorization: REPLICATOR })).statusCode).toBe(204);
    expect((await source.request({ method: 'DELETE', url: '/artifactory/gen-local/zips' })).statusCode).toBe(204);
  });

  it('an identical item writes nothing: no row, property or event changes', async () => {
    const db = target.ctx.database.db;
    const snapshot = async () => ({
      items: await db.selectFrom('items').selectAll().where('repo', '=', 'gen-local').orderBy('id').execute(),
      props: await db.selectFrom('item_props').selectAll().orderBy('item_id').orderBy('prop_key').orderBy('prop_value').execute(),
      events: await db.selectFrom('replication_events').select((e) => e.fn.countAll().as('n')).executeTakeFirst(),
    });
    const before = await snapshot();
    const results = await copy('gen-local', { authorization: REPLICATOR });
    expect(stored(results)).toEqual(results.map((r) => [r.path, 200]));
    expect(await snapshot()).toEqual(before);
  });

  it('exact properties replace what the target had; new content replaces the file', async () => {
    const set = await source.request({ method: 'PUT', url: '/artifactory/api/storage/gen-local/a/one.txt?properties=team=edge;extra=1&recursive=0' });
    expect(set.statusCode, set.body).toBeLessThan(300);
    await source.request({ method: 'DELETE', url: '/artifactory/api/storage/gen-local/a/one.txt?properties=tags,odd,comma' });
    expect((await source.request({ method: 'PUT', url: '/artifactory/gen-local/a/b/two.bin', payload: 'two, again' })).statusCode).toBe(201);
    const results = await copy('gen-local', { authorization: REPLICATOR });
    expect(stored(results)).toEqual([
      ['a/b/dup.bin', 200],
      ['a/b/two.bin', 201],
      ['a/one.txt', 201],
    ]);
    await same('gen-local');
    expect((await get(target, '/artifactory/api/storage/gen-local/a/one.txt?properties')).json().properties).toEqual({ team: ['edge'], extra: ['1'] });
    expect((await get(target, '/artifactory/gen-local/a/b/two.bin')).body).toBe('two, again');
  });

  it('passes the origin into the deploy and the delete (the events they record carry it)', async () => {
    const artifacts = target.ctx.artifacts;
    const deploys = target.ctx.packages.deploy;
    const seen: (string | undefined)[] = [];
    const deploy = artifacts.deploy.bind(artifacts);
    const del = deploys.delete.bind(deploys);
    artifacts.deploy = (req) => (seen.push(`deploy ${req.path} ${req.origin}`), deploy(req));
    deploys.delete = (repo, path, access, options) => (seen.push(`delete ${path} ${options?.origin}`), del(repo, path, access, options));
    try {
      const sha1 = 'a9993e364706816aba3e25717850c26c9cd0d89d';
      expect((await apply('PUT', itemUrl('gen-local', 'origin/abc.txt'), { authorization: REPLICATOR, 'x-checksum-sha1': sha1 }, 'abc')).statusCode).toBe(201);
      expect((await apply('PUT', itemUrl('gen-local', 'origin/abc.txt'), { authorization: REPLICATOR, 'x-checksum-sha1': sha1 }, 'abc')).statusCode).toBe(200);
      expect((await apply('DELETE', itemUrl('gen-local', 'origin'), { authorization: REPLICATOR })).statusCode).toBe(204);
    } finally {
      artifacts.deploy = deploy;
      deploys.delete = del;
    }
    // The identical PUT reached no deploy.
    expect(seen).toEqual([`deploy origin/abc.txt ${sourceSite}`, `delete origin ${sourceSite}`]);
  });

  it('a change that came from this site is a loop: 200 and nothing changes', async () => {
    const loop = await apply('PUT', '/artifactory/gen-local/loop/x.txt', { 'x-arca-replication-origin': targetSite, 'x-checksum-sha1': 'a'.repeat(40), authorization: REPLICATOR }, 'x');
    expect(loop.statusCode, loop.body).toBe(200);
    expect(loop.headers['x-arca-site-id']).toBe(targetSite);
    expect((await get(target, '/artifactory/api/storage/gen-local/loop/x.txt')).statusCode).toBe(404);
    const del = await apply('DELETE', '/artifactory/gen-local/a/one.txt', { 'x-arca-replication-origin': targetSite, authorization: REPLICATOR });
    expect(del.statusCode).toBe(200);
    expect((await get(target, '/artifactory/gen-local/a/one.txt')).statusCode).toBe(200);
  });

  it('authorises like a deploy before the body; exact properties need annotate; bad headers are 400', async () => {
    const url = itemUrl('gen-local', 'auth/f.txt', ';k=v');
    const sha1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
    const anon = await apply('PUT', url, { authorization: '', 'x-checksum-sha1': sha1 }, '');
    expect(anon.statusCode).toBe(401);
    expect(anon.headers['x-arca-site-id']).toBe(targetSite);
    const reader = await apply('PUT', url, { authorization: READER, 'x-checksum-sha1': sha1 }, '');
    expect(reader.statusCode).toBe(403);
    expect(reader.headers['x-arca-site-id']).toBe(targetSite);
    const noAnnotate = await apply('PUT', url, { authorization: DEPLOYER, 'x-checksum-sha1': sha1, 'x-arca-replication-properties': 'exact' }, '');
    expect(noAnnotate.statusCode, noAnnotate.body).toBe(403);
    expect((await get(target, '/artifactory/api/storage/gen-local/auth/f.txt')).statusCode).toBe(404);
    // Without properties the deployer may replicate the file.
    const plain = await apply('PUT', itemUrl('gen-local', 'auth/f.txt'), { authorization: DEPLOYER, 'x-checksum-sha1': sha1 }, '');
    expect(plain.statusCode, plain.body).toBe(201);
    const wrong = await apply('PUT', itemUrl('gen-local', 'auth/g.txt'), { authorization: REPLICATOR, 'x-checksum-sha1': sha1 }, 'not empty');
    expect(wrong.statusCode).toBe(409);
    for (const headers of <Record<string, string>[]>[{ 'x-arca-replication-origin': 'bad origin!' }, { 'x-arca-replication-origin': '' }, { 'x-arca-replication-properties': 'merge' }]) {
      const bad = await apply('PUT', itemUrl('gen-local', 'auth/h.txt'), { authorization: REPLICATOR, 'x-checksum-sha1': sha1, ...headers }, '');
      expect(bad.statusCode, JSON.stringify(headers)).toBe(400);
      expect(bad.headers['x-arca-site-id']).toBe(targetSite);
    }
    const noSum = await apply('PUT', itemUrl('gen-local', 'auth/h.txt'), { authorization: REPLICATOR }, '');
    expect(noSum.statusCode).toBe(400);
    const readerDelete = await apply('DELETE', itemUrl('gen-local', 'auth/f.txt'), { authorization: READER });
    expect(readerDelete.statusCode).toBe(403);
  });

  it('deletes as the source did: 204, then 404 once gone', async () => {
    const del = await apply('DELETE', itemUrl('gen-local', 'a/b/dup.bin'), { authorization: REPLICATOR });
    expect(del.statusCode, del.body).toBe(204);
    expect(del.headers['x-arca-site-id']).toBe(targetSite);
    expect((await get(target, '/artifactory/gen-local/a/b/dup.bin')).statusCode).toBe(404);
    expect((await apply('DELETE', itemUrl('gen-local', 'a/b/dup.bin'), { authorization: REPLICATOR })).statusCode).toBe(404);
  });

  it('maven: the same files and maven-metadata.xml; metadata regenerated when an artifact arrives first; deletes', async () => {
    const put = (path: string, body: string) => source.request({ method: 'PUT', url: `/artifactory/mvn-local/org/ex/lib/${path}`, payload: body });
    for (const v of ['1.0', '1.1']) {
      expect((await put(`${v}/lib-${v}.pom`, pom(v))).statusCode).toBe(201);
      expect((await put(`${v}/lib-${v}.jar`, `jar ${v}`)).statusCode).toBe(201);
    }
    // The metadata the target made from the files it got may already be the source's, to the second.
    allStatus(await copy('mvn-local', { authorization: REPLICATOR }), 200, 201);
    await same('mvn-local');
    const meta = '/artifactory/mvn-local/org/ex/lib/maven-metadata.xml';
    expect((await get(target, meta)).body).toBe((await get(source, meta)).body);
    expect((await get(target, '/artifactory/mvn-local/org/ex/lib/1.1/lib-1.1.jar.sha1')).body).toContain((await listItems(source, 'mvn-local')).find((i) => i.path.endsWith('1.1.jar'))!.sha1);

    // A new version whose jar arrives before the source's metadata: the target lists it at once.
    expect((await put('1.2/lib-1.2.pom', pom('1.2'))).statusCode).toBe(201);
    expect((await put('1.2/lib-1.2.jar', 'jar 1.2')).statusCode).toBe(201);
    allStatus(await copy('mvn-local', { authorization: REPLICATOR, paths: ['org/ex/lib/1.2/lib-1.2.jar'] }), 201);
    expect((await get(target, meta)).body).toContain('<version>1.2</version>');
    allStatus(await copy('mvn-local', { authorization: REPLICATOR }), 200, 201);
    await same('mvn-local');

    // Unique SNAPSHOT builds: the version folder's metadata too.
    const snap = (n: number) => `2.0-SNAPSHOT/lib-2.0-20260101.12000${n}-${n}`;
    for (const n of [1, 2]) {
      expect((await put(`${snap(n)}.pom`, pom('2.0-SNAPSHOT'))).statusCode).toBe(201);
      expect((await put(`${snap(n)}.jar`, `snapshot ${n}`)).statusCode).toBe(201);
    }
    allStatus(await copy('mvn-local', { authorization: REPLICATOR, paths: [`org/ex/lib/${snap(1)}.jar`, `org/ex/lib/${snap(2)}.jar`] }), 201);
    const snapMeta = '/artifactory/mvn-local/org/ex/lib/2.0-SNAPSHOT/maven-metadata.xml';
    expect((await get(target, snapMeta)).body).toContain('<buildNumber>2</buildNumber>');
    allStatus(await copy('mvn-local', { authorization: REPLICATOR }), 200, 201);
    await same('mvn-local');
    expect((await get(target, snapMeta)).body).toBe((await get(source, snapMeta)).body);
    expect((await get(target, `/artifactory/mvn-local/org/ex/lib/${snap(2)}.jar`)).body).toBe('snapshot 2');

    // The source deletes 1.2: its files go, then its new metadata arrives.
    expect((await source.request({ method: 'DELETE', url: '/artifactory/mvn-local/org/ex/lib/1.2' })).statusCode).toBe(204);
    expect((await apply('DELETE', itemUrl('mvn-local', 'org/ex/lib/1.2'), { authorization: REPLICATOR })).statusCode).toBe(204);
    expect((await get(target, meta)).body).not.toContain('<version>1.2</version>');
    allStatus(await copy('mvn-local', { authorization: REPLICATOR }), 200, 201);
    await same('mvn-local');
  });

  it('npm: packuments with tarball URLs at the target, search, a tarball before its document, a deleted version', async () => {
    const api = '/artifactory/api/npm/npm-local';
    for (const [name, version] of [['hello', '1.0.0'], ['@sc/tool', '2.0.0']]) {
      const pkg = packPackage({ name, version, description: `${name} for replication` });
      const res = await source.request({ method: 'PUT', url: `${api}/${name.replace('/', '%2f')}`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(publishBody(pkg)) });
      expect(res.statusCode, res.body).toBe(201);
    }
    allStatus(await copy('npm-local', { authorization: REPLICATOR }), 201);
    await same('npm-local');
    const host = { host: 'site-b.example:8081' };
    const doc = (await get(target, `${api}/@sc%2ftool`, host)).json();
    expect(doc.versions['2.0.0'].dist.tarball).toBe('http://site-b.example:8081/artifactory/api/npm/npm-local/@sc/tool/-/@sc/tool-2.0.0.tgz');
    const src = (await get(source, `${api}/@sc%2ftool`, host)).json();
    expect(doc).toEqual(src);
    const tgz = await get(target, `${api}/hello/-/hello-1.0.0.tgz`);
    expect(tgz.statusCode).toBe(200);
    expect(tgz.rawPayload.equals((await get(source, `${api}/hello/-/hello-1.0.0.tgz`)).rawPayload)).toBe(true);
    const search = await get(target, `${api}/-/v1/search?text=replication`);
    expect(search.json().objects.map((o: { package: { name: string } }) => o.package.name).sort()).toEqual(['@sc/tool', 'hello']);

    // The tarball of a new version arrives before the document: the target lists the version at once.
    const next = packPackage({ name: 'hello', version: '1.1.0', description: 'hello for replication' });
    expect((await source.request({ method: 'PUT', url: `${api}/hello`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(publishBody(next)) })).statusCode).toBeLessThan(300);
    allStatus(await copy('npm-local', { authorization: REPLICATOR, paths: ['hello/-/hello-1.1.0.tgz'] }), 201);
    expect(Object.keys((await get(target, `${api}/hello`)).json().versions).sort()).toEqual(['1.0.0', '1.1.0']);
    allStatus(await copy('npm-local', { authorization: REPLICATOR }), 200, 201);
    await same('npm-local');

    // A replicated delete of a tarball drops the version from the target's document.
    expect((await apply('DELETE', itemUrl('npm-local', 'hello/-/hello-1.1.0.tgz'), { authorization: REPLICATOR })).statusCode).toBe(204);
    expect(Object.keys((await get(target, `${api}/hello`)).json().versions)).toEqual(['1.0.0']);
  });

  it('pypi: the simple page, the file and its PEP 658 metadata', async () => {
    writeWheel(join(dir, 'w.whl'), { name: 'repl-demo', version: '0.3', summary: 'replicated' });
    const wheel = readFileSync(join(dir, 'w.whl'));
    const name = wheelFilename('repl-demo', '0.3');
    const { body, contentType } = multipartBody({ fields: twineFields('repl-demo', '0.3', wheel, 'bdist_wheel'), filename: name, content: wheel });
    const up = await source.request({ method: 'POST', url: '/artifactory/api/pypi/pypi-local', headers: { 'content-type': contentType }, payload: body });
    expect(up.statusCode, up.body).toBe(200);
    allStatus(await copy('pypi-local', { authorization: REPLICATOR }), 201);
    await same('pypi-local');
    const page = '/artifactory/api/pypi/pypi-local/simple/repl-demo/';
    const accept = { accept: 'application/vnd.pypi.simple.v1+json' };
    const got = (await get(target, page, accept)).json();
    // The upload time is the item's creation at each site (the wire protocol does not carry it).
    const noTimes = (p: { files: Record<string, unknown>[] }) => ({ ...p, files: p.files.map(({ 'upload-time': _t, ...f }) => f) });
    expect(noTimes(got)).toEqual(noTimes((await get(source, page, accept)).json()));
    expect(got.files.map((f: { filename: string; hashes: { sha256: string } }) => [f.filename, f.hashes.sha256])).toEqual([[name, sha256Hex(wheel)]]);
    const file = await get(target, `/artifactory/api/pypi/pypi-local/packages/repl-demo/0.3/${name}`);
    expect(file.statusCode === 200 ? file.rawPayload.equals(wheel) : file.statusCode).toBe(true);
  });

  it('oci: manifests by tag and digest with their media type, tags, catalogue, blobs; a tag deleted', async () => {
    const client = new OciClient(nodeTarget(source, 'oci-local'), 'oci-local');
    const v1 = await client.pushImage('app/web', 'v1', { layers: [`${dialect} layer one`] });
    const v2 = await client.pushImage('app/web', 'v2', { layers: [`${dialect} layer two`] });
    // A multi-platform index over both (list.manifest.json), without a mediaType field of its own.
    const index = JSON.stringify({
      schemaVersion: 2,
      manifests: [v1, v2].map((m, i) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: m.digest, size: Buffer.byteLength(m.manifest), platform: { architecture: ['amd64', 'arm64'][i], os: 'linux' } })),
    });
    expect((await client.putManifest('app/web', 'multi', index, 'application/vnd.oci.image.index.v1+json')).status).toBe(201);
    allStatus(await copy('oci-local', { authorization: REPLICATOR }), 201);
    await same('oci-local');
    for (const ref of ['v1', v1.digest]) {
      const m = await get(target, `/v2/oci-local/app/web/manifests/${ref}`, { accept: 'application/vnd.oci.image.manifest.v1+json' });
      expect(m.statusCode, m.body).toBe(200);
      expect(m.headers['content-type']).toBe('application/vnd.oci.image.manifest.v1+json');
      expect(m.headers['docker-content-digest']).toBe(v1.digest);
      expect(m.body).toBe(v1.manifest);
    }
    expect((await get(target, '/v2/oci-local/app/web/tags/list')).json()).toEqual({ name: 'oci-local/app/web', tags: ['multi', 'v1', 'v2'] });
    const multi = await get(target, '/v2/oci-local/app/web/manifests/multi', { accept: 'application/vnd.oci.image.index.v1+json' });
    expect([multi.statusCode, multi.headers['content-type'], multi.headers['docker-content-digest'], multi.body]).toEqual([200, 'application/vnd.oci.image.index.v1+json', sha256(index), index]);
    expect((await get(target, '/v2/_catalog')).json().repositories).toContain('oci-local/app/web');
    const layer = JSON.parse(v1.manifest).layers[0].digest as string;
    const blob = await get(target, `/v2/oci-local/app/web/blobs/${layer}`);
    expect([blob.statusCode, sha256(blob.rawPayload)]).toEqual([200, layer]);

    // A signature-like artifact whose subject is v1: the referrers API of the target lists it.
    const sig = await client.pushImage('app/web', 'sig', {
      layers: ['signature'],
      configType: 'application/vnd.example.sig.v1+json',
      extra: { subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: v1.digest, size: Buffer.byteLength(v1.manifest) } },
    });
    allStatus(await copy('oci-local', { authorization: REPLICATOR }), 200, 201);
    await same('oci-local');
    const refs = await get(target, `/v2/oci-local/app/web/referrers/${v1.digest}`);
    expect(refs.statusCode, refs.body).toBe(200);
    expect(refs.json()).toEqual((await get(source, `/v2/oci-local/app/web/referrers/${v1.digest}`)).json());
    expect(refs.json().manifests.map((m: { digest: string }) => m.digest)).toEqual([sig.digest]);

    expect((await source.request({ method: 'DELETE', url: '/artifactory/oci-local/app/web/v2' })).statusCode).toBe(204);
    expect((await apply('DELETE', itemUrl('oci-local', 'app/web/v2'), { authorization: REPLICATOR })).statusCode).toBe(204);
    expect((await get(target, '/v2/oci-local/app/web/tags/list')).json().tags).toEqual(['multi', 'sig', 'v1']);
    await same('oci-local');
  });

  it('build info: the build is listed and read on the target; a replicated delete removes it', async () => {
    const build = {
      version: '1.0.1',
      name: 'repl-app',
      number: '7',
      started: '2026-01-10T10:00:00.000+0000',
      modules: [{ id: 'm', artifacts: [{ type: 'bin', name: 'app.bin', sha1: 'a'.repeat(40), md5: 'b'.repeat(32) }] }],
    };
    const pub = await source.request({ method: 'PUT', url: '/artifactory/api/build', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(build) });
    expect(pub.statusCode, pub.body).toBeLessThan(300);
    allStatus(await copy('artifactory-build-info', { authorization: REPLICATOR }), 201);
    await same('artifactory-build-info');
    const one = await get(target, '/artifactory/api/build/repl-app/7');
    expect(one.statusCode, one.body).toBe(200);
    expect(one.json().buildInfo).toEqual((await get(source, '/artifactory/api/build/repl-app/7')).json().buildInfo);
    expect((await get(target, '/artifactory/api/build/repl-app')).json().buildsNumbers.map((b: { uri: string }) => b.uri)).toEqual(['/7']);
    const [item] = await listItems(target, 'artifactory-build-info');
    expect((await apply('DELETE', itemUrl('artifactory-build-info', item.path), { authorization: REPLICATOR })).statusCode).toBe(204);
    expect((await get(target, '/artifactory/api/build/repl-app/7')).statusCode).toBe(404);
  });
});
