import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMetadata } from '../../src/formats/maven/maven-metadata.js';
import { startTestNode, type TestNode } from '../helpers/node-context.js';

const hash = (alg: string, b: string | Buffer) => createHash(alg).update(b).digest('hex');
const pom = (g: string, a: string, v: string) =>
  `<?xml version="1.0"?>\n<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></project>\n`;

describe('maven repositories over HTTP', () => {
  let node: TestNode;
  const put = (path: string, body: string | Buffer, headers: Record<string, string> = {}) => node.request({ method: 'PUT', url: `/artifactory/${path}`, payload: body, headers });
  const get = (path: string) => node.request({ method: 'GET', url: `/artifactory/${path}` });
  const meta = async (path: string) => parseMetadata((await get(path)).body);

  beforeAll(async () => {
    node = await startTestNode();
    for (const [key, extra] of [
      ['mvn-local', {}],
      ['mvn-releases', { handleSnapshots: false }],
      ['mvn-snapshots', { handleReleases: false, maxUniqueSnapshots: 2 }],
      ['mvn-server-sums', { checksumPolicyType: 'server-generated-checksums' }],
      ['mvn-lenient', { suppressPomConsistencyChecks: true }],
    ] as const) {
      const res = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'local', packageType: 'maven', ...extra } });
      expect(res.statusCode, res.body).toBe(200);
    }
  });
  afterAll(async () => {
    await node?.close();
  });

  it('generates artifact-level maven-metadata.xml as releases are deployed', async () => {
    for (const v of ['1.0', '1.10', '1.2']) {
      expect((await put(`mvn-local/org/ex/lib/${v}/lib-${v}.pom`, pom('org.ex', 'lib', v))).statusCode).toBe(201);
      expect((await put(`mvn-local/org/ex/lib/${v}/lib-${v}.jar`, `jar ${v}`)).statusCode).toBe(201);
    }
    const m = await meta('mvn-local/org/ex/lib/maven-metadata.xml');
    expect(m).toMatchObject({ groupId: 'org.ex', artifactId: 'lib', versioning: { versions: ['1.0', '1.2', '1.10'], latest: '1.10', release: '1.10' } });
    expect(m.versioning!.lastUpdated).toMatch(/^\d{14}$/);
    // Each regeneration ran under the repository's cluster lock, released afterwards.
    const lock = await node.ctx.locks.inspect('format-metadata:mvn-local');
    expect(lock).toMatchObject({ held: false });
    expect(lock!.token).toBeGreaterThanOrEqual(6);
  });

  it('serves .md5 .sha1 .sha256 .sha512 for every file, deployed or generated', async () => {
    const body = 'jar 1.0';
    for (const alg of ['md5', 'sha1', 'sha256', 'sha512']) {
      const res = await get(`mvn-local/org/ex/lib/1.0/lib-1.0.jar.${alg}`);
      expect(res.statusCode, alg).toBe(200);
      expect(res.body).toBe(hash(alg, body));
    }
    const metaBody = (await get('mvn-local/org/ex/lib/maven-metadata.xml')).body;
    expect((await get('mvn-local/org/ex/lib/maven-metadata.xml.sha1')).body).toBe(hash('sha1', metaBody));
    expect((await get('mvn-local/org/ex/lib/9.9/lib-9.9.jar.sha1')).statusCode).toBe(404);
  });

  it('client-checksums: a matching checksum is recorded, a mismatching one refused (409)', async () => {
    const path = 'mvn-local/org/ex/sums/1.0/sums-1.0.jar';
    await put(path, 'content');
    expect((await put(`${path}.sha1`, hash('sha1', 'content'))).statusCode).toBe(201);
    const info = await node.request({ method: 'GET', url: `/artifactory/api/storage/${path}` });
    expect(info.json().originalChecksums.sha1).toBe(hash('sha1', 'content'));
    const bad = await put(`${path}.md5`, hash('md5', 'other'));
    expect(bad.statusCode).toBe(409);
    expect(bad.json().errors[0].message).toContain("'client-checksums'");
    expect((await get(`${path}.md5`)).body).toBe(hash('md5', 'content'));
    expect((await put(`${path}.sha1`, 'not-a-checksum')).statusCode).toBe(400);
  });

  it('server-generated-checksums: a mismatching client checksum is ignored and the server one served', async () => {
    const path = 'mvn-server-sums/org/ex/s/1.0/s-1.0.jar';
    await put(path, 'content');
    expect((await put(`${path}.sha1`, hash('sha1', 'other'))).statusCode).toBe(201);
    expect((await get(`${path}.sha1`)).body).toBe(hash('sha1', 'content'));
  });

  it('handles SNAPSHOTs: version-level metadata with the newest build and snapshotVersions', async () => {
    const dir = 'mvn-local/org/ex/app/2.0-SNAPSHOT';
    for (const [ts, build] of [['20240301.101010', 1], ['20240302.080000', 2]] as const) {
      expect((await put(`${dir}/app-2.0-${ts}-${build}.pom`, pom('org.ex', 'app', '2.0-SNAPSHOT'))).statusCode).toBe(201);
      expect((await put(`${dir}/app-2.0-${ts}-${build}.jar`, `build ${build}`)).statusCode).toBe(201);
    }
    await put(`${dir}/app-2.0-20240302.080000-2-sources.jar`, 'sources');
    const m = await meta(`${dir}/maven-metadata.xml`);
    expect(m.version).toBe('2.0-SNAPSHOT');
    expect(m.versioning!.snapshot).toMatchObject({ timestamp: '20240302.080000', buildNumber: 2 });
    const sv = Object.fromEntries(m.versioning!.snapshotVersions.map((s) => [`${s.classifier}:${s.extension}`, s.value]));
    expect(sv).toEqual({ ':jar': '2.0-20240302.080000-2', ':pom': '2.0-20240302.080000-2', 'sources:jar': '2.0-20240302.080000-2' });
    const a = await meta('mvn-local/org/ex/app/maven-metadata.xml');
    expect(a.versioning).toMatchObject({ versions: ['2.0-SNAPSHOT'], latest: '2.0-SNAPSHOT' });
    expect(a.versioning!.release).toBeUndefined();
  });

  it('a client-deployed maven-metadata.xml is validated (400 when malformed) and replaced by the generated one', async () => {
    const path = 'mvn-local/org/ex/lib/maven-metadata.xml';
    const before = (await get(path)).body;
    const bad = await put(path, '<metadata><versioning></metadata>');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].message).toContain('Malformed maven-metadata.xml');
    const client = before.replace('<version>1.0</version>', '<version>0.0.1-bogus</version>');
    expect((await put(path, client)).statusCode).toBe(201);
    expect((await put(`${path}.sha1`, hash('sha1', client))).statusCode).toBe(201);
    expect((await get(path)).body).toBe(before);
  });

  it('checks the POM against its path (409), refuses malformed POMs (400) and stores nothing', async () => {
    const wrong = await put('mvn-local/org/ex/pom/1.0/pom-1.0.pom', pom('org.other', 'pom', '1.0'));
    expect(wrong.statusCode).toBe(409);
    expect(wrong.json().errors[0].message).toContain("groupId 'org.other'");
    const broken = await put('mvn-local/org/ex/pom/1.0/pom-1.0.pom', '<project><groupId>org.ex</project>');
    expect(broken.statusCode).toBe(400);
    expect(broken.json().errors[0].message).toContain('Malformed POM');
    expect((await get('mvn-local/org/ex/pom/1.0/pom-1.0.pom')).statusCode).toBe(404);
    expect((await get('mvn-local/org/ex/pom/maven-metadata.xml')).statusCode).toBe(404);
    expect((await put('mvn-lenient/org/ex/pom/1.0/pom-1.0.pom', pom('org.other', 'pom', '1.0'))).statusCode).toBe(201);
  });

  it('handleReleases / handleSnapshots refuse the other kind with 409', async () => {
    const snap = await put('mvn-releases/org/ex/x/1.0-SNAPSHOT/x-1.0-20240101.000000-1.jar', 'x');
    expect(snap.statusCode).toBe(409);
    expect(snap.json().errors[0].message).toContain('handleSnapshots');
    expect((await put('mvn-releases/org/ex/x/1.0/x-1.0.jar', 'x')).statusCode).toBe(201);
    const rel = await put('mvn-snapshots/org/ex/x/1.0/x-1.0.jar', 'x');
    expect(rel.statusCode).toBe(409);
    expect(rel.json().errors[0].message).toContain('handleReleases');
  });

  it('maxUniqueSnapshots keeps only the newest builds', async () => {
    const dir = 'mvn-snapshots/org/ex/keep/1.0-SNAPSHOT';
    for (let b = 1; b <= 4; b++) {
      expect((await put(`${dir}/keep-1.0-2024010${b}.000000-${b}.jar`, `b${b}`)).statusCode).toBe(201);
    }
    for (let b = 1; b <= 4; b++) {
      expect((await get(`${dir}/keep-1.0-2024010${b}.000000-${b}.jar`)).statusCode, `build ${b}`).toBe(b <= 2 ? 404 : 200);
    }
    const m = await meta(`${dir}/maven-metadata.xml`);
    expect(m.versioning!.snapshot).toMatchObject({ buildNumber: 4 });
  });

  it('deleting a version updates the artifact metadata; deleting the last one removes it', async () => {
    expect((await node.request({ method: 'DELETE', url: '/artifactory/mvn-local/org/ex/lib/1.10' })).statusCode).toBe(204);
    const m = await meta('mvn-local/org/ex/lib/maven-metadata.xml');
    expect(m.versioning).toMatchObject({ versions: ['1.0', '1.2'], latest: '1.2', release: '1.2' });
    await node.request({ method: 'DELETE', url: '/artifactory/mvn-local/org/ex/lib/1.0/lib-1.0.jar' });
    await node.request({ method: 'DELETE', url: '/artifactory/mvn-local/org/ex/lib/1.0/lib-1.0.pom' });
    expect((await meta('mvn-local/org/ex/lib/maven-metadata.xml')).versioning!.versions).toEqual(['1.2']);
    await node.request({ method: 'DELETE', url: '/artifactory/mvn-local/org/ex/lib/1.2' });
    expect((await get('mvn-local/org/ex/lib/maven-metadata.xml')).statusCode).toBe(404);
  });

  it("follows Maven's auth flow: anonymous GET gets 401 with the Basic realm", async () => {
    const anon = await node.request({ method: 'GET', url: '/artifactory/mvn-local/org/ex/app/maven-metadata.xml', headers: { authorization: '' } });
    expect(anon.statusCode).toBe(401);
    expect(anon.headers['www-authenticate']).toBe('Basic realm="Artifactory Realm"');
    const anonPut = await node.request({ method: 'PUT', url: '/artifactory/mvn-local/org/ex/z/1.0/z-1.0.jar', payload: 'z', headers: { authorization: '' } });
    expect(anonPut.statusCode).toBe(401);
    expect(anonPut.headers['www-authenticate']).toBe('Basic realm="Artifactory Realm"');
  });
});
