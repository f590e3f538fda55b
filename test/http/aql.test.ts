import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumsOf } from '../../src/core/digests.js';
import { bulkItems } from '../../src/db/testing/bulk-items.js';
import { DIALECTS } from '../helpers/databases.js';
import { ADMIN_AUTH, basic, startTestNode, type TestNode } from '../helpers/node-context.js';

const SEEKER = basic('seeker', 'Seeker-Passw0rd!');

/** The default fields of an items result, in Artifactory's order. */
const DEFAULT_FIELDS = ['repo', 'path', 'name', 'type', 'size', 'created', 'created_by', 'modified', 'modified_by', 'updated'];

/**
 * AQL of the items domain (REST-API.md §4, §11) on every dialect: the queries the JFrog CLI
 * builds (read from jfrog-client-go's aqlquerybuilder.go), every comparison operator, nesting,
 * properties, include/sort/offset/limit, permission filtering and syntax errors.
 */
describe.each(DIALECTS)('AQL on %s', (dialect) => {
  let node: TestNode;
  const files: Record<string, string> = {
    'aql-a/root.txt': 'at the root',
    'aql-a/org/x/lib-1.0.jar;build.name=app;build.number=1': 'a jar of some size',
    'aql-a/org/x/lib-1.0.pom': '<project/>',
    'aql-a/org/x/sub/deep.jar;kind=deep': 'deeper',
    'aql-a/org/y/other.jar;kind=other;kind=extra': 'the other jar, longest content of all',
    'aql-a/Upper/CASE.JAR': 'CASE',
    'aql-b/pub/a.jar': 'public',
    'aql-b/secret/b.jar': 'secret',
  };

  async function aql(query: string, authorization = ADMIN_AUTH) {
    const res = await node.request({ method: 'POST', url: '/artifactory/api/search/aql', headers: { authorization, 'content-type': 'text/plain' }, payload: query });
    return { status: res.statusCode, body: res.body, json: () => res.json() as { results: Record<string, unknown>[]; range: Record<string, unknown> } };
  }

  /** `repo/path/name` of each result, in the order given. */
  async function found(query: string, authorization = ADMIN_AUTH): Promise<string[]> {
    const res = await aql(query, authorization);
    expect(res.status, res.body).toBe(200);
    return res.json().results.map((r) => `${r.repo}/${r.path === '.' ? '' : `${r.path}/`}${r.name}`);
  }

  beforeAll(async () => {
    node = await startTestNode(dialect);
    for (const key of ['aql-a', 'aql-b', 'aql-bulk']) {
      const repo = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'local', packageType: 'generic' } });
      expect(repo.statusCode).toBe(200);
    }
    for (const [path, content] of Object.entries(files)) {
      const res = await node.request({ method: 'PUT', url: `/artifactory/${path}`, payload: content });
      expect(res.statusCode, res.body).toBe(201);
    }
    const user = await node.request({ method: 'PUT', url: '/artifactory/api/security/users/seeker', payload: { email: 'seeker@example.com', password: 'Seeker-Passw0rd!' } });
    expect([200, 201]).toContain(user.statusCode);
    for (const t of [
      { name: 'aql-all-a', repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['aql-a'], actions: { users: { seeker: ['read'] } } } },
      { name: 'aql-pub-b', repo: { 'include-patterns': ['pub/**'], 'exclude-patterns': [], repositories: ['aql-b'], actions: { users: { seeker: ['read'] } } } },
    ]) {
      const res = await node.request({ method: 'POST', url: `/artifactory/api/v2/security/permissions/${t.name}`, payload: t });
      expect([200, 201], res.body).toContain(res.statusCode);
    }
    const bin = checksumsOf(Buffer.from('bulk'));
    await bulkItems(node.ctx.database.db, 'aql-bulk', 1234, { ...bin, size: 4 }, 50);
  }, 120_000);
  afterAll(async () => {
    await node?.close();
  });

  it("answers the CLI's pattern query (aql-a/org/*.jar, recursive) with its include list and properties", async () => {
    // jf rt search 'aql-a/org/*.jar': one triple for the folder itself, one for any depth below it.
    const q =
      'items.find({"path":{"$ne":"."},"$or":[{"$and":[{"repo":"aql-a","path":"org","name":{"$match":"*.jar"}}]},' +
      '{"$and":[{"repo":"aql-a","path":{"$match":"org/*"},"name":{"$match":"*.jar"}}]}]})' +
      '.include("name","repo","path","actual_md5","actual_sha1","sha256","size","type","modified","created","property")';
    const res = await aql(q);
    expect(res.status, res.body).toBe(200);
    const { results, range } = res.json();
    expect(results.map((r) => `${r.path}/${r.name}`)).toEqual(['org/x/lib-1.0.jar', 'org/x/sub/deep.jar', 'org/y/other.jar']);
    const sums = checksumsOf(Buffer.from('a jar of some size'));
    expect(results[0]).toEqual({
      name: 'lib-1.0.jar',
      repo: 'aql-a',
      path: 'org/x',
      actual_md5: sums.md5,
      actual_sha1: sums.sha1,
      sha256: sums.sha256,
      size: 18,
      type: 'file',
      modified: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      created: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      properties: [
        { key: 'build.name', value: 'app' },
        { key: 'build.number', value: '1' },
      ],
    });
    expect(results[2].properties).toEqual(expect.arrayContaining([{ key: 'kind', value: 'other' }, { key: 'kind', value: 'extra' }]));
    expect(range).toEqual({ start_pos: 0, end_pos: 3, total: 3 });
  });

  it('reads a key given twice in one object as two criteria (the CLI writes its exclusions so)', async () => {
    // jf rt search 'aql-a/*.jar' --exclusions '*sub*': one "$or" per exclusion triple, then the pattern's "$or", in one object.
    const q =
      'items.find({"$or":[{"path":{"$nmatch":"*"},"name":{"$nmatch":"*sub*"}}],"$or":[{"path":{"$nmatch":"*sub*"},"name":{"$nmatch":"*"}}],' +
      '"$or":[{"repo":{"$nmatch":"*sub*"},"path":{"$nmatch":"*"},"name":{"$nmatch":"*"}}],' +
      '"$or":[{"$and":[{"repo":"aql-a","path":{"$match":"*"},"name":{"$match":"*.jar"}}]}]})';
    expect(await found(q)).toEqual(['aql-a/org/x/lib-1.0.jar', 'aql-a/org/y/other.jar']);
  });

  it('joins the keys of an object inside "$or" by "$or" (and inside "$and" by "$and"), as Artifactory does', async () => {
    // The CLI's exclusion triple: excluded only when repo, path and name all match, so kept when any differs.
    expect((await found('items.find({"repo":"aql-a","$or":[{"path":{"$nmatch":"org/x*"},"name":{"$nmatch":"*.jar"}}]})')).sort()).toEqual([
      'aql-a/Upper/CASE.JAR',
      'aql-a/org/x/lib-1.0.pom',
      'aql-a/org/y/other.jar',
      'aql-a/root.txt',
    ]);
    expect(await found('items.find({"repo":"aql-a","$and":[{"path":{"$match":"org/x*"},"name":{"$match":"*.jar"}}]})')).toEqual(['aql-a/org/x/lib-1.0.jar', 'aql-a/org/x/sub/deep.jar']);
    // Two operators on one field stay one range, whatever the enclosing operator.
    expect(await found('items.find({"repo":"aql-a","$or":[{"size":{"$gt":5,"$lt":7}}]})')).toEqual(['aql-a/org/x/sub/deep.jar']);
  });

  it('reads "@*" as any property key (the CLI\'s second query for properties after sort/limit)', async () => {
    const q = 'items.find({"$and":[{"repo":"aql-a","name":{"$match":"*.jar"}},{"$or":[{"@*":{"$match":"*"}}]}]}).include("name","repo","path","property")';
    expect((await found(q)).sort()).toEqual(['aql-a/org/x/lib-1.0.jar', 'aql-a/org/x/sub/deep.jar', 'aql-a/org/y/other.jar']);
    expect(await found('items.find({"repo":"aql-a","@*":"deep"})')).toEqual(['aql-a/org/x/sub/deep.jar']);
  });

  it('answers items at the repository root with path "." and finds them by it', async () => {
    expect(await found('items.find({"repo":"aql-a","path":"."})')).toEqual(['aql-a/root.txt']);
    expect(await found('items.find({"repo":"aql-a","path":{"$match":"*"},"name":{"$match":"*.txt"}})')).toEqual(['aql-a/root.txt']);
    expect(await found('items.find({"repo":"aql-a","path":{"$ne":"."},"name":{"$match":"*.txt"}})')).toEqual([]);
  });

  it('gives the default fields when nothing is included, "*" for all, and only what .include() names', async () => {
    const [first] = (await aql('items.find({"repo":"aql-a","name":"root.txt"})')).json().results;
    expect(Object.keys(first)).toEqual(DEFAULT_FIELDS);
    expect(first).toMatchObject({ repo: 'aql-a', path: '.', name: 'root.txt', type: 'file', size: 11, created_by: 'admin', modified_by: 'admin' });
    const [all] = (await aql('items.find({"repo":"aql-a","name":"root.txt"}).include("*")')).json().results;
    expect(all).toMatchObject({ depth: 1, actual_sha1: checksumsOf(Buffer.from('at the root')).sha1, original_sha1: null });
    expect((await aql('items.find({"repo":"aql-a","name":"root.txt"}).include("name")')).json().results).toEqual([{ name: 'root.txt' }]);
    const [only] = (await aql('items.find({"repo":"aql-a","name":"lib-1.0.jar"}).include("path","@build.number")')).json().results;
    expect(only).toEqual({ path: 'org/x', properties: [{ key: 'build.number', value: '1' }] });
  });

  it('compares with every operator', async () => {
    const names = async (criteria: string) => (await found(`items.find({"repo":"aql-a",${criteria}})`)).map((p) => p.split('/').pop());
    expect(await names('"size":{"$eq":6}')).toEqual(['deep.jar']);
    expect(await names('"size":{"$gt":18}')).toEqual(['other.jar']);
    expect(await names('"size":{"$gte":18}')).toEqual(['lib-1.0.jar', 'other.jar']);
    expect(await names('"size":{"$lt":10}')).toEqual(['CASE.JAR', 'deep.jar']);
    expect(await names('"size":{"$lte":10},"name":{"$ne":"CASE.JAR"}')).toEqual(['lib-1.0.pom', 'deep.jar']);
    expect(await names('"name":{"$match":"lib-?.0.*"}')).toEqual(['lib-1.0.jar', 'lib-1.0.pom']);
    expect(await names('"name":{"$nmatch":"*.jar"}')).toEqual(['root.txt', 'CASE.JAR', 'lib-1.0.pom']);
    // Case-sensitive, as Artifactory's $match is on PostgreSQL.
    expect(await names('"name":{"$match":"*.jar"},"path":{"$match":"U*"}')).toEqual([]);
    expect(await names('"name":{"$match":"*.JAR"}')).toEqual(['CASE.JAR']);
    expect(await names('"created":{"$last":"1d"},"name":{"$match":"*.pom"}')).toEqual(['lib-1.0.pom']);
    expect(await names('"created":{"$before":"1d"}')).toEqual([]);
    expect(await names('"modified":{"$lte":"2000-01-01"}')).toEqual([]);
    expect(await names('"modified":{"$gt":"2000-01-01T00:00:00.000Z"},"name":"root.txt"')).toEqual(['root.txt']);
    expect(await names('"actual_sha1":{"$eq":"' + checksumsOf(Buffer.from('deeper')).sha1.toUpperCase() + '"}')).toEqual(['deep.jar']);
    expect(await names('"original_sha1":{"$ne":null},"name":"root.txt"')).toEqual([]);
    expect(await names('"depth":3')).toEqual(['lib-1.0.jar', 'lib-1.0.pom', 'other.jar']);
  });

  it('nests $and and $or at any depth', async () => {
    const q = 'items.find({"repo":"aql-a","$or":[{"$and":[{"name":{"$match":"*.jar"}},{"$or":[{"size":6},{"size":4}]}]},{"name":"root.txt"}]})';
    // CASE.JAR (4 bytes) is not '*.jar': $match is case-sensitive.
    expect(await found(q)).toEqual(['aql-a/root.txt', 'aql-a/org/x/sub/deep.jar']);
  });

  it('finds by properties: @key, $match, $ne (items without the key too), null, property.key and $msp', async () => {
    expect(await found('items.find({"@kind":"deep"})')).toEqual(['aql-a/org/x/sub/deep.jar']);
    expect(await found('items.find({"@kind":{"$match":"o*"}})')).toEqual(['aql-a/org/y/other.jar']);
    expect(await found('items.find({"repo":"aql-a","@kind":{"$ne":"deep"}})')).toEqual([
      'aql-a/root.txt',
      'aql-a/Upper/CASE.JAR',
      'aql-a/org/x/lib-1.0.jar',
      'aql-a/org/x/lib-1.0.pom',
      'aql-a/org/y/other.jar',
    ]);
    expect(await found('items.find({"repo":"aql-a","@kind":{"$ne":null}})')).toEqual(['aql-a/org/x/sub/deep.jar', 'aql-a/org/y/other.jar']);
    expect(await found('items.find({"property.key":"build.name"})')).toEqual(['aql-a/org/x/lib-1.0.jar']);
    // Two values of one key: both criteria hold on the item, but never on the same property.
    expect(await found('items.find({"$and":[{"@kind":"other"},{"@kind":{"$match":"*x*"}}]})')).toEqual(['aql-a/org/y/other.jar']);
    expect(await found('items.find({"$msp":[{"@kind":"other"},{"@kind":{"$match":"*x*"}}]})')).toEqual([]);
    expect(await found('items.find({"$msp":[{"@kind":"extra"},{"@kind":{"$match":"*x*"}}]})')).toEqual(['aql-a/org/y/other.jar']);
  });

  it('finds files unless the criteria name a type: folder, or any', async () => {
    expect(await found('items.find({"repo":"aql-a","path":"org"})')).toEqual([]);
    expect(await found('items.find({"repo":"aql-a","path":"org","type":"folder"})')).toEqual(['aql-a/org/x', 'aql-a/org/y']);
    expect(await found('items.find({"repo":"aql-a","path":"org/x","type":"any"})')).toEqual(['aql-a/org/x/lib-1.0.jar', 'aql-a/org/x/lib-1.0.pom', 'aql-a/org/x/sub']);
  });

  it('sorts, skips and limits, and says so in range', async () => {
    const res = await aql('items.find({"repo":"aql-a"}).include("name","size").sort({"$desc":["size","name"]}).offset(1).limit(2)');
    expect(res.json()).toEqual({
      results: [
        { name: 'lib-1.0.jar', size: 18 },
        { name: 'root.txt', size: 11 },
      ],
      range: { start_pos: 1, end_pos: 3, total: 2, limit: 2 },
    });
    // The CLI's latest-created lookup.
    expect(await found('items.find({"type":"file","repo":"aql-a","path":{"$match":"org*"}}).sort({"$desc":["created"]}).limit(1)')).toHaveLength(1);
  });

  it('reads a large answer page after page, in order, and every row once', async () => {
    const res = await aql('items.find({"repo":"aql-bulk","name":{"$match":"file-*"}}).include("path","name")');
    const { results, range } = res.json();
    expect(range).toEqual({ start_pos: 0, end_pos: 1234, total: 1234 });
    const names = results.map((r) => r.name as string);
    expect(new Set(names).size).toBe(1234);
    expect(names).toEqual([...names].sort());
    const sorted = await aql('items.find({"repo":"aql-bulk"}).include("name").sort({"$desc":["name"]}).offset(1000).limit(300)');
    expect(sorted.json().results.map((r) => r.name)).toEqual(
      Array.from({ length: 234 }, (_, i) => `file-${String(233 - i).padStart(6, '0')}.bin`),
    );
  });

  it("filters results by the caller's read permission, and offset and limit count what the caller sees", async () => {
    const q = 'items.find({"name":{"$match":"*.jar"}}).include("repo","path","name")';
    expect(await found(q, SEEKER)).toEqual(['aql-a/org/x/lib-1.0.jar', 'aql-a/org/x/sub/deep.jar', 'aql-a/org/y/other.jar', 'aql-b/pub/a.jar']);
    expect(await found(q)).toContain('aql-b/secret/b.jar');
    expect(await found('items.find({"repo":"aql-b"}).offset(0).limit(5)', SEEKER)).toEqual(['aql-b/pub/a.jar']);
    expect(await found('items.find({"repo":"aql-bulk"})', SEEKER)).toEqual([]);
    const anonymous = await aql(q, '');
    expect(anonymous.status).toBe(401);
  });

  it('cuts a non-administrator at the search hard limit and says so', async () => {
    const mine = { name: 'aql-bulk-seek', repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['aql-bulk'], actions: { users: { seeker: ['read'] } } } };
    expect([200, 201]).toContain((await node.request({ method: 'POST', url: '/artifactory/api/v2/security/permissions/aql-bulk-seek', payload: mine })).statusCode);
    const res = await aql('items.find({"repo":"aql-bulk"}).include("name")', SEEKER);
    expect(res.json().results).toHaveLength(1000);
    expect(res.json().range).toEqual({ start_pos: 0, end_pos: 1000, total: 1000, limit: 1000, notification: 'AQL query reached the search hard limit, results are trimmed.' });
    expect((await aql('items.find({"repo":"aql-bulk"}).include("name")')).json().results).toHaveLength(1234);
  });

  it('answers 400 naming the position of a syntax error, and unknown or unsupported fields', async () => {
    const cases: [string, RegExp][] = [
      ['items.find({"repo":"aql-a"', /offset 26.*expected '\)'|offset 26/],
      ['items.find({"repo" "aql-a"})', /offset 19: expected ':'/],
      ['items.find({"repo":{"$like":"x"}})', /unknown comparison '\$like'/],
      ['items.find({"nosuch":"x"})', /unknown field 'nosuch'/],
      ['items.find({}).include("nosuch")', /unknown field 'nosuch'/],
      ['items.find({"release.name":"x"})', /release bundles/],
      ['items.find({"archive.entry.name":{"$before":"7d"}})', /'archive.entry.name' is text/],
      ['items.find({"archive.entry.name":5})', /'archive.entry.name' is compared with text/],
      ['builds.find({"name":"x"})', /'builds' domain is not supported/],
      ['items.find({}).limit(-1)', /non-negative integer/],
      ['items.find({}) trailing', /unexpected text/],
      ['items.find({"created":{"$before":"soon"}})', /relative time/],
      ['items.find({"type":"link"})', /file, folder or any/],
      ['items.find({"repo":"x"}).sort({"$up":["name"]})', /unknown sort order/],
      [`items.find(${'{"$and":['.repeat(40)}{}${']}'.repeat(40)})`, /nested deeper/],
    ];
    for (const [q, message] of cases) {
      const res = await aql(q);
      expect(res.status, q).toBe(400);
      expect(JSON.parse(res.body).errors[0].message, q).toMatch(message);
    }
  });
});
