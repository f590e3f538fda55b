import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JfrogClient } from 'jfrog-client-js';
import { beforeAll, expect, it } from 'vitest';
import { checksumsOf } from '../../src/core/digests.js';
import { ADMIN_AUTH, ADMIN_PASSWORD } from '../helpers/credentials.js';
import { describeOnNodeAndCluster } from './harness/node-and-cluster.js';

/**
 * JFrog's own JavaScript REST client (`jfrog-client-js`, as IDE plugins and scripts use it)
 * driving every Artifactory call it offers: ping, version, usage reports, AQL search, download
 * (to memory and to a file) and checksums by HEAD. Once on one node, once through nginx in
 * front of a two-node cluster.
 */
describeOnNodeAndCluster('jfrog-client-js', (label, base) => {
  const jar = Buffer.from(`a jar built for ${label}`);
  const admin = () => new JfrogClient({ artifactoryUrl: base(), username: 'admin', password: ADMIN_PASSWORD, proxy: false, retries: 0 }).artifactory();
  const reader = () => new JfrogClient({ artifactoryUrl: base(), username: 'jcj-reader', password: 'Jcj-Reader-Pw1!', proxy: false, retries: 0 }).artifactory();

  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<number> {
    const res = await fetch(`${base()}${path}`, {
      method,
      headers: { authorization: ADMIN_AUTH, ...(body !== undefined && !Buffer.isBuffer(body) ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
    await res.arrayBuffer();
    return res.status;
  }

  beforeAll(async () => {
    expect(await call('PUT', '/api/repositories/jcj-local', { rclass: 'local', packageType: 'generic' })).toBe(200);
    expect(await call('PUT', '/jcj-local/org/acme/app/1.0/app-1.0.jar;build.name=app;build.number=7', jar)).toBe(201);
    expect(await call('PUT', '/jcj-local/org/acme/app/1.0/app-1.0.pom', Buffer.from('<project/>'))).toBe(201);
    expect(await call('PUT', '/jcj-local/internal/secret-1.0.jar', Buffer.from('secret'))).toBe(201);
    expect([200, 201]).toContain(await call('PUT', '/api/security/users/jcj-reader', { email: 'r@example.com', password: 'Jcj-Reader-Pw1!' }));
    const target = { name: 'jcj-read-org', repo: { 'include-patterns': ['org/**'], 'exclude-patterns': [], repositories: ['jcj-local'], actions: { users: { 'jcj-reader': ['read'] } } } };
    expect([200, 201]).toContain(await call('POST', '/api/v2/security/permissions/jcj-read-org', target));
  }, 60_000);

  it(`pings, reads the version and reports usage on ${label}`, async () => {
    const rt = admin();
    expect(await rt.system().ping()).toBe('OK');
    const version = await rt.system().version();
    expect(version.version).toMatch(/^\d+\.\d+/);
    expect(version.revision).toEqual(expect.any(String));
    expect(await rt.system().reportUsage('jfrog-vscode-extension/2.0.0', [{ featureId: 'scan' }])).toBe('');
  });

  it(`searches with AQL, as the CLI builds it, and sees only what the caller may read, on ${label}`, async () => {
    const query =
      'items.find({"path":{"$ne":"."},"$or":[{"$and":[{"repo":"jcj-local","path":{"$match":"*"},"name":{"$match":"*.jar"}}]}]})' +
      '.include("name","repo","path","actual_md5","actual_sha1","sha256","size","type","property")';
    const all = (await admin().search().aqlSearch(query)) as unknown as { results: Record<string, unknown>[]; range: Record<string, number> };
    expect(all.results.map((r) => `${r.path}/${r.name}`)).toEqual(['internal/secret-1.0.jar', 'org/acme/app/1.0/app-1.0.jar']);
    expect(all.range).toEqual({ start_pos: 0, end_pos: 2, total: 2 });
    const sums = checksumsOf(jar);
    expect(all.results[1]).toMatchObject({ actual_sha1: sums.sha1, actual_md5: sums.md5, sha256: sums.sha256, size: jar.length, type: 'file' });
    expect(all.results[1].properties).toEqual([
      { key: 'build.name', value: 'app' },
      { key: 'build.number', value: '7' },
    ]);
    const mine = (await reader().search().aqlSearch(query)) as unknown as { results: Record<string, unknown>[] };
    expect(mine.results.map((r) => r.name)).toEqual(['app-1.0.jar']);
    await expect(admin().search().aqlSearch('items.find({"repo":')).rejects.toMatchObject({ response: { status: 400 } });
  });

  it(`downloads to memory and to a file, and reads checksums by HEAD, on ${label}`, async () => {
    const rt = admin();
    expect(await rt.download().downloadArtifact('jcj-local/org/acme/app/1.0/app-1.0.jar')).toBe(jar.toString());
    const dir = mkdtempSync(join(tmpdir(), 'arca-jcj-'));
    try {
      await rt.download().downloadArtifactToFile('jcj-local/org/acme/app/1.0/app-1.0.jar', join(dir, 'app.jar'));
      expect(readFileSync(join(dir, 'app.jar'))).toEqual(jar);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const sums = checksumsOf(jar);
    expect(await rt.download().getArtifactChecksum('jcj-local/org/acme/app/1.0/app-1.0.jar')).toEqual({ sha1: sums.sha1, sha256: sums.sha256, md5: sums.md5 });
    await expect(reader().download().downloadArtifact('jcj-local/internal/secret-1.0.jar')).rejects.toMatchObject({ response: { status: 403 } });
  });
});
