import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumsOf } from '../../src/core/digests.js';
import { pathKey } from '../../src/db/items.js';
import { MAX_SEARCH_RESULTS } from '../../src/services/search.js';
import { DIALECTS } from '../helpers/databases.js';
import { startTestNode, type TestNode } from '../helpers/node-context.js';

const BASE = 'http://localhost:80/artifactory';
const S = `${BASE}/api/storage`;

describe.each(DIALECTS)('search API on %s', (dialect) => {
  let node: TestNode;

  async function deploy(repo: string, path: string, body: string) {
    const res = await node.request({ method: 'PUT', url: `/artifactory/${repo}/${path}`, payload: body });
    expect(res.statusCode, res.body).toBe(201);
  }

  async function search(query: string, headers?: Record<string, string>) {
    return node.request({ method: 'GET', url: `/artifactory/api/search/${query}`, headers });
  }

  async function uris(query: string): Promise<string[]> {
    const res = await search(query);
    expect(res.statusCode, res.body).toBe(200);
    return res.json().results.map((r: { uri: string }) => r.uri);
  }

  beforeAll(async () => {
    node = await startTestNode(dialect);
    for (const key of ['s-one', 's-two']) {
      const res = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: { rclass: 'local', packageType: 'generic' } });
      expect(res.statusCode).toBe(200);
    }
    await deploy('s-one', 'org/app/App-1.0.JAR;build.name=app;build.number=7;stage=qa', 'app-1.0');
    await deploy('s-one', 'org/app/app-1.1.jar;build.name=app;build.number=8;stage=prod', 'app-1.1');
    await deploy('s-one', 'org/lib/lib_x.txt;build.name=lib;owner=Team', 'same');
    await deploy('s-one', 'org/lib/libAx.txt;build.name=lib%25x', 'libAx');
    await deploy('s-one', 'org/lib/100%25.txt;pattern=a%5Bb%5Dc', '100');
    await deploy('s-one', 'org/unicode/\u00c9t\u00e9.txt', 'ete');
    await deploy('s-two', 'mirror/app-1.0.jar;build.name=app;build.number=7', 'app-1.0');
    await deploy('s-two', 'mirror/other.bin', 'same');
    // A folder with properties: property search finds folders, the others do not.
    const folder = await node.request({ method: 'PUT', url: '/artifactory/api/storage/s-two/mirror?properties=build.name=app&recursive=0' });
    expect(folder.statusCode).toBe(204);
  });
  afterAll(async () => {
    await node?.close();
  });

  describe('artifact search', () => {
    it('finds files whose name contains the term, in every repository, ASCII case-insensitively', async () => {
      const res = await search('artifact?name=app-1');
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('application/vnd.org.jfrog.artifactory.search.ArtifactSearchResult+json');
      expect(res.json()).toEqual({
        results: [{ uri: `${S}/s-one/org/app/App-1.0.JAR` }, { uri: `${S}/s-one/org/app/app-1.1.jar` }, { uri: `${S}/s-two/mirror/app-1.0.jar` }],
      });
      expect(await uris('artifact?name=APP-1.0.jar')).toEqual([`${S}/s-one/org/app/App-1.0.JAR`, `${S}/s-two/mirror/app-1.0.jar`]);
    });

    it('matches a pattern with wildcards against the whole name', async () => {
      expect(await uris('artifact?name=*.jar')).toEqual([`${S}/s-one/org/app/App-1.0.JAR`, `${S}/s-one/org/app/app-1.1.jar`, `${S}/s-two/mirror/app-1.0.jar`]);
      expect(await uris('artifact?name=app-1.?.jar&repos=s-one')).toEqual([`${S}/s-one/org/app/App-1.0.JAR`, `${S}/s-one/org/app/app-1.1.jar`]);
      // `app` with a wildcard is a whole-name pattern: nothing is named exactly app-something without an extension.
      expect(await uris('artifact?name=app-?')).toEqual([]);
    });

    it('treats % and _ as literal characters', async () => {
      expect(await uris('artifact?name=lib_x')).toEqual([`${S}/s-one/org/lib/lib_x.txt`]);
      expect(await uris('artifact?name=100%25')).toEqual([`${S}/s-one/org/lib/100%25.txt`]);
    });

    it('folds ASCII case only, the same on every dialect', async () => {
      expect(await uris('artifact?name=%C3%89t%C3%A9')).toEqual([`${S}/s-one/org/unicode/%C3%89t%C3%A9.txt`]);
      expect(await uris('artifact?name=%C3%89T%C3%A9')).toEqual([`${S}/s-one/org/unicode/%C3%89t%C3%A9.txt`]);
      // é and É differ outside ASCII: no match on SQLite, and none on PostgreSQL either.
      expect(await uris('artifact?name=%C3%A9t%C3%A9')).toEqual([]);
    });

    it('limits to the given repositories and returns only files', async () => {
      expect(await uris('artifact?name=app&repos=s-two')).toEqual([`${S}/s-two/mirror/app-1.0.jar`]);
      expect(await uris('artifact?name=app&repos=s-two,s-one')).toHaveLength(3);
      expect(await uris('artifact?name=app&repos=nope')).toEqual([]);
      expect(await uris('artifact?name=mirror')).toEqual([]);
      expect(await uris('artifact?name=org')).toEqual([]);
    });

    it.each(['artifact', 'artifact?name=', 'artifact?name=*', 'artifact?name=**', 'artifact?name=%3F*'])('answers 400 for %s', async (q) => {
      const res = await search(q);
      expect(res.statusCode).toBe(400);
      expect(res.json().errors[0].status).toBe(400);
    });
  });

  describe('checksum search', () => {
    it('finds files by sha1, sha256 or md5 (any case)', async () => {
      const sums = checksumsOf(Buffer.from('same'));
      const expected = [`${S}/s-one/org/lib/lib_x.txt`, `${S}/s-two/mirror/other.bin`];
      const res = await search(`checksum?sha1=${sums.sha1}`);
      expect(res.headers['content-type']).toContain('application/vnd.org.jfrog.artifactory.search.ChecksumSearchResult+json');
      expect(res.json().results.map((r: { uri: string }) => r.uri)).toEqual(expected);
      expect(await uris(`checksum?sha256=${sums.sha256.toUpperCase()}`)).toEqual(expected);
      expect(await uris(`checksum?md5=${sums.md5}&repos=s-two`)).toEqual([`${S}/s-two/mirror/other.bin`]);
      expect(await uris(`checksum?sha1=${sums.sha1}&md5=${checksumsOf(Buffer.from('x')).md5}`)).toEqual([]);
      expect(await uris(`checksum?sha1=${'0'.repeat(40)}`)).toEqual([]);
    });

    it.each(['checksum', 'checksum?sha1=abc', `checksum?sha256=${'g'.repeat(64)}`, `checksum?md5=${'a'.repeat(40)}`])('answers 400 for %s', async (q) => {
      expect((await search(q)).statusCode).toBe(400);
    });
  });

  describe('property search', () => {
    it('requires every key (AND) and any of a key’s values (OR)', async () => {
      const res = await search('prop?build.name=app&build.number=7');
      expect(res.headers['content-type']).toContain('application/vnd.org.jfrog.artifactory.search.MetadataSearchResult+json');
      expect(res.json().results.map((r: { uri: string }) => r.uri)).toEqual([`${S}/s-one/org/app/App-1.0.JAR`, `${S}/s-two/mirror/app-1.0.jar`]);
      expect(await uris('prop?build.name=app&build.number=7,8&repos=s-one')).toEqual([`${S}/s-one/org/app/App-1.0.JAR`, `${S}/s-one/org/app/app-1.1.jar`]);
      expect(await uris('prop?build.name=app&build.number=7&build.number=8&repos=s-one')).toHaveLength(2);
      expect(await uris('prop?build.name=app&stage=none')).toEqual([]);
    });

    it('returns folders too', async () => {
      expect(await uris('prop?build.name=app&repos=s-two')).toEqual([`${S}/s-two/mirror`, `${S}/s-two/mirror/app-1.0.jar`]);
    });

    it('matches wildcards in values, case-sensitively, with % _ and [ literal', async () => {
      expect(await uris('prop?stage=p*')).toEqual([`${S}/s-one/org/app/app-1.1.jar`]);
      expect(await uris('prop?stage=q?,pro?')).toHaveLength(2);
      expect(await uris('prop?owner=Team')).toEqual([`${S}/s-one/org/lib/lib_x.txt`]);
      expect(await uris('prop?owner=team')).toEqual([]);
      expect(await uris('prop?owner=t*')).toEqual([]);
      expect(await uris('prop?owner=T*')).toEqual([`${S}/s-one/org/lib/lib_x.txt`]);
      expect(await uris('prop?build.name=lib%25*')).toEqual([`${S}/s-one/org/lib/libAx.txt`]);
      expect(await uris('prop?build.name=lib_*')).toEqual([]);
      expect(await uris('prop?pattern=a[b]*')).toEqual([`${S}/s-one/org/lib/100%25.txt`]);
      expect(await uris('prop?pattern=a[b]')).toEqual([]);
    });

    it('answers 404 without criteria and 400 for a wildcard-only value', async () => {
      expect((await search('prop')).statusCode).toBe(404);
      expect((await search('prop?repos=s-one')).statusCode).toBe(404);
      expect((await search('prop?build.name=*')).statusCode).toBe(400);
      expect((await search('prop?build.name=app,**')).statusCode).toBe(400);
    });
  });

  describe('result detail', () => {
    it('adds file info with X-Result-Detail: info', async () => {
      const res = await search('artifact?name=app-1.1', { 'x-result-detail': 'info' });
      const [r] = res.json().results;
      const sums = checksumsOf(Buffer.from('app-1.1'));
      expect(r).toMatchObject({
        uri: `${S}/s-one/org/app/app-1.1.jar`,
        downloadUri: `${BASE}/s-one/org/app/app-1.1.jar`,
        repo: 's-one',
        path: '/org/app/app-1.1.jar',
        size: '7',
        createdBy: 'admin',
        checksums: { sha1: sums.sha1, md5: sums.md5, sha256: sums.sha256 },
      });
      expect(r.properties).toBeUndefined();
    });

    it('adds properties, alone or combined with info, and folder info for folders', async () => {
      const props = (await search('prop?build.number=8', { 'x-result-detail': 'properties' })).json().results;
      expect(props).toEqual([{ uri: `${S}/s-one/org/app/app-1.1.jar`, properties: { 'build.name': ['app'], 'build.number': ['8'], stage: ['prod'] } }]);
      const both = (await search('prop?build.name=app&repos=s-two', { 'x-result-detail': 'info, properties' })).json().results;
      expect(both[0]).toMatchObject({ uri: `${S}/s-two/mirror`, repo: 's-two', path: '/mirror', properties: { 'build.name': ['app'] } });
      expect(both[0].children).toBeUndefined();
      expect(both[1]).toMatchObject({ uri: `${S}/s-two/mirror/app-1.0.jar`, size: '7', properties: { 'build.name': ['app'], 'build.number': ['7'] } });
    });
  });

  it('requires authentication for every search, even with anonymous access on', async () => {
    await node.ctx.settings.update({ anonAccessEnabled: true });
    try {
      for (const q of ['artifact?name=app', `checksum?sha1=${'0'.repeat(40)}`, 'prop?a=b']) {
        const res = await search(q, { authorization: '' });
        expect(res.statusCode, q).toBe(401);
      }
    } finally {
      await node.ctx.settings.update({ anonAccessEnabled: false });
    }
  });

  it(`caps a search at ${MAX_SEARCH_RESULTS} results`, async () => {
    const res = await node.request({ method: 'PUT', url: '/artifactory/api/repositories/s-many', payload: { rclass: 'local', packageType: 'generic' } });
    expect(res.statusCode).toBe(200);
    const now = Date.now();
    const rows = Array.from({ length: MAX_SEARCH_RESULTS + 5 }, (_, i) => {
      const name = `many-${String(i).padStart(5, '0')}.bin`;
      return {
        path_key: pathKey('s-many', name),
        repo: 's-many',
        path: '',
        name,
        type: 'file' as const,
        sha1: null,
        sha256: null,
        md5: null,
        size: 1,
        original_sha1: null,
        original_sha256: null,
        original_md5: null,
        mime_type: null,
        created: now,
        created_by: 'admin',
        modified: now,
        modified_by: 'admin',
        updated: now,
      };
    });
    for (let i = 0; i < rows.length; i += 500) await node.ctx.database.db.insertInto('items').values(rows.slice(i, i + 500)).execute();
    const found = await uris('artifact?name=many-&repos=s-many');
    expect(found).toHaveLength(MAX_SEARCH_RESULTS);
    expect(found[0]).toBe(`${S}/s-many/many-00000.bin`);
  });
});
