import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DownloadStats } from '../../src/services/download-stats.js';
import { DIALECTS } from '../helpers/databases.js';
import { basic, startTestNode, type TestNode } from '../helpers/node-context.js';

const READER = basic('dl-reader', 'Dl-Reader-Passw0rd!');

/** Download statistics (issue 15, item 2) on every dialect: counting, `?stats`, AQL `stat.*`, deletes, concurrent flushes. */
describe.each(DIALECTS)('download statistics on %s', (dialect) => {
  let node: TestNode;
  const get = (path: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') => node.request({ method, url: `/artifactory/${path}`, headers });
  const stats = async (path: string) => (await node.request({ method: 'GET', url: `/artifactory/api/storage/${path}?stats` })).json();
  /** `?stats` once the counts were flushed (at most a second after the downloads). */
  const statsWhen = async (path: string, count: number) => {
    const deadline = Date.now() + 5000;
    let s = await stats(path);
    while (s.downloadCount !== count && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      s = await stats(path);
    }
    return s;
  };
  const aql = async (q: string) => {
    const res = await node.request({ method: 'POST', url: '/artifactory/api/search/aql', headers: { 'content-type': 'text/plain' }, payload: q });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().results as Record<string, unknown>[];
  };

  beforeAll(async () => {
    node = await startTestNode(dialect);
    expect((await node.request({ method: 'PUT', url: '/artifactory/api/repositories/dl-local', payload: { rclass: 'local', packageType: 'generic' } })).statusCode).toBe(200);
    for (const p of ['a.txt', 'b.txt', 'never.txt', 'gone.txt']) expect((await node.request({ method: 'PUT', url: `/artifactory/dl-local/${p}`, payload: `content of ${p}` })).statusCode).toBe(201);
    expect([200, 201]).toContain((await node.request({ method: 'PUT', url: '/artifactory/api/security/users/dl-reader', payload: { email: 'r@example.com', password: 'Dl-Reader-Passw0rd!' } })).statusCode);
    const t = { name: 'dl-read', repo: { 'include-patterns': ['**'], 'exclude-patterns': [], repositories: ['dl-local'], actions: { users: { 'dl-reader': ['read'] } } } };
    expect([200, 201]).toContain((await node.request({ method: 'POST', url: '/artifactory/api/v2/security/permissions/dl-read', payload: t })).statusCode);
  });
  afterAll(async () => {
    await node?.close();
  });

  it('counts whole downloads with the last time and user, not HEADs, ranges or revalidations', async () => {
    const before = Date.now();
    for (let i = 0; i < 2; i++) expect((await get('dl-local/a.txt')).statusCode).toBe(200);
    expect((await get('dl-local/a.txt', { authorization: READER })).statusCode).toBe(200);
    expect((await get('dl-local/a.txt', {}, 'HEAD')).statusCode).toBe(200);
    expect((await get('dl-local/a.txt', { range: 'bytes=0-3' })).statusCode).toBe(206);
    const etag = (await get('dl-local/b.txt')).headers.etag as string;
    expect((await get('dl-local/b.txt', { 'if-none-match': etag })).statusCode).toBe(304);
    const a = await statsWhen('dl-local/a.txt', 3);
    expect(a).toMatchObject({ uri: expect.stringMatching(/\/api\/storage\/dl-local\/a\.txt$/), downloadCount: 3, lastDownloadedBy: 'dl-reader', remoteDownloadCount: 0 });
    expect(a.lastDownloaded).toBeGreaterThanOrEqual(before);
    expect(await statsWhen('dl-local/b.txt', 1)).toMatchObject({ downloadCount: 1, lastDownloadedBy: 'admin' });
    expect(await stats('dl-local/never.txt')).toMatchObject({ downloadCount: 0, lastDownloaded: 0, lastDownloadedBy: null });
  });

  it('finds by download statistics in AQL and includes them', async () => {
    await statsWhen('dl-local/a.txt', 3);
    const names = async (criteria: string) => (await aql(`items.find({"repo":"dl-local",${criteria}})`)).map((r) => r.name);
    expect(await names('"stat.downloads":{"$gt":2}')).toEqual(['a.txt']);
    expect(await names('"stat.downloads":{"$gte":1}')).toEqual(['a.txt', 'b.txt']);
    expect(await names('"stat.downloads":{"$eq":null}')).toEqual(['gone.txt', 'never.txt']);
    expect(await names('"stat.downloads":{"$lt":1}')).toEqual(['gone.txt', 'never.txt']);
    expect(await names('"stat.downloaded":{"$last":"1d"}')).toEqual(['a.txt', 'b.txt']);
    expect(await names('"stat.downloaded":{"$before":"1d"}')).toEqual([]);
    expect(await names('"stat.downloaded_by":"dl-reader"')).toEqual(['a.txt']);
    // A cleanup script's query: not downloaded for 60 days, or never.
    expect(await names('"$or":[{"stat.downloaded":{"$before":"60d"}},{"stat.downloads":{"$eq":null}}]')).toEqual(['gone.txt', 'never.txt']);
    const [a] = await aql('items.find({"repo":"dl-local","name":"a.txt"}).include("name","stat")');
    expect(a).toEqual({ name: 'a.txt', stats: [{ downloads: 3, downloaded: expect.stringMatching(/^\d{4}-/), downloaded_by: 'dl-reader', remote_downloads: 0 }] });
    const [never] = await aql('items.find({"repo":"dl-local","name":"never.txt"}).include("name","stat")');
    expect(never).toEqual({ name: 'never.txt', stats: [{ downloads: 0 }] });
  });

  it('forgets the statistics of a deleted item, and a flush does not bring them back', async () => {
    expect((await get('dl-local/gone.txt')).statusCode).toBe(200);
    await statsWhen('dl-local/gone.txt', 1);
    expect((await get('dl-local/gone.txt')).statusCode).toBe(200);
    expect((await node.request({ method: 'DELETE', url: '/artifactory/dl-local/gone.txt' })).statusCode).toBe(204);
    // The delete moved it to the trash can (with its statistics); deleted there, it is gone for good.
    expect((await node.request({ method: 'DELETE', url: '/artifactory/auto-trashcan/dl-local/gone.txt' })).statusCode).toBe(204);
    await new Promise((r) => setTimeout(r, 1500));
    const db = node.ctx.database.db;
    const ids = (await db.selectFrom('items').select('id').where('repo', '=', 'dl-local').execute()).map((r) => Number(r.id));
    const rows = await db.selectFrom('download_stats').select('item_id').execute();
    expect(rows.map((r) => Number(r.item_id)).every((id) => ids.includes(id))).toBe(true);
  });

  it('adds up the flushes of several processes at once (atomic increments)', async () => {
    const db = node.ctx.database;
    const id = Number((await db.db.selectFrom('items').select('id').where('repo', '=', 'dl-local').where('name', '=', 'never.txt').executeTakeFirstOrThrow()).id);
    const clock = { now: () => Date.now() };
    const writers = Array.from({ length: 4 }, () => new DownloadStats(db, clock, true));
    for (let round = 0; round < 5; round++) {
      for (const w of writers) for (let i = 0; i < 10; i++) w.record(id, `w${round}`);
      await Promise.all(writers.map((w) => w.flush()));
    }
    const s = (await writers[0].of([id])).get(id)!;
    expect(s.downloads).toBe(200);
    expect(s.lastDownloadedBy).toBe('w4');
    const off = new DownloadStats(db, clock, false);
    off.record(id, 'nobody');
    await off.flush();
    expect((await off.of([id])).get(id)!.downloads).toBe(200);
  });

  it('writes a flush of more items than one statement takes, skipping ids of deleted items, in one go', async () => {
    const db = node.ctx.database;
    const files = Array.from({ length: 1_200 }, (_, i) => `many/f-${i}.txt`);
    for (let i = 0; i < files.length; i += 20) {
      await Promise.all(
        files.slice(i, i + 20).map(async (f) => {
          const r = await node.request({ method: 'PUT', url: `/artifactory/dl-local/${f}`, payload: f });
          expect(r.statusCode, r.body).toBe(201);
        }),
      );
    }
    const rows = await db.db.selectFrom('items').select(['id', 'name']).where('repo', '=', 'dl-local').where('path', '=', 'many').execute();
    expect(rows).toHaveLength(1_200);
    const ids = rows.map((r) => Number(r.id));
    const missing = [Math.max(...ids) + 1_000_000, Math.max(...ids) + 1_000_001];
    const w = new DownloadStats(db, { now: () => 1_700_000_000_000 }, true);
    // Not in id order: the flush sorts.
    for (const id of [...ids].reverse()) {
      w.record(id, 'bulk');
      if (id % 3 === 0) w.recordRemote(id);
    }
    w.record(ids[0], 'bulk');
    for (const id of missing) w.record(id, 'ghost');
    await w.flush();
    const got = await w.of([...ids, ...missing]);
    expect(got.size).toBe(1_200);
    for (const id of ids) {
      const s = got.get(id)!;
      expect(s.downloads).toBe(id === ids[0] ? 2 : 1);
      expect(s.lastDownloaded).toBe(1_700_000_000_000);
      expect(s.lastDownloadedBy).toBe('bulk');
      expect(s.remoteDownloads).toBe(id % 3 === 0 ? 1 : 0);
    }
  });

  it('takes statistics a replication sends as remote statistics, never lowering them (POST /api/replication/statistics)', async () => {
    const send = (items: unknown, auth?: string, repo = 'dl-local') =>
      node.request({ method: 'POST', url: `/artifactory/api/replication/statistics/${repo}`, headers: auth === undefined ? {} : { authorization: auth }, payload: { items } as unknown as string });
    const remote = async (path: string) => {
      const s = await stats(`dl-local/${path}`);
      return [s.remoteDownloadCount, s.remoteLastDownloaded];
    };
    const t0 = 1_790_000_000_000;
    for (const p of ['r1.txt', 'r2.txt']) expect((await node.request({ method: 'PUT', url: `/artifactory/dl-local/${p}`, payload: `content of ${p}` })).statusCode).toBe(201);
    let res = await send([
      { path: 'r1.txt', downloadCount: 7, lastDownloaded: t0 },
      { path: '/r2.txt', downloadCount: 2, lastDownloaded: t0 + 5 },
      { path: 'nowhere/x.txt', downloadCount: 1, lastDownloaded: t0 },
    ]);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ applied: 2, missing: 1, refused: 0 });
    expect(await remote('r1.txt')).toEqual([7, t0]);
    expect(await remote('r2.txt')).toEqual([2, t0 + 5]);
    // The site's own counts are untouched.
    expect((await stats('dl-local/r2.txt')).downloadCount).toBe(0);
    // Sent again, or older and smaller: nothing goes down; larger values are taken.
    expect((await send([{ path: 'r1.txt', downloadCount: 3, lastDownloaded: t0 - 1000 }])).json()).toMatchObject({ applied: 1 });
    expect(await remote('r1.txt')).toEqual([7, t0]);
    expect((await send([{ path: 'r1.txt', downloadCount: 9, lastDownloaded: t0 + 60_000 }])).json()).toMatchObject({ applied: 1 });
    expect(await remote('r1.txt')).toEqual([9, t0 + 60_000]);
    // A user who may not deploy there is refused per path, and changes nothing.
    expect((await send([{ path: 'r1.txt', downloadCount: 99, lastDownloaded: t0 + 120_000 }], READER)).json()).toEqual({ applied: 0, missing: 0, refused: 1 });
    expect(await remote('r1.txt')).toEqual([9, t0 + 60_000]);
    expect((await send([], '')).statusCode).toBe(401);
    // Bad requests name what is wrong.
    for (const [items, what] of [
      ['x', /'items' must be an array/],
      [[{ path: 'r1.txt', downloadCount: -1, lastDownloaded: 0 }], /items\[0\]'\.downloadCount/],
      [[{ path: '../r1.txt', downloadCount: 1, lastDownloaded: 0 }], /\.\./],
      [Array.from({ length: 1001 }, () => ({ path: 'r1.txt', downloadCount: 1, lastDownloaded: 0 })), /at most 1000/],
    ] as const) {
      res = await send(items);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.body).toMatch(what);
    }
    expect((await send([], undefined, 'no-such-repo')).statusCode).toBe(404);
  });
});
