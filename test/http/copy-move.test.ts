import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMetadata } from '../../src/formats/maven/maven-metadata.js';
import { parse as parseYaml } from 'yaml';
import { DIALECTS } from '../helpers/databases.js';
import { chartTgz } from '../helpers/helm-charts.js';
import { basic, startTestNode, type TestNode } from '../helpers/node-context.js';

const MOVER = basic('mover', 'Mover-Passw0rd!');
const pom = (g: string, a: string, v: string) =>
  `<?xml version="1.0"?>\n<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></project>\n`;

/**
 * Copy and move (REST-API.md §11, issue 15 item 3) on every dialect: files and folders, with
 * their properties, the CLI's `to` without a leading slash, into folders, dry runs, failFast,
 * the permission checks on both sides, incompatible targets, and Maven metadata on both sides.
 */
describe.each(DIALECTS)('copy and move on %s', (dialect) => {
  let node: TestNode;
  const put = async (path: string, body: string) => {
    const res = await node.request({ method: 'PUT', url: `/artifactory/${path}`, payload: body });
    expect(res.statusCode, `${path}: ${res.body}`).toBe(201);
  };
  const get = (path: string, authorization?: string) => node.request({ method: 'GET', url: `/artifactory/${path}`, headers: authorization ? { authorization } : {} });
  const exists = async (path: string) => (await get(path)).statusCode === 200;
  const props = async (path: string) => {
    const res = await node.request({ method: 'GET', url: `/artifactory/api/storage/${path}?properties` });
    return res.statusCode === 200 ? (res.json().properties as Record<string, string[]>) : undefined;
  };
  const post = async (op: 'copy' | 'move', from: string, query: string, authorization?: string) => {
    const res = await node.request({ method: 'POST', url: `/artifactory/api/${op}/${from}?${query}`, headers: authorization ? { authorization } : {} });
    return { status: res.statusCode, body: res.body, messages: () => (res.json() as { messages: { level: string; message: string }[] }).messages };
  };

  beforeAll(async () => {
    node = await startTestNode(dialect);
    for (const [key, packageType, rclass] of [
      ['cm-a', 'generic', 'local'],
      ['cm-b', 'generic', 'local'],
      ['cm-c', 'generic', 'local'],
      ['cm-mvn-a', 'maven', 'local'],
      ['cm-mvn-b', 'maven', 'local'],
      ['cm-npm', 'npm', 'local'],
      ['cm-virtual', 'generic', 'virtual'],
    ] as const) {
      const res = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass, packageType } });
      expect(res.statusCode, res.body).toBe(200);
    }
    await put('cm-a/dir/f.txt;team=core;tag=a;tag=b', 'file f');
    for (const p of ['tree/one.txt', 'tree/sub/two.txt', 'tree/sub/deeper/three.txt', 'mv/one.txt;kind=moved', 'mv/sub/two.txt', 'guarded/g.txt']) {
      await put(`cm-a/${p}`, `content of ${p.split(';')[0]}`);
    }
    expect((await node.request({ method: 'PUT', url: '/artifactory/cm-a/tree/empty/' })).statusCode).toBe(201);
    await put('cm-b/taken.txt', 'already here');
    const user = await node.request({ method: 'PUT', url: '/artifactory/api/security/users/mover', payload: { email: 'm@example.com', password: 'Mover-Passw0rd!' } });
    expect([200, 201]).toContain(user.statusCode);
    for (const t of [
      { name: 'cm-read-a', repo: { 'include-patterns': ['**'], 'exclude-patterns': ['guarded/**'], repositories: ['cm-a'], actions: { users: { mover: ['read'] } } } },
      { name: 'cm-write-b', repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['cm-b'], actions: { users: { mover: ['read', 'write'] } } } },
    ]) {
      const res = await node.request({ method: 'POST', url: `/artifactory/api/v2/security/permissions/${t.name}`, payload: t });
      expect([200, 201], res.body).toContain(res.statusCode);
    }
  }, 60_000);
  afterAll(async () => {
    await node?.close();
  });

  it('copies a file with its properties to a new path, and leaves the source', async () => {
    const res = await post('copy', 'cm-a/dir/f.txt', 'to=/cm-b/x/g.txt');
    expect(res.status, res.body).toBe(200);
    expect(res.messages()).toEqual([{ level: 'INFO', message: 'copying cm-a:dir/f.txt to cm-b:x/g.txt completed successfully, 1 artifacts and 0 folders were copied' }]);
    expect((await get('cm-b/x/g.txt')).body).toBe('file f');
    expect(await props('cm-b/x/g.txt')).toEqual({ team: ['core'], tag: ['a', 'b'] });
    expect(await exists('cm-a/dir/f.txt')).toBe(true);
  });

  it("copies into a folder that exists or that 'to' ends with, as the CLI sends it (no leading slash)", async () => {
    expect((await post('copy', 'cm-a/dir/f.txt', 'to=cm-b/x')).status).toBe(200);
    expect((await get('cm-b/x/f.txt')).body).toBe('file f');
    expect((await post('copy', 'cm-a/dir/f.txt', 'to=cm-b/into/')).status).toBe(200);
    expect((await get('cm-b/into/f.txt')).body).toBe('file f');
  });

  it('copies a folder with everything below it, empty folders too', async () => {
    const res = await post('copy', 'cm-a/tree', 'to=/cm-b/copied');
    expect(res.status, res.body).toBe(200);
    expect(res.messages()[0].message).toBe('copying cm-a:tree to cm-b:copied completed successfully, 3 artifacts and 4 folders were copied');
    for (const p of ['one.txt', 'sub/two.txt', 'sub/deeper/three.txt']) expect((await get(`cm-b/copied/${p}`)).body).toBe(`content of tree/${p}`);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/storage/cm-b/copied/empty' })).statusCode).toBe(200);
  });

  it("copies a folder into the folder 'to' ends with, as the CLI does for each folder it found", async () => {
    // jf rt cp "cm-a/" "cm-b/cli/": the CLI creates cm-b/cli/ and sends to=cm-b/cli/ for the folder cm-a/tree.
    const res = await post('copy', 'cm-a/tree', 'to=cm-b/cli/');
    expect(res.status, res.body).toBe(200);
    expect((await get('cm-b/cli/tree/sub/two.txt')).body).toBe('content of tree/sub/two.txt');
    expect(await exists('cm-b/cli/one.txt')).toBe(false);
  });

  it('moves a folder: the target gets everything with its properties, the source is gone', async () => {
    const res = await post('move', 'cm-a/mv', 'to=/cm-c/moved');
    expect(res.status, res.body).toBe(200);
    expect(res.messages()[0].message).toBe('moving cm-a:mv to cm-c:moved completed successfully, 2 artifacts and 2 folders were moved');
    expect((await get('cm-c/moved/one.txt')).body).toBe('content of mv/one.txt');
    expect((await get('cm-c/moved/sub/two.txt')).body).toBe('content of mv/sub/two.txt');
    expect(await props('cm-c/moved/one.txt')).toEqual({ kind: ['moved'] });
    expect((await node.request({ method: 'GET', url: '/artifactory/api/storage/cm-a/mv' })).statusCode).toBe(404);
  });

  it('changes nothing on a dry run, and says what it would do', async () => {
    const res = await post('move', 'cm-a/tree', 'to=/cm-c/dry&dry=1');
    expect(res.status, res.body).toBe(200);
    expect(res.messages()[0].message).toBe('Dry run for moving cm-a:tree to cm-c:dry completed successfully, 3 artifacts and 4 folders were moved');
    expect(await exists('cm-a/tree/one.txt')).toBe(true);
    expect((await node.request({ method: 'GET', url: '/artifactory/api/storage/cm-c/dry' })).statusCode).toBe(404);
  });

  it('refuses what cannot be copied with a clear 4xx', async () => {
    const cases: [string, string, string, number, RegExp][] = [
      ['copy', 'cm-nosuch/a', 'to=/cm-b/a', 404, /Repository 'cm-nosuch' not found/],
      ['copy', 'cm-a/nosuch.txt', 'to=/cm-b/a', 404, /does not exist/],
      ['copy', 'cm-a/dir/f.txt', '', 400, /'to' parameter is required/],
      ['copy', 'cm-a/dir/f.txt', 'to=/cm-virtual/f.txt', 400, /must be a local repository/],
      ['copy', 'cm-mvn-a/x', 'to=/cm-npm/x', 400, /different types/],
      ['copy', 'cm-a/tree', 'to=/cm-a/tree/inner', 400, /onto or into itself/],
      ['move', 'cm-a/dir/f.txt', 'to=/cm-a/dir/f.txt', 400, /onto or into itself/],
      ['copy', 'cm-a/dir/f.txt', 'to=/cm-b/../etc/passwd', 400, /./],
    ];
    for (const [op, from, query, status, message] of cases) {
      const res = await node.request({ method: 'POST', url: `/artifactory/api/${op}/${from}?${query}` });
      expect(res.statusCode, `${op} ${from} ${query}: ${res.body}`).toBe(status);
      expect(res.body).toMatch(message);
    }
  });

  it('checks the caller on both sides: read (and delete to move) at the source, write (and delete to replace) at the target', async () => {
    // Read on cm-a, write on cm-b: a copy goes; a move needs delete on cm-a.
    expect((await post('copy', 'cm-a/dir/f.txt', 'to=/cm-b/by-mover.txt', MOVER)).status).toBe(200);
    const move = await post('move', 'cm-a/dir/f.txt', 'to=/cm-b/moved-by-mover.txt', MOVER);
    expect(move.status).toBe(409);
    expect(move.messages()[0]).toMatchObject({ level: 'ERROR', message: expect.stringMatching(/not permitted to delete 'cm-a\/dir\/f.txt'/) });
    expect(await exists('cm-a/dir/f.txt')).toBe(true);
    expect(await exists('cm-b/moved-by-mover.txt')).toBe(false);
    // No write on cm-c; no delete on cm-b to replace a file there; no read of cm-a/guarded.
    expect((await post('copy', 'cm-a/dir/f.txt', 'to=/cm-c/nope.txt', MOVER)).status).toBe(409);
    expect(await exists('cm-c/nope.txt')).toBe(false);
    const replace = await post('copy', 'cm-a/dir/f.txt', 'to=/cm-b/taken.txt', MOVER);
    expect(replace.status).toBe(409);
    expect((await get('cm-b/taken.txt')).body).toBe('already here');
    expect((await post('copy', 'cm-a/guarded/g.txt', 'to=/cm-b/g.txt', MOVER)).status).toBe(403);
    expect((await node.request({ method: 'POST', url: '/artifactory/api/copy/cm-a/dir/f.txt?to=/cm-b/anon.txt', headers: { authorization: '' } })).statusCode).toBe(401);
  });

  it('goes on past a failure, or stops at the first one with failFast=1', async () => {
    await put('cm-b/ff/one.txt', 'taken');
    // tree/one.txt fails (mover may not replace it), the rest goes.
    const on = await post('copy', 'cm-a/tree', 'to=/cm-b/ff', MOVER);
    expect(on.status).toBe(409);
    expect(on.messages().filter((m) => m.level === 'ERROR')).toHaveLength(1);
    expect(await exists('cm-b/ff/sub/two.txt')).toBe(true);
    await put('cm-b/ff2/one.txt', 'taken');
    const fast = await post('copy', 'cm-a/tree', 'to=/cm-b/ff2&failFast=1', MOVER);
    expect(fast.status).toBe(409);
    expect(await exists('cm-b/ff2/sub/deeper/three.txt')).toBe(false);
  });

  it('keeps Maven metadata right on both sides of a move', async () => {
    for (const v of ['1.0', '2.0']) {
      await put(`cm-mvn-a/org/acme/lib/${v}/lib-${v}.pom`, pom('org.acme', 'lib', v));
      await put(`cm-mvn-a/org/acme/lib/${v}/lib-${v}.jar`, `jar ${v}`);
    }
    const res = await post('move', 'cm-mvn-a/org/acme/lib/2.0', 'to=/cm-mvn-b/org/acme/lib/2.0');
    expect(res.status, res.body).toBe(200);
    const meta = async (path: string) => parseMetadata((await get(path)).body);
    expect((await meta('cm-mvn-b/org/acme/lib/maven-metadata.xml')).versioning).toMatchObject({ versions: ['2.0'], release: '2.0' });
    expect((await meta('cm-mvn-a/org/acme/lib/maven-metadata.xml')).versioning).toMatchObject({ versions: ['1.0'], release: '1.0' });
  });

  it('keeps Helm index.yaml right on both sides of a copy and a move (the chart is checked again at the target)', async () => {
    for (const key of ['cm-helm-a', 'cm-helm-b']) {
      const res = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ rclass: 'local', packageType: 'helm' }) });
      expect(res.statusCode, res.body).toBe(200);
    }
    const listed = async (key: string) => {
      const entries = (parseYaml((await node.request({ url: `/artifactory/api/helm/${key}/index.yaml` })).body) as { entries: Record<string, Array<{ version: string }>> }).entries;
      return Object.entries(entries).flatMap(([name, list]) => list.map((e) => `${name}-${e.version}`)).sort();
    };
    for (const version of ['1.0.0', '2.0.0']) {
      const res = await node.request({ method: 'PUT', url: `/artifactory/cm-helm-a/api-${version}.tgz`, payload: chartTgz({ name: 'api', version }) });
      expect(res.statusCode, res.body).toBe(201);
    }
    expect((await post('copy', 'cm-helm-a/api-1.0.0.tgz', 'to=/cm-helm-b/api-1.0.0.tgz')).status).toBe(200);
    expect(await listed('cm-helm-b')).toEqual(['api-1.0.0']);
    expect((await post('move', 'cm-helm-a/api-2.0.0.tgz', 'to=/cm-helm-b/api-2.0.0.tgz')).status).toBe(200);
    expect(await listed('cm-helm-b')).toEqual(['api-1.0.0', 'api-2.0.0']);
    expect(await listed('cm-helm-a')).toEqual(['api-1.0.0']);
    // A file that is not a chart of that name cannot be copied into a chart's place.
    await put('cm-a/not-a-chart.tgz', 'plain bytes');
    expect((await post('copy', 'cm-a/not-a-chart.tgz', 'to=/cm-helm-b/api-3.0.0.tgz')).status).toBe(409);
    expect(await listed('cm-helm-b')).toEqual(['api-1.0.0', 'api-2.0.0']);
  });
});
