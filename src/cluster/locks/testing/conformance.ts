import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock, type Clock } from '../../../core/clock.js';
import type { Database } from '../../../db/database.js';
import { LockLostError, LockTimeoutError, type BaseOptions, type LockLease, type LockManager } from '../lock-manager.js';

export interface LockHarness {
  /** A manager on its own connections, as one node (or worker process) opens it. */
  open(clock: Clock, options?: BaseOptions): Promise<LockManager>;
  /** The main database the critical sections write to (migrated, shared with the managers). */
  database: Database;
  cleanup(): Promise<void>;
}

const LEASE = 30_000;
const pending = Symbol('pending');
const settledWithin = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<typeof pending>((r) => setTimeout(() => r(pending), ms))]);

/**
 * The one suite every LockManager runs; an implementation's test only passes a factory. Three
 * in-process "nodes" (managers on their own connections) share a fake clock for leases.
 */
export function lockManagerConformance(name: string, factory: () => Promise<LockHarness>): void {
  describe(`LockManager conformance: ${name}`, () => {
    let h: LockHarness;
    let clock: FakeClock;
    let a: LockManager;
    let b: LockManager;
    let c: LockManager;
    const opened: LockManager[] = [];
    const open = async (options?: BaseOptions) => {
      const m = await h.open(clock, options);
      opened.push(m);
      return m;
    };
    /** Writes a marker row inside a fenced transaction; returns whether it committed. */
    const fencedWrite = async (m: LockManager, lease: LockLease, key: string, extendMs?: number) => {
      try {
        await h.database.db.transaction().execute(async (trx) => {
          await trx.insertInto('system_config').values({ config_key: key, config_value: '"x"', modified: 0 }).execute();
          await m.assertHeld(trx, lease, extendMs);
        });
        return true;
      } catch (err) {
        if (err instanceof LockLostError) return false;
        throw err;
      }
    };
    const written = async (key: string) =>
      (await h.database.db.selectFrom('system_config').select('config_key').where('config_key', '=', key).executeTakeFirst()) !== undefined;

    beforeEach(async () => {
      h = await factory();
      clock = new FakeClock();
      [a, b, c] = [await open(), await open(), await open()];
    });
    afterEach(async () => {
      for (const m of opened.splice(0)) await m.close();
      await h.cleanup();
    });

    it('grants a free lock, refuses it to everyone (its owner too) while held, and grants it again after release with a greater token', async () => {
      const first = await a.tryAcquire('gc', 'node-a', LEASE);
      expect(first).toMatchObject({ name: 'gc', owner: 'node-a', acquiredAt: clock.now(), expiresAt: clock.now() + LEASE });
      expect(await b.tryAcquire('gc', 'node-b', LEASE)).toBeUndefined();
      expect(await a.tryAcquire('gc', 'node-a', LEASE)).toBeUndefined();
      expect(await a.inspect('gc')).toMatchObject({ owner: 'node-a', token: first!.token, held: true });
      expect(await a.release(first!)).toBe(true);
      expect(await a.release(first!)).toBe(false);
      expect(await a.inspect('gc')).toMatchObject({ owner: null, held: false });
      const second = await b.tryAcquire('gc', 'node-b', LEASE);
      expect(second!.token).toBeGreaterThan(first!.token);
    });

    it('keeps locks of different names apart and lists them by prefix', async () => {
      const x = await a.tryAcquire('task:gc', 'node-a', LEASE);
      const y = await b.tryAcquire('task:backup', 'node-b', LEASE);
      const z = await c.tryAcquire('other', 'node-c', LEASE);
      expect([x, y, z].every(Boolean)).toBe(true);
      expect((await c.list('task:')).map((l) => [l.name, l.owner])).toEqual([
        ['task:backup', 'node-b'],
        ['task:gc', 'node-a'],
      ]);
      expect((await c.list()).length).toBe(3);
      expect(await c.inspect('missing')).toBeUndefined();
    });

    it('lets another owner take an expired lease, with a strictly greater token, and fences the stale holder', async () => {
      const stale = (await a.tryAcquire('backup', 'node-a', LEASE))!;
      clock.advance(LEASE - 1);
      expect(await b.tryAcquire('backup', 'node-b', LEASE)).toBeUndefined();
      clock.advance(1);
      expect(await c.inspect('backup')).toMatchObject({ owner: 'node-a', held: false });
      const fresh = (await b.tryAcquire('backup', 'node-b', LEASE))!;
      expect(fresh.token).toBeGreaterThan(stale.token);
      expect(await fencedWrite(a, stale, 'stale-write')).toBe(false);
      expect(await written('stale-write')).toBe(false);
      expect(await fencedWrite(b, fresh, 'fresh-write')).toBe(true);
      expect(await written('fresh-write')).toBe(true);
      expect(await a.renew(stale, LEASE)).toBeUndefined();
      expect(await a.release(stale)).toBe(false);
      expect(await c.inspect('backup')).toMatchObject({ owner: 'node-b', token: fresh.token, held: true });
    });

    it('tokens grow on every acquisition across owners', async () => {
      const tokens: number[] = [];
      const managers = [a, b, c, a, b, c];
      for (let i = 0; i < managers.length; i++) {
        const lease = (await managers[i].tryAcquire('seq', `owner-${i}`, LEASE))!;
        tokens.push(lease.token);
        if (i % 2 === 0) await managers[i].release(lease);
        else clock.advance(LEASE);
      }
      for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]);
    });

    it('renew extends a current lease; an expired lease nobody took is still current', async () => {
      let lease = (await a.tryAcquire('renewed', 'node-a', LEASE))!;
      clock.advance(LEASE - 1000);
      lease = (await a.renew(lease, LEASE))!;
      expect(lease.expiresAt).toBe(clock.now() + LEASE);
      clock.advance(LEASE - 1000);
      expect(await b.tryAcquire('renewed', 'node-b', LEASE)).toBeUndefined();
      clock.advance(5000);
      // Expired, but no other owner acquired it: renewing revives it and fencing still passes.
      const revived = await a.renew(lease, LEASE);
      expect(revived).toMatchObject({ token: lease.token, expiresAt: clock.now() + LEASE });
      expect(await b.tryAcquire('renewed', 'node-b', LEASE)).toBeUndefined();
      expect(await fencedWrite(a, revived!, 'revived-write')).toBe(true);
    });

    it('assertHeld can extend the lease inside the critical section', async () => {
      const lease = (await a.tryAcquire('extend', 'node-a', LEASE))!;
      clock.advance(LEASE - 1);
      expect(await fencedWrite(a, lease, 'extended', LEASE)).toBe(true);
      clock.advance(LEASE - 1);
      expect(await b.tryAcquire('extend', 'node-b', LEASE)).toBeUndefined();
      expect(await a.inspect('extend')).toMatchObject({ expiresAt: clock.now() + 1, held: true });
    });

    it('a takeover waits for the holder’s fenced transaction to commit', async () => {
      const lease = (await a.tryAcquire('section', 'node-a', LEASE))!;
      let finish!: () => void;
      const inside = new Promise<void>((r) => (finish = r));
      let fenced!: () => void;
      const fencedYet = new Promise<void>((r) => (fenced = r));
      const section = h.database.db.transaction().execute(async (trx) => {
        await a.assertHeld(trx, lease);
        fenced();
        await inside;
        await trx.insertInto('system_config').values({ config_key: 'in-section', config_value: '"x"', modified: 0 }).execute();
      });
      await fencedYet;
      clock.advance(LEASE);
      const takeover = b.tryAcquire('section', 'node-b', LEASE);
      expect(await settledWithin(takeover, 300)).toBe(pending);
      finish();
      await section;
      const taken = await takeover;
      expect(taken!.token).toBeGreaterThan(lease.token);
      expect(await written('in-section')).toBe(true);
    });

    it('a waiting acquire gets the lock when it is released', async () => {
      const held = (await a.tryAcquire('wait', 'node-a', LEASE))!;
      const waiting = b.acquire('wait', 'node-b', LEASE, { timeoutMs: 60_000, pollMs: 5 });
      expect(await settledWithin(waiting, 50)).toBe(pending);
      await a.release(held);
      const got = await waiting;
      expect(got).toMatchObject({ owner: 'node-b' });
      expect(got.token).toBeGreaterThan(held.token);
    });

    it('a waiting acquire times out on the manager’s clock and names the holder', async () => {
      const ticking = await open({ sleep: async (ms) => clock.advance(ms) });
      const held = (await a.tryAcquire('busy', 'node-a', 10 * 60_000))!;
      const err = await ticking.acquire('busy', 'node-x', LEASE, { timeoutMs: 5_000, pollMs: 1_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LockTimeoutError);
      expect((err as Error).message).toMatch(/'busy'.*held by 'node-a'/);
      // When the lease expires within the timeout, the waiter gets the lock.
      clock.advance(held.expiresAt - clock.now() - 2_000);
      await expect(ticking.acquire('busy', 'node-x', LEASE, { timeoutMs: 5_000, pollMs: 1_000 })).resolves.toMatchObject({ owner: 'node-x' });
    });

    it('of many concurrent acquirers on separate connections exactly one wins, every time', async () => {
      const managers = [a, b, c];
      for (let i = 0; i < 5; i++) managers.push(await open());
      let lastToken = 0;
      for (let round = 0; round < 3; round++) {
        const tries = managers.flatMap((m, i) => [0, 1, 2].map((j) => m.tryAcquire('race', `owner-${i}-${j}`, LEASE)));
        const winners = (await Promise.all(tries)).filter((l): l is LockLease => l !== undefined);
        expect(winners.length).toBe(1);
        expect(winners[0].token).toBeGreaterThan(lastToken);
        lastToken = winners[0].token;
        if (round === 0) await managers[0].release(winners[0]);
        else clock.advance(LEASE);
      }
    });

    it('refuses malformed arguments', async () => {
      await expect(a.tryAcquire('', 'node-a', LEASE)).rejects.toThrow(RangeError);
      await expect(a.tryAcquire('x'.repeat(192), 'node-a', LEASE)).rejects.toThrow(RangeError);
      await expect(a.tryAcquire('ok', 'node-a', 0)).rejects.toThrow(RangeError);
      await expect(a.tryAcquire('ok', '', LEASE)).rejects.toThrow(RangeError);
    });
  });
}
