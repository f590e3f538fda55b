import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TAR_BLOCK, tarHeader } from '../../src/core/tar.js';
import { listArchiveEntries } from '../../src/services/archives/archive-entries.js';
import { DIALECTS } from '../helpers/databases.js';
import { basic, startTestNode, type TestNode } from '../helpers/node-context.js';
import { zipOf } from '../helpers/stored-zip.js';

const READER = basic('vb-reader', 'Vb-Reader-Passw0rd!');

function tgzOf(files: Array<[string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, content] of files) {
    const data = Buffer.from(content);
    parts.push(tarHeader(name, data.length, 0), data, Buffer.alloc((TAR_BLOCK - (data.length % TAR_BLOCK)) % TAR_BLOCK));
  }
  return gzipSync(Buffer.concat([...parts, Buffer.alloc(2 * TAR_BLOCK)]));
}

/**
 * What the Browse page asks the storage API (issue 19): a virtual repository's merged listing
 * (paged, per-member permissions, the member of each child), `details=1`, `allowEmpty`, and
 * the entries of archives (`/api/archive/entries`).
 */
describe.each(DIALECTS)('browse storage API on %s', (dialect) => {
  let node: TestNode;
  const req = (method: 'GET' | 'PUT', url: string, payload?: string | Buffer | object, headers: Record<string, string> = {}) => node.request({ method, url, payload, headers });
  const get = async (url: string, headers: Record<string, string> = {}) => {
    const res = await req('GET', url, undefined, headers);
    return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as Record<string, any>) : {} };
  };
  const uris = (body: Record<string, any>) => (body.children as Array<{ uri: string }>).map((c) => c.uri);

  beforeAll(async () => {
    node = await startTestNode(dialect);
    for (const [key, config] of [
      ['vb-one', { rclass: 'local' }],
      ['vb-two', { rclass: 'local' }],
      ['vb-virtual', { rclass: 'virtual', repositories: ['vb-one', 'vb-two'] }],
    ] as const) {
      expect((await req('PUT', `/artifactory/api/repositories/${key}`, { packageType: 'generic', ...config })).statusCode).toBe(200);
    }
    const files: Array<[string, string | Buffer]> = [
      ['vb-one/f/a.txt', 'a from one'],
      ['vb-one/f/c.txt', 'c from one'],
      ['vb-one/f/same.txt', 'same from one'],
      ['vb-one/only-one/x.txt', 'x'],
      ['vb-two/f/b.txt', 'b from two'],
      ['vb-two/f/d.txt', 'd from two'],
      ['vb-two/f/same.txt', 'same from two'],
      ['vb-two/only-two/y.txt', 'y'],
      ['vb-one/arc/t.jar', zipOf([{ name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\n' }, { name: 'a/B.class', data: 'x'.repeat(100), deflate: true }])],
      ['vb-one/arc/t.tgz', tgzOf([['package/index.js', 'module.exports = 1;\n']])],
    ];
    for (const [path, body] of files) expect((await req('PUT', `/artifactory/${path}`, body)).statusCode).toBe(201);
    expect([200, 201]).toContain((await req('PUT', '/artifactory/api/security/users/vb-reader', { email: 'r@example.com', password: 'Vb-Reader-Passw0rd!' })).statusCode);
    const target = { name: 'vb-read', repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['vb-two', 'vb-virtual'], actions: { users: { 'vb-reader': ['read'] } } } };
    expect([200, 201]).toContain((await req('PUT', '/artifactory/api/v2/security/permissions/vb-read', target)).statusCode);
  });
  afterAll(async () => {
    await node?.close();
  });

  it('lists a virtual folder as the union of its members, the first member winning a name', async () => {
    const root = await get('/artifactory/api/storage/vb-virtual');
    expect(root.status).toBe(200);
    expect(uris(root.body)).toEqual(['/arc', '/f', '/only-one', '/only-two']);
    const f = await get('/artifactory/api/storage/vb-virtual/f?limit=100&details=1');
    expect(f.body.children.map((c: { uri: string; repo: string }) => [c.uri, c.repo])).toEqual([
      ['/a.txt', 'vb-one'],
      ['/b.txt', 'vb-two'],
      ['/c.txt', 'vb-one'],
      ['/d.txt', 'vb-two'],
      ['/same.txt', 'vb-one'],
    ]);
    expect(f.body.children[0]).toMatchObject({ folder: false, size: 10, createdBy: 'admin', downloadCount: 0 });
    const top = await get('/artifactory/api/storage/vb-virtual?limit=100&details=1');
    expect(top.body.children.find((c: { uri: string }) => c.uri === '/f')).toMatchObject({ folder: true, size: -1, repo: 'vb-one', repos: ['vb-one', 'vb-two'] });
    expect(top.body.children.find((c: { uri: string }) => c.uri === '/only-two')).toMatchObject({ repo: 'vb-two' });
    expect((await get('/artifactory/api/storage/vb-virtual/missing')).status).toBe(404);
  });

  it('pages a merged listing without repeating or losing a name', async () => {
    const seen: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await get(`/artifactory/api/storage/vb-virtual/f?limit=2${after ? `&after=${after}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...uris(page.body));
      after = page.body.next;
      if (!after) break;
    }
    expect(seen).toEqual(['/a.txt', '/b.txt', '/c.txt', '/d.txt', '/same.txt']);
    expect((await get('/artifactory/api/storage/vb-virtual/f?limit=2&after=bm90LWEtdG9rZW4')).status).toBe(400);
    expect((await get('/artifactory/api/storage/vb-virtual/f?details=1')).status).toBe(400);
  });

  it('lists only what the caller may read in each member', async () => {
    const f = await get('/artifactory/api/storage/vb-virtual/f', { authorization: READER });
    expect(f.status).toBe(200);
    expect(uris(f.body)).toEqual(['/b.txt', '/d.txt', '/same.txt']);
    const same = await get('/artifactory/api/storage/vb-virtual/f/same.txt', { authorization: READER });
    expect(same.body.resolvedRepo).toBe('vb-two');
    expect((await get('/artifactory/api/storage/vb-virtual/only-one', { authorization: READER })).status).toBe(404);
  });

  it('answers a virtual file with the member copy a download serves, and its properties and stats from that member', async () => {
    const same = await get('/artifactory/api/storage/vb-virtual/f/same.txt');
    expect(same.body).toMatchObject({ repo: 'vb-virtual', path: '/f/same.txt', resolvedRepo: 'vb-one', size: '13' });
    expect(same.body.uri).toMatch(/\/api\/storage\/vb-virtual\/f\/same\.txt$/);
    expect((await req('PUT', '/artifactory/api/storage/vb-two/f/d.txt?properties=team=ui')).statusCode).toBe(204);
    const props = await get('/artifactory/api/storage/vb-virtual/f/d.txt?properties');
    expect(props.body.properties).toEqual({ team: ['ui'] });
    expect((await get('/artifactory/api/storage/vb-virtual/f/d.txt?stats')).body).toMatchObject({ downloadCount: 0 });
  });

  it('answers no properties as {} with allowEmpty, still 404 without it', async () => {
    expect((await get('/artifactory/api/storage/vb-one/f/a.txt?properties')).status).toBe(404);
    const empty = await get('/artifactory/api/storage/vb-one/f/a.txt?properties&allowEmpty=1');
    expect(empty).toMatchObject({ status: 200, body: { properties: {} } });
  });

  it('gives each child of a local folder page its details', async () => {
    const page = await get('/artifactory/api/storage/vb-one/f?limit=2&details=1');
    expect(page.body.children).toEqual([
      expect.objectContaining({ uri: '/a.txt', folder: false, size: 10, createdBy: 'admin', modifiedBy: 'admin', downloadCount: 0, mimeType: 'text/plain' }),
      expect.objectContaining({ uri: '/c.txt' }),
    ]);
    expect(page.body.children[0].repo).toBeUndefined();
    expect(page.body.next).toBeTruthy();
  });

  it('lists the entries of a zip and a tar.gz, through a virtual repository too', async () => {
    const jar = await get('/artifactory/api/archive/entries/vb-one/arc/t.jar');
    expect(jar.status).toBe(200);
    expect(jar.body).toMatchObject({ repo: 'vb-one', type: 'zip', truncated: false });
    expect(jar.body.entries).toEqual([
      { path: 'META-INF/MANIFEST.MF', folder: false, size: 22, compressedSize: 22 },
      { path: 'a/B.class', folder: false, size: 100, compressedSize: expect.any(Number) },
    ]);
    const tgz = await get('/artifactory/api/archive/entries/vb-virtual/arc/t.tgz');
    expect(tgz.body).toMatchObject({ repo: 'vb-one', type: 'tgz', entries: [{ path: 'package/index.js', folder: false, size: 20 }] });
    expect((await get('/artifactory/api/archive/entries/vb-one/f/a.txt')).status).toBe(400);
    expect((await get('/artifactory/api/archive/entries/vb-one/arc')).status).toBe(400);
    expect((await get('/artifactory/api/archive/entries/vb-one/arc/missing.zip')).status).toBe(404);
    expect([403, 404]).toContain((await get('/artifactory/api/archive/entries/vb-one/arc/t.jar', { authorization: READER })).status);
  });
});

describe('archive entry listing limits', () => {
  const read = (data: Buffer) => async (range?: { start: number; end: number }) => {
    const { Readable } = await import('node:stream');
    return Readable.from([range ? data.subarray(range.start, range.end + 1) : data]);
  };

  it('stops at the entry limit and says the listing is truncated', async () => {
    const zip = zipOf(['a', 'b', 'c'].map((name) => ({ name, data: name })));
    const listed = await listArchiveEntries('x.zip', zip.length, read(zip), { maxEntries: 2, maxBytes: 1 << 20, maxDirectoryBytes: 1 << 20 });
    expect(listed).toMatchObject({ type: 'zip', truncated: true });
    expect(listed.entries.map((e) => e.path)).toEqual(['a', 'b']);
    const tgz = tgzOf([
      ['a', 'a'],
      ['b', 'b'],
      ['c', 'c'],
    ]);
    const tarListed = await listArchiveEntries('x.tgz', tgz.length, read(tgz), { maxEntries: 2, maxBytes: 1 << 20, maxDirectoryBytes: 1 << 20 });
    expect(tarListed).toMatchObject({ type: 'tgz', truncated: true });
    expect(tarListed.entries.map((e) => e.path)).toEqual(['a', 'b']);
  });

  it('refuses what is not an archive, a corrupt zip and a directory over the limit', async () => {
    await expect(listArchiveEntries('x.txt', 3, read(Buffer.from('abc')))).rejects.toThrow(/not an archive/);
    const junk = Buffer.alloc(100, 7);
    await expect(listArchiveEntries('x.zip', junk.length, read(junk))).rejects.toThrow(/cannot be read/);
    const zip = zipOf([{ name: 'a'.repeat(200), data: 'x' }]);
    await expect(listArchiveEntries('x.jar', zip.length, read(zip), { maxEntries: 10, maxBytes: 1 << 20, maxDirectoryBytes: 100 })).rejects.toThrow(/larger than 100 bytes/);
  });
});
