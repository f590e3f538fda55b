import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMetadata } from '../../src/formats/maven/maven-metadata.js';
import { DIALECTS } from '../helpers/databases.js';
import { basic, startTestNode, type TestNode } from '../helpers/node-context.js';

const CI = basic('ci', 'Ci-Passw0rd!1');
const READER = basic('reader', 'Reader-Passw0rd!1');
const NOBODY = basic('nobody', 'Nobody-Passw0rd!1');
const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const started = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');
const T0 = Date.parse('2026-01-10T10:00:00.000Z');

interface File {
  name: string;
  body: string;
}
const buildInfo = (name: string, number: string, at: number, artifacts: File[], dependencies: File[] = [], properties: Record<string, string> = {}) => ({
  version: '1.0.1',
  name,
  number,
  started: started(at),
  buildAgent: { name: 'GENERIC', version: '2.60.0' },
  agent: { name: 'jfrog-cli-go', version: '2.60.0' },
  durationMillis: 1200,
  properties,
  vcs: [{ url: 'https://example.com/repo.git', revision: 'abc', branch: 'main' }],
  modules: [
    {
      type: 'generic',
      id: name,
      artifacts: artifacts.map((f) => ({ type: f.name.split('.').pop(), name: f.name, path: f.name, sha1: sha1(f.body), md5: md5(f.body) })),
      dependencies: dependencies.map((f) => ({ id: f.name, type: 'jar', scopes: ['compile'], sha1: sha1(f.body), md5: md5(f.body) })),
    },
  ],
});

/**
 * Build Info (issue 15, item 6) on every dialect: publish, list, get, diff, the build-info
 * repository and its index, AQL by build, promotion (copy, move, dry run, Maven metadata),
 * delete (both forms), retention by count and date, bad input and permissions.
 */
describe.each(DIALECTS)('build info on %s', (dialect) => {
  let node: TestNode;
  const req = (method: string, url: string, payload?: unknown, authorization?: string) =>
    node.request({ method: method as 'GET', url, payload: payload as string, headers: authorization ? { authorization } : {} });
  const put = async (path: string, body: string) => {
    const res = await req('PUT', `/artifactory/${path}`, body);
    expect(res.statusCode, `${path}: ${res.body}`).toBe(201);
  };
  const publish = (doc: unknown, authorization?: string) => req('PUT', '/artifactory/api/build', JSON.stringify(doc), authorization);
  const aql = async (q: string) => {
    const res = await req('POST', '/artifactory/api/search/aql', q);
    expect(res.statusCode, res.body).toBe(200);
    return (res.json().results as { repo: string; path: string; name: string }[]).map((r) => `${r.repo}/${r.path}/${r.name}`).sort();
  };

  const A1 = { name: 'app.bin', body: 'app build 1' };
  const LIB = { name: 'lib.jar', body: 'library' };
  const A2 = { name: 'app.bin', body: 'app build 2' };
  const EXTRA = { name: 'extra.txt', body: 'extra file' };

  beforeAll(async () => {
    node = await startTestNode(dialect);
    for (const [key, packageType] of [
      ['b-dev', 'generic'],
      ['b-prod', 'generic'],
      ['b-mvn-dev', 'maven'],
      ['b-mvn-prod', 'maven'],
    ] as const) {
      const res = await req('PUT', `/artifactory/api/repositories/${key}`, { rclass: 'local', packageType });
      expect(res.statusCode, res.body).toBe(200);
    }
    for (const [user, password] of [
      ['ci', 'Ci-Passw0rd!1'],
      ['reader', 'Reader-Passw0rd!1'],
      ['nobody', 'Nobody-Passw0rd!1'],
    ]) {
      const res = await req('PUT', `/artifactory/api/security/users/${user}`, { email: `${user}@example.com`, password });
      expect([200, 201], res.body).toContain(res.statusCode);
    }
  }, 60_000);
  afterAll(async () => {
    await node?.close();
  });

  it('sets the build properties the CLI uploads with (matrix parameters)', async () => {
    await put(`b-dev/app/1/app.bin;build.name=app;build.number=1;build.timestamp=${T0}`, A1.body);
    await put('b-dev/libs/lib.jar', LIB.body);
    const res = await req('GET', '/artifactory/api/storage/b-dev/app/1/app.bin?properties');
    expect(res.json().properties).toEqual({ 'build.name': ['app'], 'build.number': ['1'], 'build.timestamp': [String(T0)] });
  });

  it('publishes a build as an item of the build-info repository, created on first use', async () => {
    const res = await publish(buildInfo('app', '1', T0, [A1], [LIB], { 'buildInfo.env.X': '1' }));
    expect(res.statusCode, res.body).toBe(204);
    expect(res.headers['x-checksum-sha256']).toMatch(/^[0-9a-f]{64}$/);
    const repo = await req('GET', '/artifactory/api/repositories/artifactory-build-info');
    expect(repo.json()).toMatchObject({ rclass: 'local', packageType: 'buildinfo' });
    const item = await req('GET', `/artifactory/api/storage/artifactory-build-info/app/1-${T0}.json`);
    expect(item.statusCode, item.body).toBe(200);
    expect(item.json().checksums.sha256).toBe(res.headers['x-checksum-sha256']);
  });

  it('lists build names and numbers, and answers a run in the seed shape', async () => {
    expect((await publish(buildInfo('app', '2', T0 + 60_000, [A2, EXTRA], [LIB], { 'buildInfo.env.X': '2' }))).statusCode).toBe(204);
    const list = await req('GET', '/artifactory/api/build');
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json().builds).toContainEqual({ uri: '/app', lastStarted: started(T0 + 60_000) });
    expect(list.json().uri).toMatch(/\/artifactory\/api\/build$/);
    const runs = await req('GET', '/artifactory/api/build/app');
    expect(runs.json().buildsNumbers).toEqual([
      { uri: '/2', started: started(T0 + 60_000) },
      { uri: '/1', started: started(T0) },
    ]);
    const one = await req('GET', '/artifactory/api/build/app/1');
    expect(one.statusCode).toBe(200);
    expect(one.json().uri).toMatch(/\/api\/build\/app\/1$/);
    expect(one.json().buildInfo).toMatchObject({ name: 'app', number: '1', started: started(T0), agent: { name: 'jfrog-cli-go' } });
    expect((await req('GET', `/artifactory/api/build/app/1?started=${encodeURIComponent(started(T0))}`)).statusCode).toBe(200);
    expect((await req('GET', '/artifactory/api/build/app/1?started=2020-01-01T00:00:00.000+0000')).statusCode).toBe(404);
    expect((await req('GET', '/artifactory/api/build/app/99')).statusCode).toBe(404);
    expect((await req('GET', '/artifactory/api/build/nosuch')).statusCode).toBe(404);
  });

  it('diffs two runs: artifacts, dependencies and properties', async () => {
    const res = await req('GET', '/artifactory/api/build/app/2?diff=1');
    expect(res.statusCode, res.body).toBe(200);
    const d = res.json();
    expect(d.artifacts.new.map((a: { name: string }) => a.name)).toEqual(['extra.txt']);
    expect(d.artifacts.updated.map((a: { name: string }) => a.name)).toEqual(['app.bin']);
    expect(d.dependencies.unchanged.map((a: { name: string }) => a.name)).toEqual(['lib.jar']);
    expect(d.properties.updated).toEqual([{ key: 'buildInfo.env.X', value: '2' }]);
  });

  it("finds a build's artifacts and dependencies by AQL, as the CLI's download --build asks", async () => {
    await put(`b-dev/app/2/app.bin;build.name=app;build.number=2`, A2.body);
    const q = (kind: string, number: string) => `items.find({"$or":[{"$and":[{"${kind}.module.build.name":"app","${kind}.module.build.number":"${number}"}]}]}).include("name","repo","path","actual_sha1")`;
    expect(await aql(q('artifact', '1'))).toEqual(['b-dev/app/1/app.bin']);
    expect(await aql(q('artifact', '2'))).toEqual(['b-dev/app/2/app.bin']);
    expect(await aql(q('dependency', '1'))).toEqual(['b-dev/libs/lib.jar']);
    // The CLI's second query: the build's artifacts that carry its build.name property.
    const props = `items.find({"$and":[{"$or":[{"$and":[{"artifact.module.build.name":"app","artifact.module.build.number":"1"}]}]},{"$or":[{"@build.name":"app"}]}]}).include("name","repo","path","actual_sha1","property")`;
    expect(await aql(props)).toEqual(['b-dev/app/1/app.bin']);
    expect(await aql('items.find({"artifact.module.build.name":{"$match":"ap*"}})')).toEqual(['b-dev/app/1/app.bin', 'b-dev/app/2/app.bin']);
    // The criteria of one object hold for one build: app#2's artifact, also listed by another build numbered 1, is no artifact of app#1.
    expect((await publish(buildInfo('other', '1', T0, [A2]))).statusCode).toBe(204);
    expect(await aql('items.find({"artifact.module.build.name":"app","artifact.module.build.number":"1"})')).toEqual(['b-dev/app/1/app.bin']);
    expect(await aql('items.find({"$and":[{"artifact.module.build.name":"app"},{"artifact.module.build.number":"1"}]})')).toEqual(['b-dev/app/1/app.bin']);
    const files = await req('GET', '/artifactory/api/builds/buildArtifacts/app/1/artifactory-build-info');
    expect(files.json()).toEqual([{ repo: 'b-dev', path: 'app/1', name: 'app.bin' }]);
  });

  it('refuses bad build info with a clear 400, and a huge body with 413', async () => {
    const cases: [string, RegExp][] = [
      ['{not json', /not JSON/],
      ['[]', /JSON object/],
      [JSON.stringify({ number: '1' }), /'name' is required/],
      [JSON.stringify({ name: 'x' }), /'number' is required/],
      [JSON.stringify({ name: 'x', number: '1', started: 'yesterday' }), /'started' must be a time/],
      [JSON.stringify({ name: '..', number: '1' }), /cannot be '\.\.'/],
      [JSON.stringify({ name: 'x', number: '1', modules: {} }), /'modules' must be an array/],
      [JSON.stringify({ name: 'x', number: '1', modules: [{ artifacts: [{ sha1: 'zz' }] }] }), /not a SHA-1/],
    ];
    for (const [body, message] of cases) {
      const res = await req('PUT', '/artifactory/api/build', body);
      expect(res.statusCode, body).toBe(400);
      expect(res.json().errors[0].message).toMatch(message);
    }
    const huge = await req('PUT', '/artifactory/api/build', `{"name":"x","number":"1","pad":"${'x'.repeat(33 * 1024 * 1024)}"}`);
    expect(huge.statusCode).toBe(413);
    expect((await req('GET', '/artifactory/api/build/x')).statusCode).toBe(404);
  });

  it('needs deploy permission on the build-info repository to publish, and read to see a build', async () => {
    expect((await publish(buildInfo('secret', '1', T0, [A1]), NOBODY)).statusCode).toBe(403);
    expect((await publish(buildInfo('secret', '1', T0, [A1]), undefined)).statusCode).toBe(204);
    for (const t of [
      { name: 'b-ci', repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['artifactory-build-info', 'b-dev', 'b-prod'], actions: { users: { ci: ['read', 'write', 'annotate'] } } } },
      { name: 'b-reader', repo: { 'include-patterns': ['app/**'], 'exclude-patterns': [], repositories: ['artifactory-build-info'], actions: { users: { reader: ['read'] } } } },
    ]) {
      const res = await req('POST', `/artifactory/api/v2/security/permissions/${t.name}`, t);
      expect([200, 201], res.body).toContain(res.statusCode);
    }
    expect((await publish(buildInfo('ci-build', '1', T0, [EXTRA]), CI)).statusCode).toBe(204);
    // The reader sees app, not secret; nobody sees nothing.
    const list = await req('GET', '/artifactory/api/build', undefined, READER);
    expect(list.json().builds.map((b: { uri: string }) => b.uri)).toEqual(['/app']);
    expect((await req('GET', '/artifactory/api/build/secret', undefined, READER)).statusCode).toBe(404);
    expect((await req('GET', '/artifactory/api/build/secret/1', undefined, READER)).statusCode).toBe(404);
    expect((await req('GET', '/artifactory/api/build/app/1', undefined, READER)).statusCode).toBe(200);
    expect((await req('GET', '/artifactory/api/build', undefined, NOBODY)).statusCode).toBe(404);
    // Reading is not deleting, nor promoting with a status.
    const del = await req('POST', '/artifactory/api/build/delete', { buildName: 'app', buildNumbers: ['1'] }, READER);
    expect(del.statusCode).toBe(403);
    const promo = await req('POST', '/artifactory/api/build/promote/app/1', { status: 'Released' }, READER);
    expect(promo.statusCode).toBe(403);
    expect((await req('GET', '/artifactory/api/build/app/1')).json().buildInfo.statuses).toBeUndefined();
  });

  it('promotes: a dry run changes nothing; a copy copies the artifacts, sets properties and adds a status', async () => {
    const dry = await req('POST', '/artifactory/api/build/promote/app/1', { status: 'QA', targetRepo: 'b-prod', copy: true, dryRun: true });
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json().messages.at(-1).message).toMatch(/^Dry run for copying 1 of 1 files of app#1/);
    expect((await req('GET', '/artifactory/b-prod/app/1/app.bin')).statusCode).toBe(404);
    expect((await req('GET', '/artifactory/api/build/app/1')).json().buildInfo.statuses).toBeUndefined();

    const info = async () => (await req('GET', `/artifactory/api/storage/artifactory-build-info/app/1-${T0}.json`)).json();
    const createdBefore = (await info()).created;
    const res = await req('POST', '/artifactory/api/build/promote/app/1', { status: 'QA', comment: 'to prod', ciUser: 'jenkins', targetRepo: 'b-prod', copy: true, dependencies: true, properties: { promoted: ['yes'] } });
    expect(res.statusCode, res.body).toBe(200);
    expect((await req('GET', '/artifactory/b-prod/app/1/app.bin')).body).toBe(A1.body);
    expect((await req('GET', '/artifactory/b-prod/libs/lib.jar')).body).toBe(LIB.body);
    expect((await req('GET', '/artifactory/b-dev/app/1/app.bin')).statusCode).toBe(200);
    const props = (await req('GET', '/artifactory/api/storage/b-prod/app/1/app.bin?properties')).json().properties;
    expect(props).toMatchObject({ 'build.name': ['app'], promoted: ['yes'] });
    const statuses = (await req('GET', '/artifactory/api/build/app/1')).json().buildInfo.statuses;
    expect(statuses).toEqual([{ status: 'QA', comment: 'to prod', repository: 'b-prod', timestamp: expect.any(String), user: 'admin', ciUser: 'jenkins' }]);
    // The rewritten run keeps its creation time (the CLI's LATEST is the newest created run).
    expect((await info()).created).toBe(createdBefore);
    // Still one run, still indexed (the item was rewritten).
    expect((await req('GET', '/artifactory/api/build/app')).json().buildsNumbers).toHaveLength(2);
    expect(await aql('items.find({"artifact.module.build.name":"app","artifact.module.build.number":"1"})')).toEqual(['b-dev/app/1/app.bin', 'b-prod/app/1/app.bin']);
  });

  it('promotes only what the caller may copy: a target without write permission fails each file, copies nothing and adds no status', async () => {
    expect((await req('PUT', '/artifactory/api/repositories/b-locked', { rclass: 'local', packageType: 'generic' })).statusCode).toBe(200);
    const res = await req('POST', '/artifactory/api/build/promote/app/2', { status: 'Locked', targetRepo: 'b-locked', copy: true }, CI);
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json().messages[0]).toMatchObject({ level: 'ERROR' });
    expect((await req('GET', '/artifactory/b-locked/app/2/app.bin')).statusCode).toBe(404);
    expect((await req('GET', '/artifactory/api/build/app/2')).json().buildInfo.statuses).toBeUndefined();
    // Moving needs delete on the source: ci may not delete in b-dev.
    const move = await req('POST', '/artifactory/api/build/promote/app/2', { targetRepo: 'b-prod', copy: false }, CI);
    expect(move.statusCode, move.body).toBe(409);
    expect((await req('GET', '/artifactory/b-dev/app/2/app.bin')).statusCode).toBe(200);
  });

  it('promotes by moving a Maven build: metadata is right on both sides', async () => {
    const pomOf = (v: string) => `<?xml version="1.0"?>\n<project><modelVersion>4.0.0</modelVersion><groupId>org.b</groupId><artifactId>lib</artifactId><version>${v}</version></project>\n`;
    const pom = pomOf('1.0');
    const jar = 'maven jar 1.0';
    await put('b-mvn-dev/org/b/lib/1.0/lib-1.0.pom', pom);
    await put('b-mvn-dev/org/b/lib/1.0/lib-1.0.jar', jar);
    await put('b-mvn-dev/org/b/lib/0.9/lib-0.9.jar', 'old jar');
    await put('b-mvn-dev/org/b/lib/0.9/lib-0.9.pom', pomOf('0.9'));
    expect((await publish(buildInfo('mvn', '1', T0, [{ name: 'lib-1.0.jar', body: jar }, { name: 'lib-1.0.pom', body: pom }]))).statusCode).toBe(204);
    const res = await req('POST', '/artifactory/api/build/promote/mvn/1', { status: 'Released', sourceRepo: 'b-mvn-dev', targetRepo: 'b-mvn-prod', copy: false });
    expect(res.statusCode, res.body).toBe(200);
    expect((await req('GET', '/artifactory/b-mvn-prod/org/b/lib/1.0/lib-1.0.jar')).body).toBe(jar);
    expect((await req('GET', '/artifactory/b-mvn-dev/org/b/lib/1.0/lib-1.0.jar')).statusCode).toBe(404);
    const prod = parseMetadata((await req('GET', '/artifactory/b-mvn-prod/org/b/lib/maven-metadata.xml')).body);
    const dev = parseMetadata((await req('GET', '/artifactory/b-mvn-dev/org/b/lib/maven-metadata.xml')).body);
    expect(prod.versioning?.versions).toEqual(['1.0']);
    expect(dev.versioning?.versions).toEqual(['0.9']);
    // A target that does not exist or is not local is a clear 4xx.
    expect((await req('POST', '/artifactory/api/build/promote/mvn/1', { targetRepo: 'nosuch' })).statusCode).toBe(404);
    expect((await req('POST', '/artifactory/api/build/promote/mvn/1', '{bad')).statusCode).toBe(400);
    expect((await req('POST', '/artifactory/api/build/promote/mvn/1', { copy: 'maybe' })).statusCode).toBe(400);
  });

  it('applies retention by count and by date, keeping the listed numbers', async () => {
    for (let i = 1; i <= 6; i++) expect((await publish(buildInfo('ret', String(i), T0 + i * 86_400_000, []))).statusCode).toBe(204);
    const numbers = async () => (await req('GET', '/artifactory/api/build/ret')).json().buildsNumbers.map((b: { uri: string }) => b.uri.slice(1));
    let res = await req('POST', '/artifactory/api/build/retention/ret?async=false', { count: '3', buildNumbersNotToBeDiscarded: ['1'], deleteBuildArtifacts: false });
    expect(res.statusCode, res.body).toBe(204);
    expect(await numbers()).toEqual(['6', '5', '4', '1']);
    res = await req('POST', '/artifactory/api/build/retention/ret', { minimumBuildDate: started(T0 + 5 * 86_400_000), buildNumbersNotToBeDiscarded: ['4'] });
    expect(res.statusCode, res.body).toBe(204);
    expect(await numbers()).toEqual(['6', '5', '4']);
    // Runs whose last status is listed in keepBuildsWithStatus stay too.
    expect((await req('POST', '/artifactory/api/build/promote/ret/4', { status: 'Released' })).statusCode).toBe(200);
    res = await req('POST', '/artifactory/api/build/retention/ret', { count: 1, keepBuildsWithStatus: ['Released'] });
    expect(res.statusCode, res.body).toBe(204);
    expect(await numbers()).toEqual(['6', '4']);
    expect((await req('POST', '/artifactory/api/build/retention/ret', { count: 'x' })).statusCode).toBe(400);
    expect((await req('POST', '/artifactory/api/build/retention/ret', {})).statusCode).toBe(400);
  });

  it('deletes runs (with their artifacts when asked), in the new and the old form', async () => {
    await put(`b-dev/ci/extra.txt;build.name=ci-build;build.number=1`, EXTRA.body);
    let res = await req('POST', '/artifactory/api/build/delete', { buildName: 'ci-build', buildNumbers: ['1'], deleteArtifacts: true });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).toContain("'ci-build#1'");
    expect((await req('GET', '/artifactory/b-dev/ci/extra.txt')).statusCode).toBe(404);
    expect((await req('GET', '/artifactory/api/build/ci-build')).statusCode).toBe(404);
    res = await req('DELETE', '/artifactory/api/build/ret?buildNumbers=6&artifacts=0');
    expect(res.statusCode, res.body).toBe(200);
    expect((await req('GET', '/artifactory/api/build/ret')).json().buildsNumbers).toEqual([{ uri: '/4', started: started(T0 + 4 * 86_400_000) }]);
    res = await req('DELETE', '/artifactory/api/build/ret?deleteAll=1');
    expect(res.statusCode, res.body).toBe(200);
    expect((await req('GET', '/artifactory/api/build/ret')).statusCode).toBe(404);
    expect((await req('POST', '/artifactory/api/build/delete', { buildName: 'ret' })).statusCode).toBe(400);
    expect((await req('POST', '/artifactory/api/build/delete', { buildName: 'nosuch', buildNumbers: ['1'] })).statusCode).toBe(404);
  });

  it("stores names and numbers with '/' and other special characters as the CLI encodes them, and answers them by URL", async () => {
    expect((await publish(buildInfo('team/app: x', '1.0/rc*1', T0, [A1]))).statusCode).toBe(204);
    expect((await req('GET', `/artifactory/api/storage/artifactory-build-info/team%252Fapp%253A x/1.0%252Frc%252A1-${T0}.json`)).statusCode).toBe(200);
    const runs = await req('GET', '/artifactory/api/build/team%2Fapp%3A%20x');
    expect(runs.statusCode, runs.body).toBe(200);
    expect(runs.json().buildsNumbers).toEqual([{ uri: '/1.0%2Frc*1', started: started(T0) }]);
    const run = await req('GET', '/artifactory/api/build/team%2Fapp%3A%20x/1.0%2Frc*1');
    expect(run.statusCode, run.body).toBe(200);
    expect(run.json().buildInfo.number).toBe('1.0/rc*1');
    // The CLI's LATEST look-up: the newest build item of the name's folder, its number before the last '-'.
    const latest = await req('POST', '/artifactory/api/search/aql', 'items.find({"type":"file","repo":"artifactory-build-info","path":{"$match":"team%2Fapp%3A x"}}).sort({"$desc":["created"]}).limit(1)');
    expect(latest.json().results[0].name).toBe(`1.0%2Frc%2A1-${T0}.json`);
  });

  it('keeps the index derived from the items: a plain deploy indexes, a plain delete forgets', async () => {
    const doc = buildInfo('plain', '7', T0, [A1]);
    await put(`artifactory-build-info/plain/7-${T0}.json`, JSON.stringify(doc));
    expect((await req('GET', '/artifactory/api/build/plain/7')).json().buildInfo.number).toBe('7');
    expect((await req('DELETE', '/artifactory/artifactory-build-info/plain')).statusCode).toBe(204);
    expect((await req('GET', '/artifactory/api/build/plain')).statusCode).toBe(404);
    expect(await aql('items.find({"artifact.module.build.name":"plain"})')).toEqual([]);
  });
});
