import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../core/clock.js';
import type { Database } from '../../../db/database.js';
import { ReplicationEventQueue, type EventQueueOptions } from '../event-queue.js';
import type { ClaimedEvent, ReplicationChange } from '../event-types.js';

export interface EventQueueHarness {
  /** The migrated database the first queue uses. */
  database: Database;
  /** Another connection (pool) to the same database, as a second node opens it. */
  openOther(): Promise<Database>;
  cleanup(): Promise<void>;
}

const T = 'libs-release-local>https://b.example/artifactory/libs';
const LEASE = 30_000;
const deploy = (path: string, n = 1): ReplicationChange => ({ repo: 'libs', path, kind: 'deploy', sha1: n.toString(16).padStart(40, '0'), size: n });
const paths = (events: ClaimedEvent[]) => events.map((e) => e.path);

/**
 * The one suite every database dialect runs against the replication event queue; a dialect's
 * test only passes a factory. Two queues on their own connections play two nodes; both share
 * a fake clock for leases and back-off.
 */
export function eventQueueConformance(name: string, factory: () => Promise<EventQueueHarness>): void {
  describe(`replication event queue conformance: ${name}`, () => {
    let h: EventQueueHarness;
    let clock: FakeClock;
    let q: ReplicationEventQueue;
    const others: Database[] = [];
    const queue = (db: Database, o: EventQueueOptions = {}) => new ReplicationEventQueue(db.db, { clock, random: () => 0, backoffBaseMs: 1_000, backoffCapMs: 8_000, ...o });
    const second = async (o: EventQueueOptions = {}) => {
      const db = await h.openOther();
      others.push(db);
      return queue(db, o);
    };

    beforeEach(async () => {
      h = await factory();
      clock = new FakeClock();
      q = queue(h.database);
    });
    afterEach(async () => {
      for (const db of others.splice(0)) await db.close();
      await h.cleanup();
    });

    it('hands out one event per path at a time, in enqueue order', async () => {
      await q.enqueue(deploy('a/x.jar'), [{ key: T }]);
      await q.enqueue({ repo: 'libs', path: 'a/x.jar', kind: 'props', props: { k: ['v'] } }, [{ key: T }]);
      await q.enqueue(deploy('b/y.jar'), [{ key: T }]);
      await q.enqueue({ repo: 'libs', path: 'a/x.jar', kind: 'delete' }, [{ key: T }]);
      const first = await q.claim(T, 'n1', LEASE, 10);
      expect(first.map((e) => [e.path, e.kind])).toEqual([['a/x.jar', 'deploy'], ['b/y.jar', 'deploy']]);
      expect(first[0].payload).toEqual({ sha1: deploy('', 1).sha1, size: 1 });
      expect(await q.claim(T, 'n2', LEASE, 10)).toEqual([]);
      expect(await q.complete([first[0].id], first[0].fence)).toBe(1);
      const next = await q.claim(T, 'n2', LEASE, 10);
      expect(next.map((e) => e.kind)).toEqual(['props']);
      expect(next[0].payload.props).toEqual({ k: ['v'] });
      await q.complete([next[0].id], next[0].fence);
      const last = await q.claim(T, 'n1', LEASE, 10);
      expect(last.map((e) => e.kind)).toEqual(['delete']);
      // Another target's events are a queue of their own.
      await q.enqueue(deploy('a/x.jar'), [{ key: 'other' }]);
      expect(paths(await q.claim('other', 'n1', LEASE, 10))).toEqual(['a/x.jar']);
    });

    it('delivers at least once and completes idempotently', async () => {
      await q.enqueue(deploy('a.jar'), [{ key: T }]);
      const [e] = await q.claim(T, 'n1', LEASE, 1);
      expect(await q.complete([e.id], e.fence)).toBe(1);
      expect(await q.complete([e.id], e.fence)).toBe(0);
      expect(await q.fail(e.id, e.fence, 'late')).toBe('stale');
      expect(await q.depth(T)).toMatchObject({ pending: 0, failed: 0 });
      // Never completed: handed out again once the lease ran out.
      await q.enqueue(deploy('b.jar'), [{ key: T }]);
      const [b] = await q.claim(T, 'n1', LEASE, 1);
      clock.advance(LEASE);
      const [again] = await q.claim(T, 'n1', LEASE, 1);
      expect(again).toMatchObject({ id: b.id, attempts: 2 });
      expect(again.fence).not.toBe(b.fence);
    });

    it('never gives two racing owners events of the same path', async () => {
      const other = await second();
      for (let i = 0; i < 30; i++) for (let k = 0; k < 3; k++) await q.enqueue(deploy(`p${i}.jar`, i * 3 + k + 1), [{ key: T }]);
      const delivered = new Map<string, number[]>();
      for (let round = 0; round < 200; round++) {
        const [a, b] = await Promise.all([q.claim(T, 'A', LEASE, 7), other.claim(T, 'B', LEASE, 7)]);
        if (a.length === 0 && b.length === 0) break;
        const inA = new Set(paths(a));
        for (const p of paths(b)) expect(inA.has(p), `path ${p} handed to both owners`).toBe(false);
        for (const e of [...a, ...b]) delivered.set(e.path, [...(delivered.get(e.path) ?? []), e.payload.size!]);
        await Promise.all([a.length ? q.complete(a.map((e) => e.id), a[0].fence) : 0, b.length ? other.complete(b.map((e) => e.id), b[0].fence) : 0]);
      }
      expect(delivered.size).toBe(30);
      for (let i = 0; i < 30; i++) expect(delivered.get(`p${i}.jar`)).toEqual([i * 3 + 1, i * 3 + 2, i * 3 + 3]);
      expect((await q.depth(T)).pending).toBe(0);
    });

    it('never strands an event parked behind one that completes at the same time', async () => {
      const other = await second();
      let enqueued = 0;
      for (let round = 0; round < 40; round++) {
        const drain = async () => {
          const got = await other.claim(T, 'B', LEASE, 5);
          if (got.length) await other.complete(got.map((e) => e.id), got[0].fence);
        };
        await Promise.all([q.enqueue(deploy('hot.jar', round + 1), [{ key: T }]), drain()]);
        enqueued++;
      }
      const sizes: number[] = [];
      for (let i = 0; i < 200 && (await q.depth(T)).pending > 0; i++) {
        const got = await q.claim(T, 'A', LEASE, 5);
        expect(got.length, 'a pending event is neither ready nor behind a pending one').toBeGreaterThan(0);
        sizes.push(...got.map((e) => e.payload.size!));
        await q.complete(got.map((e) => e.id), got[0].fence);
      }
      expect((await q.depth(T)).pending).toBe(0);
      expect(enqueued).toBe(40);
      expect(sizes).toEqual([...sizes].sort((x, y) => x - y));
    });

    it('lets another owner take over an expired lease and fences the first one out', async () => {
      const other = await second();
      await q.enqueue(deploy('a.jar', 1), [{ key: T }]);
      await q.enqueue(deploy('a.jar', 2), [{ key: T }]);
      const [mine] = await q.claim(T, 'dead-node', LEASE, 5);
      expect(await other.claim(T, 'B', LEASE, 5)).toEqual([]);
      clock.advance(LEASE - 1);
      expect(await other.claim(T, 'B', LEASE, 5)).toEqual([]);
      clock.advance(1);
      const taken = await other.claim(T, 'B', LEASE, 5);
      expect(taken).toHaveLength(1);
      expect(taken[0]).toMatchObject({ id: mine.id, attempts: 2 });
      // The first owner comes back: its fence no longer holds.
      expect(await q.complete([mine.id], mine.fence)).toBe(0);
      expect(await q.fail(mine.id, mine.fence, 'x')).toBe('stale');
      expect(await q.extend([mine.id], mine.fence, LEASE)).toBe(0);
      expect(await other.extend([mine.id], taken[0].fence, LEASE)).toBe(1);
      expect(await q.claim(T, 'A', LEASE, 5)).toEqual([]);
      expect(await other.complete([taken[0].id], taken[0].fence)).toBe(1);
      expect((await q.claim(T, 'A', LEASE, 5)).map((e) => e.payload.size)).toEqual([2]);
    });

    it('marks failed an event whose lease ran out on every allowed attempt', async () => {
      const bq = queue(h.database, { maxAttempts: 2 });
      await bq.enqueue(deploy('a.jar', 1), [{ key: T }]);
      await bq.enqueue(deploy('a.jar', 2), [{ key: T }]);
      for (const attempt of [1, 2]) {
        const [e] = await bq.claim(T, `dies-${attempt}`, LEASE, 5);
        expect(e).toMatchObject({ attempts: attempt });
        clock.advance(LEASE);
      }
      expect(await bq.claim(T, 'A', LEASE, 5)).toEqual([]);
      expect(await bq.depth(T)).toMatchObject({ pending: 1, failed: 1 });
      expect((await bq.claim(T, 'A', LEASE, 5)).map((x) => x.payload.size)).toEqual([2]);
    });

    it('backs off exponentially up to the cap, then marks the event failed and lets the path go on', async () => {
      const bq = queue(h.database, { maxAttempts: 5 });
      await bq.enqueue(deploy('a.jar', 1), [{ key: T }]);
      await bq.enqueue(deploy('a.jar', 2), [{ key: T }]);
      const waits = [1_000, 2_000, 4_000, 8_000];
      for (const wait of waits) {
        const [e] = await bq.claim(T, 'A', LEASE, 5);
        expect(e.payload.size).toBe(1);
        expect(await bq.fail(e.id, e.fence, 'target down')).toBe('retry');
        clock.advance(wait - 1);
        expect(await bq.claim(T, 'A', LEASE, 5)).toEqual([]);
        clock.advance(1);
      }
      const [e] = await bq.claim(T, 'A', LEASE, 5);
      expect(e.attempts).toBe(5);
      expect(await bq.fail(e.id, e.fence, 'target down')).toBe('failed');
      expect(await bq.depth(T)).toMatchObject({ pending: 1, failed: 1 });
      expect(await bq.failedEvents(T)).toEqual([{ id: e.id, repo: 'libs', path: 'a.jar', kind: 'deploy', error: 'target down' }]);
      expect((await bq.claim(T, 'A', LEASE, 5)).map((x) => x.payload.size)).toEqual([2]);
      expect(await bq.discardFailed(T, [e.id])).toBe(1);
      // Jitter only ever shortens a wait, and never below (1 - jitter) of it.
      const jittery = queue(h.database, { random: () => 1, jitter: 0.25 });
      expect(jittery.backoffMs(1)).toBe(750);
      expect(jittery.backoffMs(60)).toBe(6_000);
    });

    it('prunes delivered events in bounded batches and keeps pending and failed ones', async () => {
      for (let i = 0; i < 25; i++) await q.enqueue(deploy(`d${i}.jar`), [{ key: T }]);
      const all = await q.claim(T, 'A', LEASE, 25);
      expect(all).toHaveLength(25);
      await q.complete(all.map((e) => e.id), all[0].fence);
      await q.enqueue(deploy('pending.jar'), [{ key: T }]);
      clock.advance(1);
      expect(await q.prune(clock.now(), 10, 2)).toEqual({ removed: 20, more: true });
      expect(await q.prune(clock.now(), 10, 2)).toEqual({ removed: 5, more: false });
      expect(await q.prune(clock.now(), 10, 2)).toEqual({ removed: 0, more: false });
      expect((await q.depth(T)).pending).toBe(1);
    });

    it('counts depth and lag per target', async () => {
      expect(await q.depth(T)).toEqual({ pending: 0, failed: 0, oldestPending: null, lagMs: 0 });
      const start = clock.now();
      await q.enqueue(deploy('a.jar'), [{ key: T }, { key: 'other' }]);
      clock.advance(5_000);
      await q.enqueue(deploy('a.jar', 2), [{ key: T }]);
      await q.enqueue(deploy('b.jar'), [{ key: T }]);
      expect(await q.depth(T)).toEqual({ pending: 3, failed: 0, oldestPending: start, lagMs: 5_000 });
      expect((await q.depth('other')).pending).toBe(1);
    });

    it('rolls an event back with the transaction it was enqueued in', async () => {
      await expect(
        h.database.db.transaction().execute(async (trx) => {
          expect(await q.enqueue(deploy('a.jar'), [{ key: T }], trx)).toBe(1);
          throw new Error('deploy failed');
        }),
      ).rejects.toThrow('deploy failed');
      expect((await q.depth(T)).pending).toBe(0);
      await h.database.db.transaction().execute((trx) => q.enqueue(deploy('a.jar'), [{ key: T }], trx));
      expect((await q.depth(T)).pending).toBe(1);
    });

    it('never writes an event for a target of the site the change came from', async () => {
      const change = { ...deploy('a.jar'), origin: 'site-b' };
      expect(await q.enqueue(change, [{ key: 'to-b', siteId: 'site-b' }, { key: 'to-c', siteId: 'site-c' }])).toBe(1);
      expect((await q.depth('to-b')).pending).toBe(0);
      const [e] = await q.claim('to-c', 'A', LEASE, 1);
      expect(e.origin).toBe('site-b');
    });

    it('refuses an unknown kind, a move without destination and an oversized payload', async () => {
      await expect(q.enqueue({ repo: 'libs', path: 'a', kind: 'copy' as never }, [{ key: T }])).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      await expect(q.enqueue({ repo: 'libs', path: 'a', kind: 'move' }, [{ key: T }])).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      await expect(q.enqueue({ repo: 'libs', path: 'a', kind: 'props', props: { k: ['x'.repeat(5000)] } }, [{ key: T }])).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      await expect(q.enqueue({ repo: 'libs', path: 'p'.repeat(2049), kind: 'delete' }, [{ key: T }])).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      await expect(q.enqueue({ repo: 'libs', path: 'a', kind: 'delete' }, [{ key: 'k'.repeat(201) }])).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      expect((await q.depth(T)).pending).toBe(0);
    });
  });
}
