import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRpm, hasRpmbuild } from '../../../test/helpers/rpm-packages.js';
import { startTestNode, type TestNode } from '../../node/testing/test-node.js';

/** Deploys, refusals and reads of RPM repositories over HTTP, in process (app.inject). */
describe.skipIf(!hasRpmbuild())('RPM repositories over HTTP', () => {
  let node: TestNode;
  const dir = mkdtempSync(join(tmpdir(), 'arca-rpm-api-'));
  let lib: { file: string; data: Buffer };
  let app: { file: string; data: Buffer };

  const get = (url: string) => node.request({ method: 'GET', url: `/artifactory/${url}` });
  const put = (url: string, payload: Buffer, headers: Record<string, string> = {}) => node.request({ method: 'PUT', url: `/artifactory/${url}`, payload, headers });
  const primaryOf = async (repo: string) => {
    const repomd = (await get(`${repo}/repodata/repomd.xml`)).body;
    const href = /<data type="primary">[\s\S]*?<location href="([^"]+)"/.exec(repomd)![1];
    return gunzipSync((await get(`${repo}/${href}`)).rawPayload).toString('utf8');
  };

  beforeAll(async () => {
    lib = buildRpm(dir, { name: 'lib', version: '1.0' });
    app = buildRpm(dir, { name: 'app', version: '2.0', requires: ['lib'] });
    node = await startTestNode();
    const repos: Array<[string, Record<string, unknown>]> = [
      ['r-local', { rclass: 'local', packageType: 'rpm' }],
      ['r-yum', { rclass: 'local', packageType: 'yum' }],
      ['r-dead', { rclass: 'remote', packageType: 'rpm', url: 'http://127.0.0.1:9/repo', assumedOfflinePeriodSecs: 0 }],
      ['r-other', { rclass: 'local', packageType: 'rpm' }],
      ['r-virtual', { rclass: 'virtual', packageType: 'rpm', repositories: ['r-dead', 'r-local', 'r-other'] }],
      ['g-local', { rclass: 'local', packageType: 'generic' }],
    ];
    for (const [key, config] of repos) {
      const res = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { key, ...config } });
      expect(res.statusCode, res.body).toBe(200);
    }
    expect((await put(`r-local/Packages/${lib.file}`, lib.data)).statusCode).toBe(201);
  });
  afterAll(async () => {
    await node?.close();
  });

  it('refuses a bad or truncated package with 400: nothing stored, repomd.xml untouched', async () => {
    const before = (await get('r-local/repodata/repomd.xml')).body;
    for (const body of [Buffer.from('not an rpm '.repeat(20)), app.data.subarray(0, 2000), Buffer.alloc(0)]) {
      const res = await put(`r-local/Packages/${app.file}`, body);
      expect(res.statusCode, res.body).toBe(400);
      expect(JSON.parse(res.body).errors[0].message).toMatch(/RPM package/);
    }
    expect((await get(`api/storage/r-local/Packages/${app.file}`)).statusCode).toBe(404);
    expect((await get('r-local/repodata/repomd.xml')).body).toBe(before);
    // A checksum deploy (a copy): the binary it names is checked as an upload is, and listed.
    const sha1 = createHash('sha1').update(lib.data).digest('hex');
    const checksum = await put(`r-local/copy/${lib.file}`, Buffer.alloc(0), { 'x-checksum-deploy': 'true', 'x-checksum-sha1': sha1 });
    expect(checksum.statusCode, checksum.body).toBe(201);
    expect(await primaryOf('r-local')).toMatch(/<location href="copy\/lib-1.0-1.noarch.rpm"\/>/);
    expect((await node.request({ method: 'DELETE', url: '/artifactory/r-local/copy' })).statusCode).toBe(204);
    expect(await primaryOf('r-local')).not.toMatch(/copy\//);
    expect((await get('r-local/repodata/repomd.xml')).body).not.toBe(before);
  });

  it("signs repomd.xml when read: gpg verifies repomd.xml.asc with the repository's public key (local and virtual)", async () => {
    for (const repo of ['r-local', 'r-virtual']) {
      const gpgHome = mkdtempSync(join(dir, 'gnupg-'));
      const key = await get(`api/security/keypair/public/repositories/${repo}`);
      expect(key.statusCode, key.body).toBe(200);
      expect((await get(`${repo}/repodata/repomd.xml.key`)).body).toBe(key.body);
      const repomd = await get(`${repo}/repodata/repomd.xml`);
      const asc = await get(`${repo}/repodata/repomd.xml.asc`);
      expect(asc.statusCode).toBe(200);
      writeFileSync(join(gpgHome, 'key.asc'), key.body);
      writeFileSync(join(gpgHome, 'repomd.xml'), repomd.rawPayload);
      writeFileSync(join(gpgHome, 'repomd.xml.asc'), asc.rawPayload);
      const env = { ...process.env, GNUPGHOME: gpgHome };
      execFileSync('gpg', ['--batch', '--import', join(gpgHome, 'key.asc')], { env, stdio: 'pipe' });
      execFileSync('gpg', ['--batch', '--verify', join(gpgHome, 'repomd.xml.asc'), join(gpgHome, 'repomd.xml')], { env, stdio: 'pipe' });
      // Another document does not verify with that signature.
      writeFileSync(join(gpgHome, 'repomd.xml'), Buffer.concat([repomd.rawPayload, Buffer.from(' ')]));
      expect(() => execFileSync('gpg', ['--batch', '--verify', join(gpgHome, 'repomd.xml.asc'), join(gpgHome, 'repomd.xml')], { env, stdio: 'pipe' })).toThrow();
    }
  }, 120_000);

  it('refuses deploys into repodata/ and .rpm/ (403) and into a remote repository (405)', async () => {
    expect((await put('r-local/repodata/repomd.xml', Buffer.from('<repomd/>'))).statusCode).toBe(403);
    expect((await put('r-local/.rpm/r/state.json', Buffer.from('{}'))).statusCode).toBe(403);
    expect((await put(`r-dead/${lib.file}`, lib.data)).statusCode).toBe(405);
  });

  it('serves the same files at /api/yum/{repo}; answers 400 there for a repository of another type', async () => {
    const plain = await get('r-local/repodata/repomd.xml');
    const api = await get('api/yum/r-local/repodata/repomd.xml');
    expect(api.statusCode).toBe(200);
    expect(api.body).toBe(plain.body);
    expect((await node.request({ method: 'HEAD', url: `/artifactory/api/yum/r-local/Packages/${lib.file}` })).statusCode).toBe(200);
    expect((await get('api/yum/g-local/repodata/repomd.xml')).statusCode).toBe(400);
  });

  it('treats packageType yum as rpm, merges local members in a virtual repository (a dead remote member dropped), takes deletes out', async () => {
    expect((await put(`r-yum/${app.file}`, app.data)).statusCode).toBe(201);
    expect(await primaryOf('r-yum')).toMatch(/<name>app<\/name>/);
    expect((await put(`r-other/${app.file}`, app.data)).statusCode).toBe(201);
    const merged = await primaryOf('r-virtual');
    expect(merged).toMatch(/packages="2"/);
    expect(merged).toMatch(/<location href="Packages\/lib-1.0-1.noarch.rpm"\/>/);
    expect(merged).toMatch(/<location href="app-2.0-1.noarch.rpm"\/>/);
    // The virtual resolves its packages' locations through the members.
    expect((await get(`r-virtual/${app.file}`)).rawPayload.equals(app.data)).toBe(true);
    // A group file deployed in a member is passed on by the virtual repository.
    const comps = Buffer.from('<?xml version="1.0"?>\n<comps><group><id>core</id><name>Core</name></group></comps>\n');
    expect((await put('r-other/comps.xml', comps)).statusCode).toBe(201);
    const virtualRepomd = (await get('r-virtual/repodata/repomd.xml')).body;
    const group = /<data type="group">[\s\S]*?<location href="([^"]+)"/.exec(virtualRepomd)![1];
    expect((await get(`r-virtual/${group}`)).body).toBe(comps.toString());
    expect(virtualRepomd).toMatch(/<data type="group_gz">/);
    expect((await node.request({ method: 'DELETE', url: `/artifactory/r-other/${app.file}` })).statusCode).toBe(204);
    expect(await primaryOf('r-other')).toMatch(/packages="0"/);
    expect(await primaryOf('r-virtual')).toMatch(/packages="1"/);
    // Restored from the trash can: listed again.
    const restore = await node.request({ method: 'POST', url: `/artifactory/api/trash/restore/r-other/${app.file}` });
    expect(restore.statusCode, restore.body).toBe(202);
    expect(await primaryOf('r-other')).toMatch(/<name>app<\/name>/);
  });
});
