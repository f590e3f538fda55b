import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDeb, HAVE_APT } from '../../../test/helpers/debian-packages.js';
import { startTestNode, type TestNode } from '../../node/testing/test-node.js';
import { releaseFiles } from './release.js';

const dir = mkdtempSync(join(tmpdir(), 'arca-debian-api-'));
const api = (repo: string, path: string) => `/artifactory/api/deb/${repo}/${path}`;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

if (!HAVE_APT) console.warn('[skip] Debian repository API tests: dpkg-deb or apt-get is not installed (apt-get install dpkg apt)');

/** The APT repository's answers and refusals, in process (app.inject), with packages built by dpkg-deb. */
describe.skipIf(!HAVE_APT)('the Debian repository API', () => {
  let node: TestNode;
  const hello = () => buildDeb(dir, { name: 'hello', version: '1.0-1', arch: 'amd64' }).data;

  beforeAll(async () => {
    node = await startTestNode();
    const repos: Array<[string, Record<string, unknown>]> = [
      ['d-local', { rclass: 'local' }],
      ['d-dead', { rclass: 'remote', url: 'http://127.0.0.1:9/debian', assumedOfflinePeriodSecs: 0 }],
      ['d-virtual', { rclass: 'virtual', repositories: ['d-dead', 'd-local'], defaultDeploymentRepo: 'd-local' }],
    ];
    for (const [key, config] of repos) {
      const res = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { key, packageType: 'debian', ...config } });
      expect(res.statusCode, res.body).toBe(200);
    }
    const res = await node.request({ method: 'PUT', url: `${api('d-local', 'pool/main/h/hello/hello_1.0-1_amd64.deb')};deb.distribution=bookworm;deb.component=main`, payload: hello() });
    expect(res.statusCode, res.body).toBe(201);
  });
  afterAll(async () => {
    await node?.close();
  });

  it('serves Release, Packages and Packages.gz that agree, and the same files by hash', async () => {
    const release = (await node.request({ method: 'GET', url: api('d-local', 'dists/bookworm/Release') })).rawPayload;
    const listed = releaseFiles(release.toString());
    const text = (await node.request({ method: 'GET', url: api('d-local', 'dists/bookworm/main/binary-amd64/Packages') })).rawPayload;
    const gz = (await node.request({ method: 'GET', url: api('d-local', 'dists/bookworm/main/binary-amd64/Packages.gz') })).rawPayload;
    expect(listed.get('main/binary-amd64/Packages')).toMatchObject({ size: text.length, sha256: sha256(text) });
    expect(listed.get('main/binary-amd64/Packages.gz')).toMatchObject({ size: gz.length, sha256: sha256(gz) });
    expect(gunzipSync(gz).equals(text)).toBe(true);
    expect(text.toString()).toMatch(/^Filename: pool\/main\/h\/hello\/hello_1\.0-1_amd64\.deb$/m);
    const byHash = await node.request({ method: 'GET', url: api('d-local', `dists/bookworm/main/binary-amd64/by-hash/SHA256/${sha256(gz)}`) });
    expect(byHash.statusCode).toBe(200);
    expect(byHash.rawPayload.equals(gz)).toBe(true);
    const etag = (await node.request({ method: 'GET', url: api('d-local', 'dists/bookworm/Release') })).headers.etag as string;
    expect((await node.request({ method: 'GET', url: api('d-local', 'dists/bookworm/Release'), headers: { 'if-none-match': etag } })).statusCode).toBe(304);
    const head = await node.request({ method: 'HEAD', url: api('d-local', 'dists/bookworm/main/binary-amd64/Packages') });
    expect(head.statusCode).toBe(200);
    expect(Number(head.headers['content-length'])).toBe(text.length);
  });

  it('serves the same dists/ files at /artifactory/{repo}/ (a sources.list without api/deb), local and virtual', async () => {
    for (const repo of ['d-local', 'd-virtual']) {
      for (const file of ['Release', 'InRelease', 'Release.gpg', 'main/binary-amd64/Packages', 'main/binary-amd64/Packages.gz']) {
        const viaApi = await node.request({ method: 'GET', url: api(repo, `dists/bookworm/${file}`) });
        const plain = await node.request({ method: 'GET', url: `/artifactory/${repo}/dists/bookworm/${file}` });
        expect([plain.statusCode, plain.headers['content-type'], plain.headers.etag], `${repo} ${file}`).toEqual([200, viaApi.headers['content-type'], viaApi.headers.etag]);
        expect(plain.rawPayload.equals(viaApi.rawPayload), `${repo} ${file}`).toBe(true);
      }
      const etag = (await node.request({ method: 'GET', url: `/artifactory/${repo}/dists/bookworm/Release` })).headers.etag as string;
      expect((await node.request({ method: 'GET', url: `/artifactory/${repo}/dists/bookworm/Release`, headers: { 'if-none-match': etag } })).statusCode).toBe(304);
      const head = await node.request({ method: 'HEAD', url: `/artifactory/${repo}/dists/bookworm/main/binary-amd64/Packages.gz` });
      expect([head.statusCode, head.rawPayload.length, Number(head.headers['content-length']) > 0]).toEqual([200, 0, true]);
    }
    expect((await node.request({ method: 'GET', url: '/artifactory/d-local/dists/trixie/Release' })).statusCode).toBe(404);
    expect((await node.request({ method: 'GET', url: '/artifactory/d-local/dists/bookworm/nonsense' })).statusCode).toBe(404);
    // Reading is still a read: anonymous callers are refused as for any file.
    expect((await node.request({ method: 'GET', url: '/artifactory/d-local/dists/bookworm/Release', headers: { authorization: '' } })).statusCode).toBe(401);
  });

  it('sets the deb.* properties of a deployed package from its control file and deploy parameters', async () => {
    const res = await node.request({ method: 'GET', url: '/artifactory/api/storage/d-local/pool/main/h/hello/hello_1.0-1_amd64.deb?properties' });
    expect(res.statusCode, res.body).toBe(200);
    expect(JSON.parse(res.body).properties).toMatchObject({ 'deb.name': ['hello'], 'deb.version': ['1.0-1'], 'deb.architecture': ['amd64'], 'deb.distribution': ['bookworm'], 'deb.component': ['main'], 'deb.section': ['misc'], 'deb.priority': ['optional'] });
  });

  it('keeps the previous Packages readable by hash after a change, so a client holding the old Release still gets its files', async () => {
    const oldGz = (await node.request({ method: 'GET', url: api('d-local', 'dists/bookworm/main/binary-amd64/Packages.gz') })).rawPayload;
    const res = await node.request({ method: 'PUT', url: `${api('d-local', 'pool/main/w/world/world_2.0_amd64.deb')};deb.distribution=bookworm`, payload: buildDeb(dir, { name: 'world', version: '2.0', arch: 'amd64' }).data });
    expect(res.statusCode, res.body).toBe(201);
    const newGz = (await node.request({ method: 'GET', url: api('d-local', 'dists/bookworm/main/binary-amd64/Packages.gz') })).rawPayload;
    expect(newGz.equals(oldGz)).toBe(false);
    const old = await node.request({ method: 'GET', url: api('d-local', `dists/bookworm/main/binary-amd64/by-hash/SHA256/${sha256(oldGz)}`) });
    expect(old.statusCode).toBe(200);
    expect(old.rawPayload.equals(oldGz)).toBe(true);
  });

  it('answers 404 for distributions, components and hashes it does not have', async () => {
    for (const path of ['dists/nope/Release', 'dists/bookworm/contrib/binary-amd64/Packages', `dists/bookworm/main/binary-amd64/by-hash/SHA256/${'0'.repeat(64)}`, 'dists/bookworm/main/i18n/Translation-en', 'pool/none.deb']) {
      expect((await node.request({ method: 'GET', url: api('d-local', path) })).statusCode, path).toBe(404);
    }
  });

  it('refuses bad packages and writes to generated paths, storing nothing', async () => {
    const good = hello();
    const cases: Array<[string, Buffer, string, number]> = [
      ['truncated', good.subarray(0, good.length - 10), 'bookworm', 400],
      ['empty', Buffer.alloc(0), 'bookworm', 400],
      ['no distribution', good, '', 400],
    ];
    for (const [what, body, dist, status] of cases) {
      const res = await node.request({ method: 'PUT', url: `${api('d-local', 'pool/bad/x_1_amd64.deb')}${dist ? `;deb.distribution=${dist}` : ''}`, payload: body });
      expect(res.statusCode, `${what}: ${res.body}`).toBe(status);
    }
    expect((await node.request({ method: 'GET', url: '/artifactory/api/storage/d-local/pool/bad/x_1_amd64.deb' })).statusCode).toBe(404);
    for (const path of ['dists/bookworm/Release', '.debian/dists/bookworm.json']) {
      expect((await node.request({ method: 'PUT', url: api('d-local', path), payload: 'x' })).statusCode, path).toBe(403);
    }
    expect((await node.request({ method: 'PUT', url: `${api('d-dead', 'pool/x.deb')};deb.distribution=bookworm`, payload: good })).statusCode).toBe(405);
  });

  it('deploys through a virtual repository to its defaultDeploymentRepo and serves it there; a dead remote member only drops its packages', async () => {
    const res = await node.request({ method: 'PUT', url: `${api('d-virtual', 'pool/v/virt_1.0_amd64.deb')};deb.distribution=bookworm`, payload: buildDeb(dir, { name: 'virt', version: '1.0', arch: 'amd64' }).data });
    expect(res.statusCode, res.body).toBe(201);
    const packages = await node.request({ method: 'GET', url: api('d-virtual', 'dists/bookworm/main/binary-amd64/Packages') });
    expect(packages.statusCode, packages.body).toBe(200);
    expect(packages.body).toMatch(/^Package: virt$/m);
    const release = await node.request({ method: 'GET', url: api('d-virtual', 'dists/bookworm/Release') });
    expect(release.body).toMatch(/^Origin: d-virtual$/m);
    expect(releaseFiles(release.body).get('main/binary-amd64/Packages')?.sha256).toBe(sha256(packages.rawPayload));
    const deb = await node.request({ method: 'GET', url: api('d-virtual', 'pool/v/virt_1.0_amd64.deb') });
    expect(deb.statusCode).toBe(200);
    // After a member changes, the virtual repository's previous Packages is still there by hash.
    const oldGz = (await node.request({ method: 'GET', url: api('d-virtual', 'dists/bookworm/main/binary-amd64/Packages.gz') })).rawPayload;
    const next = await node.request({ method: 'PUT', url: `${api('d-virtual', 'pool/v/virt2_1.0_amd64.deb')};deb.distribution=bookworm`, payload: buildDeb(dir, { name: 'virt2', version: '1.0', arch: 'amd64' }).data });
    expect(next.statusCode, next.body).toBe(201);
    expect((await node.request({ method: 'GET', url: api('d-virtual', 'dists/bookworm/main/binary-amd64/Packages') })).body).toMatch(/^Package: virt2$/m);
    const old = await node.request({ method: 'GET', url: api('d-virtual', `dists/bookworm/main/binary-amd64/by-hash/SHA256/${sha256(oldGz)}`) });
    expect(old.statusCode).toBe(200);
    expect(old.rawPayload.equals(oldGz)).toBe(true);
  });

  it('lists every one of many packages deployed at once (the index updates take turns)', async () => {
    const debs = Array.from({ length: 8 }, (_, i) => buildDeb(dir, { name: `par-${i}`, version: '1.0', arch: i % 3 === 0 ? 'all' : 'amd64' }));
    const answers = await Promise.all(
      debs.map((d, i) => node.request({ method: 'PUT', url: `${api('d-local', `pool/p/par-${i}.deb`)};deb.distribution=parallel`, payload: d.data })),
    );
    for (const a of answers) expect(a.statusCode, a.body).toBe(201);
    const text = (await node.request({ method: 'GET', url: api('d-local', 'dists/parallel/main/binary-amd64/Packages') })).body;
    expect([...text.matchAll(/^Package: (.*)$/gm)].map((m) => m[1]).sort()).toEqual(debs.map((_, i) => `par-${i}`).sort());
    const release = (await node.request({ method: 'GET', url: api('d-local', 'dists/parallel/Release') })).body;
    expect(releaseFiles(release).get('main/binary-amd64/Packages')?.sha256).toBe(sha256(Buffer.from(text)));
  });

  it('indexes a package copied into another Debian repository where its deb.* properties say', async () => {
    const created = await node.request({ method: 'PUT', url: '/artifactory/api/repositories/d-copy', payload: { key: 'd-copy', packageType: 'debian', rclass: 'local' } });
    expect(created.statusCode, created.body).toBe(200);
    const copy = await node.request({ method: 'POST', url: '/artifactory/api/copy/d-local/pool/main/w/world/world_2.0_amd64.deb?to=/d-copy/pool/w/world_2.0_amd64.deb' });
    expect(copy.statusCode, copy.body).toBe(200);
    const text = (await node.request({ method: 'GET', url: api('d-copy', 'dists/bookworm/main/binary-amd64/Packages') })).body;
    expect(text).toMatch(/^Filename: pool\/w\/world_2\.0_amd64\.deb$/m);
  });

  it('takes a package out when its folder is deleted', async () => {
    const del = await node.request({ method: 'DELETE', url: '/artifactory/d-local/pool/main/h' });
    expect(del.statusCode).toBe(204);
    const text = (await node.request({ method: 'GET', url: api('d-local', 'dists/bookworm/main/binary-amd64/Packages') })).body;
    expect(text).not.toMatch(/^Package: hello$/m);
    expect(text).toMatch(/^Package: world$/m);
  });
});
