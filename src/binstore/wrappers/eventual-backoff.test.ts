import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeTimerClock } from '../../core/clock.js';
import type { BinaryProvider } from '../binary-provider.js';
import { backoffDelay } from './eventual-dispatcher.js';
import { EventualProvider, type EventualOptions } from './eventual-provider.js';
import { FlakyProvider } from './testing/flaky-provider.js';
import { chunksOf, fsChild, tempDir } from './testing/helpers.js';

/** The eventual provider's timers, back-off and deadlines on a fake clock: nothing here waits in real time. */

/** Lets I/O run (setImmediate turns, no timers) until `probe` holds. */
async function until(probe: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100_000; i++) {
    if (probe()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`never happened: ${what}`);
}

async function setup(child: (fs: BinaryProvider) => BinaryProvider, opts: Partial<EventualOptions> = {}) {
  const dir = tempDir('eventual-clock');
  const fs = await fsChild(dir);
  const clock = new FakeTimerClock();
  const provider = await new EventualProvider(child(fs.provider), { dir: join(dir, 'eventual'), dispatcherInterval: 1000, maxBackoff: 8000, workers: 2, clock, ...opts }).init();
  const d = provider.dispatcher;
  /** Waits until nothing is in flight. */
  const settled = async () => {
    while (!d.idle) await d.changed();
  };
  /** Advances the clock by `ms`, which runs one scan of the queue; true when that scan started work (now settled). */
  const step = async (ms: number) => {
    const scanned = d.changed();
    clock.advance(ms);
    await scanned;
    const started = !d.idle;
    await settled();
    return started;
  };
  const put = async () => {
    const staged = await provider.stage(chunksOf(randomBytes(1000)));
    await staged.commit();
    return staged.sha1;
  };
  const done = async () => {
    await provider.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { fs, clock, provider, d, settled, step, put, done };
}

/** An eventual provider over a child that is down, with one binary whose first upload has failed. */
async function afterFirstFailure() {
  let flaky!: FlakyProvider;
  const t = await setup((fs) => (flaky = new FlakyProvider(fs)));
  flaky.down = true;
  const sha1 = await t.put();
  await t.settled();
  return { t, flaky, sha1 };
}

describe('eventual provider on a fake clock', () => {
  it('backs off exponentially from dispatcherInterval up to maxBackoff', () => {
    expect([1, 2, 3, 4, 5, 6, 40].map((n) => backoffDelay(1000, 8000, n))).toEqual([1000, 2000, 4000, 8000, 8000, 8000, 8000]);
    expect(backoffDelay(30, 100, 0)).toBe(30);
  });

  it('tries a failed upload again only when its back-off has passed on the clock, then uploads it once the child is back', async () => {
    const { t, flaky, sha1 } = await afterFirstFailure();
    expect([flaky.callsTo('stage'), t.provider.stats.failures]).toEqual([1, 1]);
    const attempts: number[] = [];
    for (let at = 1000; at <= 31_000; at += 1000) if (await t.step(1000)) attempts.push(at);
    // 1 s, then 2, 4 and 8 s (the cap) after each failure.
    expect(attempts).toEqual([1000, 3000, 7000, 15_000, 23_000, 31_000]);
    expect(flaky.callsTo('stage')).toBe(7);
    expect(await t.provider.pending()).toMatchObject({ adds: 1 });
    flaky.down = false;
    for (let at = 32_000; at < 39_000; at += 1000) expect(await t.step(1000), `at ${at}`).toBe(false);
    expect(await t.step(1000)).toBe(true);
    expect(t.provider.stats.uploaded).toBe(1);
    expect(await t.provider.pending()).toEqual({ adds: 0, addBytes: 0, deletes: 0 });
    expect(existsSync(t.fs.provider.pathOf(sha1))).toBe(true);
    await t.done();
  });

  it('pauses everything new while the child is down, not only the binary that failed', async () => {
    const { t, flaky } = await afterFirstFailure();
    await t.put(); // queued during the pause: not started
    expect(t.d.idle).toBe(true);
    expect(flaky.callsTo('stage')).toBe(1);
    expect(await t.step(1000)).toBe(true);
    expect(flaky.callsTo('stage')).toBe(3);
    await t.done();
  });

  it('drain() gives up after timeoutMs of the clock\'s time while the child stays down', async () => {
    const { t, flaky } = await afterFirstFailure();
    let result: unknown;
    const drained = t.provider.drain(5000).then((r) => (result = r));
    for (let at = 1000; at < 5000; at += 1000) {
      await t.step(1000);
      expect(result, `at ${at}`).toBeUndefined();
    }
    t.clock.advance(1000);
    const inTime = await Promise.race([drained.then(() => true), new Promise((r) => setTimeout(() => r(false), 2000))]);
    expect(inTime).toBe(true);
    expect(result).toMatchObject({ adds: 1, deletes: 0 });
    // The back-off was reset once when the drain began: one attempt at once, then the ones it allowed.
    expect(flaky.callsTo('stage')).toBeGreaterThanOrEqual(3);
    await t.done();
  });

  it('abandons an upload that made no progress for stallTimeout on the clock, and tries again after its back-off', async () => {
    let stages = 0;
    const t = await setup(
      (fs) =>
        new Proxy(fs, {
          get(target, prop, receiver) {
            if (prop === 'stage') return (source: AsyncIterable<Uint8Array>, options?: object) => (++stages === 1 ? new Promise(() => undefined) : target.stage(source, options));
            const value = Reflect.get(target, prop, receiver) as unknown;
            return typeof value === 'function' ? value.bind(target) : value;
          },
        }),
      { stallTimeout: 120_000, dispatcherInterval: 200_000, maxBackoff: 200_000 },
    );
    const sha1 = await t.put();
    await until(() => stages === 1, 'the first upload reaching the child');
    t.clock.advance(119_999);
    expect(t.d.idle).toBe(false);
    const failed = t.d.changed();
    t.clock.advance(1);
    await failed;
    expect(t.provider.stats.failures).toBe(1);
    // The back-off of the first failure is one dispatcherInterval; the scan then retries it.
    expect(await t.step(200_000)).toBe(true);
    expect(stages).toBe(2);
    expect(existsSync(t.fs.provider.pathOf(sha1))).toBe(true);
    await t.done();
  });
});
