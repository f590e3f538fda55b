import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD } from '../helpers/node-context.js';
import { startSites, testRunner, until, type Sites } from '../helpers/replication-sites.js';
import type { ReplicationRunner } from '../../src/services/replication/runner.js';
import { ReplicationEventQueue } from '../../src/services/replication/event-queue.js';
import { targetKey } from '../../src/services/replication/target-key.js';

const sha1 = (b: string) => createHash('sha1').update(b).digest('hex');
const log = pino({ level: 'silent' });

/**
 * Scheduled runs (issue 16, items 2 and 4) between two in-process sites: a push compares
 * both sides by checksum and sends only the difference (bodies only for binaries the target
 * lacks), deletes with syncDeletes only, follows the path rules, discards failed events it
 * covered; a pull pre-warms a remote repository from an Arca upstream; the cluster task
 * starts due runs and records them; the status API shows the result.
 */
describe('replication scheduled runs', () => {
  let sites: Sites;
  let runner: ReplicationRunner;
  let n = 0;

  const put = (node: 'source' | 'target', repo: string, path: string, body: string) => sites[node].request({ method: 'PUT', url: `/artifactory/${repo}/${path}`, payload: body });
  const get = (repo: string, path: string) => sites.target.request({ method: 'GET', url: `/artifactory/${repo}/${path}` });
  const repo = async (node: 'source' | 'target', body: Record<string, unknown> = { rclass: 'local', packageType: 'generic' }) => {
    const key = `r${++n}-${node}`;
    const res = await sites[node].request({ method: 'PUT', url: `/artifactory/api/repositories/${key}`, payload: body });
    expect(res.statusCode, res.body).toBe(200);
    return key;
  };
  const replicate = async (src: string, dst: string, extra: Record<string, unknown> = {}) => {
    const url = `${sites.base}/${dst}`;
    const res = await sites.source.request({ method: 'PUT', url: `/artifactory/api/replications/${src}`, payload: { url, username: 'admin', password: ADMIN_PASSWORD, cronExp: '0 0 0 1 1 ?', ...extra } });
    expect(res.statusCode, res.body).toBe(201);
    return url;
  };
  const runOf = async (src: string) => {
    const [row] = await sites.source.ctx.replications.rows(src);
    return runner.runOne(row!, { signal: new AbortController().signal, log });
  };

  beforeAll(async () => {
    sites = await startSites();
    runner = testRunner(sites.source, sites.network);
  });
  afterAll(async () => {
    await sites?.close();
  });

  it('sends only what differs: bodies for missing binaries, checksum deploys for known ones; deletes only with syncDeletes', async () => {
    const src = await repo('source');
    const dst = await repo('target');
    for (let i = 0; i < 20; i++) expect((await put('source', src, `f/${i}.txt`, `file ${i}`)).statusCode).toBe(201);
    for (let i = 0; i < 5; i++) await put('target', dst, `f/${i}.txt`, `file ${i}`); // same
    for (let i = 5; i < 7; i++) await put('target', dst, `f/${i}.txt`, `changed ${i}`); // differs
    for (let i = 7; i < 10; i++) await put('target', dst, `elsewhere/${i}.txt`, `file ${i}`); // binary known to the target
    for (let i = 0; i < 3; i++) await put('target', dst, `extra/${i}.txt`, `extra ${i}`); // only on the target
    await replicate(src, dst, { syncDeletes: false, syncProperties: false });

    const from = sites.proxy.seen.length;
    const first = await runOf(src);
    expect(first).toMatchObject({ status: 'ok', counts: { listed: 13, scanned: 20, unchanged: 5, byChecksum: 3, withBody: 12, deleted: 0, errors: 0 } });
    // 15 sent after one question about their binaries: the 3 the target holds by checksum, the 12 others with their body at once.
    expect(sites.proxy.seen.slice(from).filter((r) => r.method === 'POST' && r.url.endsWith('/api/replication/binaries'))).toHaveLength(1);
    expect(sites.proxy.puts(from)).toMatchObject({ checksum: 3, bodies: 12 });
    expect((await get(dst, 'f/6.txt')).body).toBe('file 6');
    expect((await get(dst, 'extra/0.txt')).statusCode).toBe(200);
    expect(readdirSync(sites.source.ctx.layout.tmp).filter((f) => f.startsWith('replication-'))).toEqual([]);

    // Nothing left to send; with syncDeletes the target's extra files go.
    await sites.source.request({ method: 'POST', url: `/artifactory/api/replications/${src}`, payload: { syncDeletes: true } });
    const again = sites.proxy.seen.length;
    const second = await runOf(src);
    expect(second).toMatchObject({ status: 'ok', counts: { scanned: 20, unchanged: 20, deleted: 6 } });
    expect(sites.proxy.puts(again)).toMatchObject({ checksum: 0, bodies: 0 });
    expect((await get(dst, 'extra/0.txt')).statusCode).toBe(404);
  });

  it('follows includePathPrefixPattern and excludePathPrefixPattern (and deletes nothing outside them)', async () => {
    const src = await repo('source');
    const dst = await repo('target');
    for (const p of ['lib/a.txt', 'lib/skip/b.txt', 'doc/c.txt']) await put('source', src, p, p);
    await put('target', dst, 'doc/outside.txt', 'not ours');
    await replicate(src, dst, { includePathPrefixPattern: 'lib/', excludePathPrefixPattern: 'lib/skip/', syncDeletes: true });
    const r = await runOf(src);
    expect(r).toMatchObject({ status: 'ok', counts: { scanned: 1, withBody: 1, deleted: 0 } });
    expect((await get(dst, 'lib/a.txt')).statusCode).toBe(200);
    expect((await get(dst, 'lib/skip/b.txt')).statusCode).toBe(404);
    expect((await get(dst, 'doc/c.txt')).statusCode).toBe(404);
    expect((await get(dst, 'doc/outside.txt')).statusCode).toBe(200);
  });

  it('sends properties of unchanged files once, then only when they change; discards failed events it covered', async () => {
    const src = await repo('source');
    const dst = await repo('target');
    await put('source', src, 'p.txt', 'with props');
    await put('target', dst, 'p.txt', 'with props');
    await sites.source.request({ method: 'PUT', url: `/artifactory/api/storage/${src}/p.txt?properties=k=v1` });
    const url = await replicate(src, dst, { syncProperties: true });
    // A failed event from before the run: the run covers it.
    const key = targetKey(src, url);
    const oneTry = new ReplicationEventQueue(sites.source.ctx.database.db, { maxAttempts: 1 });
    await oneTry.enqueue({ repo: src, path: 'p.txt', kind: 'props' }, [{ key }]);
    const [ev] = await oneTry.claim(key, 'w', 10_000, 1);
    expect(await oneTry.fail(ev!.id, ev!.fence, 'target down')).toBe('failed');
    expect((await runner.queue.depth(key)).failed).toBe(1);

    const first = await runOf(src);
    expect(first).toMatchObject({ status: 'ok', counts: { propsOnly: 1, withBody: 0, discardedFailedEvents: 1 } });
    expect((await sites.target.request({ method: 'GET', url: `/artifactory/api/storage/${dst}/p.txt?properties` })).json().properties).toEqual({ k: ['v1'] });
    expect((await runner.queue.depth(key)).failed).toBe(0);
    await new Promise((r) => setTimeout(r, 5));
    expect((await runOf(src)).counts).toMatchObject({ propsOnly: 0, unchanged: 1 });
    await sites.source.request({ method: 'PUT', url: `/artifactory/api/storage/${src}/p.txt?properties=k=v2` });
    expect((await runOf(src)).counts).toMatchObject({ propsOnly: 1 });
    expect((await sites.target.request({ method: 'GET', url: `/artifactory/api/storage/${dst}/p.txt?properties` })).json().properties).toEqual({ k: ['v2'] });
  });

  it('sends download statistics with syncStatistics: made here, once, then what was downloaded since; none without it', async () => {
    const src = await repo('source');
    const dst = await repo('target');
    for (const f of ['a.txt', 'b.txt', 'c.txt']) await put('source', src, `s/${f}`, `stats ${f}`);
    const download = async (path: string, n: number) => {
      for (let i = 0; i < n; i++) expect((await sites.source.request({ method: 'GET', url: `/artifactory/${src}/${path}` })).statusCode).toBe(200);
      await sites.source.ctx.downloadStats.flush();
    };
    const remoteOf = async (path: string) => {
      const s = (await sites.target.request({ method: 'GET', url: `/artifactory/api/storage/${dst}/${path}?stats` })).json();
      return { count: s.remoteDownloadCount, last: s.remoteLastDownloaded, own: s.downloadCount };
    };
    await download('s/a.txt', 3);
    await download('s/b.txt', 1);
    await replicate(src, dst, { syncStatistics: false });
    expect((await runOf(src)).counts).toMatchObject({ withBody: 3, statistics: 0 });
    expect((await remoteOf('s/a.txt')).count).toBe(0);

    await sites.source.request({ method: 'POST', url: `/artifactory/api/replications/${src}`, payload: { syncStatistics: true } });
    const from = sites.proxy.seen.length;
    expect((await runOf(src)).counts).toMatchObject({ unchanged: 3, statistics: 2, errors: 0 });
    expect(sites.proxy.seen.slice(from).filter((r) => r.url.endsWith(`/api/replication/statistics/${dst}`))).toHaveLength(1);
    const a = await remoteOf('s/a.txt');
    expect(a).toMatchObject({ count: 3, own: 0 });
    expect(a.last).toBeGreaterThan(0);
    expect(await remoteOf('s/b.txt')).toMatchObject({ count: 1 });
    expect(await remoteOf('s/c.txt')).toMatchObject({ count: 0, last: 0 });
    // A download on the target is its own, not the source's.
    expect((await get(dst, 's/c.txt')).statusCode).toBe(200);
    await sites.target.ctx.downloadStats.flush();
    expect(await remoteOf('s/c.txt')).toMatchObject({ count: 0, own: 1 });

    // Nothing downloaded since: nothing sent; then only what was.
    await new Promise((r) => setTimeout(r, 5));
    const quiet = sites.proxy.seen.length;
    expect((await runOf(src)).counts).toMatchObject({ statistics: 0 });
    expect(sites.proxy.seen.slice(quiet).filter((r) => r.url.includes('/api/replication/statistics/'))).toHaveLength(0);
    await download('s/b.txt', 2);
    expect((await runOf(src)).counts).toMatchObject({ statistics: 1 });
    expect(await remoteOf('s/b.txt')).toMatchObject({ count: 3 });
    expect(await remoteOf('s/a.txt')).toMatchObject({ count: 3 });
    // Off for a while, then on again: everything is sent again (downloads made meanwhile included).
    await sites.source.request({ method: 'POST', url: `/artifactory/api/replications/${src}`, payload: { syncStatistics: false } });
    await runOf(src);
    await download('s/a.txt', 1);
    await sites.source.request({ method: 'POST', url: `/artifactory/api/replications/${src}`, payload: { syncStatistics: true } });
    expect((await runOf(src)).counts).toMatchObject({ statistics: 2 });
    expect(await remoteOf('s/a.txt')).toMatchObject({ count: 4 });
  });

  it("never sends a format's transient items (OCI upload sessions) nor deletes them on the target", async () => {
    const { formatHandlers, FORMATS } = await import('../../src/formats/registry.js');
    const oci = formatHandlers(FORMATS).handlerFor('docker');
    expect(oci.transientPath?.('img/_uploads/0b1f0b4e-7f52-4d43-9a0e-6f3c3a0c2b11/part-0')).toBe(true);
    expect(oci.transientPath?.('img/latest/manifest.json')).toBe(false);
    const skipping = testRunner(sites.source, sites.network, { transient: () => (path) => path.startsWith('session/') });
    const src = await repo('source');
    const dst = await repo('target');
    await put('source', src, 'kept/a.txt', 'kept');
    await put('source', src, 'session/part-0', 'transient');
    await put('target', dst, 'session/part-9', 'target-only transient');
    await replicate(src, dst, { syncDeletes: true });
    const [row] = await sites.source.ctx.replications.rows(src);
    const record = await skipping.runOne(row!, { signal: new AbortController().signal, log });
    expect(record.status, JSON.stringify(record)).toBe('ok');
    expect((await get(dst, 'kept/a.txt')).statusCode).toBe(200);
    expect((await get(dst, 'session/part-0')).statusCode).toBe(404);
    expect((await get(dst, 'session/part-9')).statusCode).toBe(200);
  });

  it('records a failed run when the target cannot be reached, with the reason', async () => {
    const src = await repo('source');
    await put('source', src, 'x.txt', 'x');
    const res = await sites.source.request({
      method: 'PUT',
      url: `/artifactory/api/replications/${src}`,
      payload: { url: 'http://127.0.0.1:9/artifactory/nowhere', username: 'admin', password: 'secret-never-logged', cronExp: '0 0 0 1 1 ?', socketTimeoutMillis: 2000 },
    });
    expect(res.statusCode).toBe(201);
    const r = await runOf(src);
    expect(r.status).toBe('failed');
    expect(r.message).toContain('127.0.0.1:9');
    expect(r.message).not.toContain('secret-never-logged');
    const status = (await sites.source.request({ method: 'GET', url: `/artifactory/api/replication/${src}` })).json();
    expect(status).toMatchObject({ status: 'failed', targets: [{ status: 'failed', message: expect.stringContaining('127.0.0.1:9') }] });
  });

  it('pre-warms a remote repository from an Arca upstream (pull), and removes what the upstream deleted with syncDeletes', async () => {
    const upstream = await repo('target');
    for (let i = 0; i < 4; i++) await put('target', upstream, `u/${i}.bin`, `upstream ${i}`);
    const remote = await repo('source', { rclass: 'remote', packageType: 'generic', url: `${sites.base}/${upstream}`, username: 'admin', password: ADMIN_PASSWORD });
    const cfg = await sites.source.request({ method: 'PUT', url: `/artifactory/api/replications/${remote}`, payload: { cronExp: '0 0 0 1 1 ?', syncDeletes: true } });
    expect(cfg.statusCode, cfg.body).toBe(201);
    const first = await runOf(remote);
    expect(first).toMatchObject({ status: 'ok', counts: { listed: 4, cached: 4, errors: 0 } });
    const cached = await sites.source.ctx.database.db.selectFrom('items').select(['name', 'sha1']).where('repo', '=', remote).where('type', '=', 'file').execute();
    expect(cached.map((c) => c.sha1).sort()).toEqual([0, 1, 2, 3].map((i) => sha1(`upstream ${i}`)).sort());
    await sites.target.request({ method: 'DELETE', url: `/artifactory/${upstream}/u/0.bin` });
    const second = await runOf(remote);
    expect(second).toMatchObject({ status: 'ok', counts: { listed: 3, cached: 0, unchanged: 3, removed: 1 } });
  });

  it('a run cut short (its node stops or dies) is not recorded, so it is still due and runs again', async () => {
    const src = await repo('source');
    const dst = await repo('target');
    await put('source', src, 'cut.txt', 'cut');
    await replicate(src, dst);
    await sites.source.request({ method: 'POST', url: `/artifactory/api/replication/execute/${src}` }).catch(() => undefined);
    const [row] = await sites.source.ctx.replications.rows(src);
    const stop = new AbortController();
    stop.abort();
    const { ReplicationRunner: Runner } = await import('../../src/services/replication/runner.js');
    const fresh = { ...row!, lastRun: null };
    await expect(runner.runOne(fresh, { signal: stop.signal, log })).rejects.toThrow();
    expect(Runner.due({ ...fresh, requestedAt: Date.now() }, Date.now())).toBe(true);
    await until(async () => (await sites.source.ctx.replications.rows(src))[0]!.lastRun?.status === 'ok', 15_000, 'the run requested');
    expect((await get(dst, 'cut.txt')).statusCode).toBe(200);
  });

  it('the replication task runs what is due (execute request), not while blocked, and the status shows it', async () => {
    const src = await repo('source');
    const dst = await repo('target');
    await put('source', src, 't.txt', 'task');
    await replicate(src, dst);
    const [row] = await sites.source.ctx.replications.rows(src);
    const { ReplicationRunner: Runner } = await import('../../src/services/replication/runner.js');
    expect(Runner.due(row!, Date.now())).toBe(false);
    await sites.source.request({ method: 'POST', url: '/artifactory/api/replication/block?push=true&pull=false' });
    const exec = await sites.source.request({ method: 'POST', url: `/artifactory/api/replication/execute/${src}` });
    expect(exec.statusCode).toBe(202);
    expect(exec.json().message).toContain('blocked');
    await new Promise((r) => setTimeout(r, 500));
    expect((await sites.source.ctx.replications.rows(src))[0]!.lastRun).toBeNull();
    await sites.source.request({ method: 'POST', url: '/artifactory/api/replication/unblock' });
    const tick = await runner.tick({ signal: new AbortController().signal, log });
    expect(tick.counts).toMatchObject({ ok: expect.any(Number), failed: 0 });
    const [after] = await sites.source.ctx.replications.rows(src);
    expect(after!.lastRun).toMatchObject({ status: 'ok', counts: { withBody: 1 } });
    expect(Runner.due(after!, Date.now())).toBe(false);
    // Through the node's own task: an execute request runs the replication task at once.
    await sites.source.request({ method: 'POST', url: `/artifactory/api/replication/execute/${src}` });
    await until(async () => ((await sites.source.ctx.replications.rows(src))[0]!.lastRun?.started ?? 0) > (after!.lastRun!.started ?? 0), 15_000, 'a second run by the task');
    const status = (await sites.source.request({ method: 'GET', url: `/artifactory/api/replication/${src}` })).json();
    expect(status).toMatchObject({ status: 'ok', blocked: false, targets: [{ status: 'ok', result: { scanned: 1 }, queue: { pending: 0 } }] });
    expect(status.lastCompleted).toMatch(/^\d{4}-/);
  });
});
