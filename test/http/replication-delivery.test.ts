import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/databases.js';
import { ADMIN_PASSWORD } from '../helpers/node-context.js';
import { startSites, testRunner, until, type Sites } from '../helpers/replication-sites.js';
import type { ReplicationRunner } from '../../src/services/replication/runner.js';
import { targetKey } from '../../src/services/replication/target-key.js';
import type { ReplicationChange } from '../../src/services/replication/event-types.js';

const sha1 = (b: string) => createHash('sha1').update(b).digest('hex');

/**
 * Event delivery between two in-process sites (issue 16, item 3): events the source's change
 * capture records (and some enqueued directly) are delivered state-based to a real Arca target over HTTP (deploy, properties,
 * delete, move), retried with back-off while the target is down, and taken over after the
 * lease of a worker that died ran out. The source runs on every test dialect (SQLite, PostgreSQL, MariaDB when available).
 */
describe.each(DIALECTS)('replication event delivery from %s', (dialect) => {
  let sites: Sites;
  let runner: ReplicationRunner;
  let url: string;
  let key: string;

  const put = (path: string, body: string) => sites.source.request({ method: 'PUT', url: `/artifactory/src-local/${path}`, payload: body });
  const onTarget = (path: string) => sites.target.request({ method: 'GET', url: `/artifactory/dst-local/${path}` });
  const enqueue = (change: Omit<ReplicationChange, 'repo'>) => runner.queue.enqueue({ repo: 'src-local', ...change }, [{ key }]);
  // The node's change capture records each deploy, property change and delete (branch i16-capture).
  const deployed = async (path: string, body: string) => {
    expect((await put(path, body)).statusCode).toBe(201);
  };

  beforeAll(async () => {
    sites = await startSites(dialect);
    for (const [node, repo] of [[sites.source, 'src-local'], [sites.target, 'dst-local']] as const) {
      const res = await node.request({ method: 'PUT', url: `/artifactory/api/repositories/${repo}`, payload: { rclass: 'local', packageType: 'generic' } });
      expect(res.statusCode, res.body).toBe(200);
    }
    url = `${sites.base}/dst-local`;
    const cfg = { url, username: 'admin', password: ADMIN_PASSWORD, cronExp: '0 0 0 1 1 ?', enableEventReplication: true, syncDeletes: true, syncProperties: true };
    expect((await sites.source.request({ method: 'PUT', url: '/artifactory/api/replications/src-local', payload: cfg })).statusCode).toBe(201);
    key = targetKey('src-local', url);
    runner = testRunner(sites.source, sites.network, { backoffBaseMs: 200 });
    runner.start();
  });
  afterAll(async () => {
    await runner?.stop();
    await sites?.close();
  });

  it('delivers a deploy: by checksum when the target has the binary, else with the body', async () => {
    const from = sites.proxy.seen.length;
    await deployed('lib/a.txt', 'alpha');
    await until(async () => (await onTarget('lib/a.txt')).statusCode === 200, 10_000, 'a.txt on the target');
    expect((await onTarget('lib/a.txt')).body).toBe('alpha');
    // The target said it lacks the binary (POST /api/replication/binaries): the body at once, no checksum deploy answered 404.
    expect(sites.proxy.seen.slice(from).filter((r) => r.method === 'POST' && r.url.endsWith('/api/replication/binaries'))).toHaveLength(1);
    expect(sites.proxy.puts(from)).toMatchObject({ bodies: 1, checksum: 0, bytes: 5 });
    // Same content at another path: the checksum deploy is enough.
    const next = sites.proxy.seen.length;
    await deployed('lib/copy.txt', 'alpha');
    await until(async () => (await onTarget('lib/copy.txt')).statusCode === 200, 10_000, 'copy.txt');
    expect(sites.proxy.puts(next)).toMatchObject({ bodies: 0, checksum: 1 });
    // Completed just after the target answered.
    await until(async () => (await runner.queue.depth(key)).pending === 0, 10_000, 'queue drained');
    expect(await runner.queue.depth(key)).toMatchObject({ pending: 0, failed: 0, lagMs: 0 });
  });

  it('sends properties as matrix parameters, and state-based: what the source holds now', async () => {
    await deployed('lib/p.txt', 'props');
    const set = await sites.source.request({ method: 'PUT', url: '/artifactory/api/storage/src-local/lib/p.txt?properties=team=core;tag=a%2Cb' });
    expect(set.statusCode, set.body).toBe(204);
    // The storage API reads an encoded comma as a separator too: the source holds two values.
    const source = await sites.source.request({ method: 'GET', url: '/artifactory/api/storage/src-local/lib/p.txt?properties' });
    expect(source.json().properties).toEqual({ team: ['core'], tag: ['a', 'b'] });
    const sorted = (p: Record<string, string[]>) => JSON.stringify(Object.fromEntries(Object.entries(p).sort()));
    await until(async () => {
      const r = await sites.target.request({ method: 'GET', url: '/artifactory/api/storage/dst-local/lib/p.txt?properties' });
      return r.statusCode === 200 && sorted(r.json().properties) === sorted(source.json().properties);
    }, 10_000, 'properties on the target');
  });

  it('deletes on the target only what the source no longer has (syncDeletes)', async () => {
    await deployed('lib/gone.txt', 'gone');
    await deployed('lib/kept.txt', 'kept');
    await until(async () => (await onTarget('lib/kept.txt')).statusCode === 200, 10_000, 'kept.txt');
    expect((await sites.source.request({ method: 'DELETE', url: '/artifactory/src-local/lib/gone.txt' })).statusCode).toBe(204);
    // A stale delete event of a path the source has again deletes nothing.
    await enqueue({ path: 'lib/kept.txt', kind: 'delete' });
    await until(async () => (await onTarget('lib/gone.txt')).statusCode === 404, 10_000, 'gone.txt deleted');
    await until(async () => (await runner.queue.depth(key)).pending === 0, 10_000, 'queue drained');
    expect((await onTarget('lib/kept.txt')).statusCode).toBe(200);
  });

  it('delivers a move as a deploy at the destination and a delete at the source path', async () => {
    await deployed('mv/from.txt', 'moving');
    await until(async () => (await onTarget('mv/from.txt')).statusCode === 200, 10_000, 'from.txt');
    const mv = await sites.source.request({ method: 'POST', url: '/artifactory/api/move/src-local/mv/from.txt?to=/src-local/mv/to.txt' });
    expect(mv.statusCode, mv.body).toBe(200);
    // The capture records a move as a deploy and a delete; a `move` event (another sender's) is delivered alike.
    await enqueue({ path: 'mv/from.txt', kind: 'move', to: 'mv/to.txt', sha1: sha1('moving') });
    await until(async () => (await onTarget('mv/to.txt')).statusCode === 200 && (await onTarget('mv/from.txt')).statusCode === 404, 10_000, 'the move on the target');
  });

  it('retries with back-off while the target is down, then delivers', async () => {
    await until(async () => (await runner.queue.depth(key)).pending === 0, 10_000, 'queue drained');
    sites.proxy.down = true;
    try {
      await deployed('down/x.txt', 'while down');
      await until(async () => {
        const row = await sites.source.ctx.database.db.selectFrom('replication_events').select(['attempts', 'state', 'last_error']).where('path', '=', 'down/x.txt').executeTakeFirst();
        return Number(row?.attempts ?? 0) >= 2 && Number(row?.state) === 0;
      }, 10_000, 'two failed attempts');
      expect((await runner.queue.depth(key)).pending).toBe(1);
    } finally {
      sites.proxy.down = false;
    }
    await until(async () => (await onTarget('down/x.txt')).statusCode === 200, 15_000, 'delivery after the target is back');
    const state = async () => Number((await sites.source.ctx.database.db.selectFrom('replication_events').select(['state']).where('path', '=', 'down/x.txt').executeTakeFirstOrThrow()).state);
    await until(async () => (await state()) === 1, 10_000, 'the event completed');
  });

  it("takes over an event whose worker died once its lease ran out; the dead worker's fence is void", async () => {
    await runner.stop();
    try {
      await deployed('lease/y.txt', 'leased');
      // A worker claims it and dies (never completes).
      const [dead] = await runner.queue.claim(key, 'dead-worker', 500, 1);
      expect(dead?.path).toBe('lease/y.txt');
      runner.start();
      await until(async () => (await onTarget('lease/y.txt')).statusCode === 200, 10_000, 'delivery after the takeover');
      await until(async () => (await runner.queue.depth(key)).pending === 0, 10_000, 'queue drained');
      expect(await runner.queue.complete([dead!.id], dead!.fence)).toBe(0);
      const row = await sites.source.ctx.database.db.selectFrom('replication_events').select(['attempts', 'state', 'lease_owner']).where('id', '=', dead!.id).executeTakeFirstOrThrow();
      expect(Number(row.attempts)).toBe(2);
      expect(Number(row.state)).toBe(1);
      expect(row.lease_owner).not.toBe('dead-worker');
    } finally {
      runner.start();
    }
  });

  it('holds events while push replication is blocked, and delivers them once unblocked', async () => {
    expect((await sites.source.request({ method: 'POST', url: '/artifactory/api/replication/block?push=true&pull=false' })).statusCode).toBe(200);
    // The workers read the switch again every refreshMs (100 ms here, 1 s by default).
    await new Promise((r) => setTimeout(r, 400));
    try {
      await deployed('blocked/z.txt', 'blocked');
      await new Promise((r) => setTimeout(r, 600));
      expect((await onTarget('blocked/z.txt')).statusCode).toBe(404);
      expect((await runner.queue.depth(key)).pending).toBe(1);
    } finally {
      await sites.source.request({ method: 'POST', url: '/artifactory/api/replication/unblock' });
    }
    await until(async () => (await onTarget('blocked/z.txt')).statusCode === 200, 10_000, 'delivery after unblock');
  });

  it('shows queue depth and lag in the status, and counts delivered events in the metrics', async () => {
    await until(async () => (await runner.queue.depth(key)).pending === 0, 10_000, 'queue drained');
    const status = (await sites.source.request({ method: 'GET', url: '/artifactory/api/replication/src-local' })).json();
    expect(status.targets[0]).toMatchObject({ url, eventReplication: true, queue: { pending: 0, failed: 0, lagSeconds: 0 } });
    const snap = await sites.source.ctx.collectMetrics();
    const delivered = snap['arca_replication_events_delivered_total'];
    expect(delivered && delivered.type !== 'histogram' ? delivered.values[`target="${key}"`] : 0).toBeGreaterThanOrEqual(8);
  });
});
