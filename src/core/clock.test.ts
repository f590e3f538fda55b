import { describe, expect, it } from 'vitest';
import { clockSleep, clockTimer, FakeClock, FakeTimerClock, systemClock, type Clock } from './clock.js';

describe('clock timers', () => {
  it('FakeTimerClock fires timers in time order only when advanced past them, timers set by timers included', () => {
    const clock = new FakeTimerClock(1000);
    const fired: string[] = [];
    clockTimer(clock, () => fired.push(`b@${clock.now()}`), 20);
    clockTimer(clock, () => {
      fired.push(`a@${clock.now()}`);
      clockTimer(clock, () => fired.push(`c@${clock.now()}`), 5);
    }, 10);
    const cancel = clockTimer(clock, () => fired.push('never'), 15);
    cancel();
    clock.advance(9);
    expect(fired).toEqual([]);
    expect(clock.pendingTimers).toBe(2);
    clock.advance(1);
    expect(fired).toEqual(['a@1010']);
    clock.advance(100);
    expect(fired).toEqual(['a@1010', 'c@1015', 'b@1020']);
    expect(clock.now()).toBe(1110);
    expect(clock.pendingTimers).toBe(0);
  });

  it('clockSleep resolves on the clock\'s time, or at once on abort', async () => {
    const clock = new FakeTimerClock();
    let done = false;
    const slept = clockSleep(clock, 500).then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    clock.advance(500);
    await slept;
    expect(done).toBe(true);
    const ac = new AbortController();
    const aborted = clockSleep(clock, 60_000, ac.signal);
    ac.abort();
    await aborted;
    expect(clock.pendingTimers).toBe(0);
  });

  it('a clock without timers of its own (system, FakeClock) waits in real time', async () => {
    expect((new FakeClock() as Clock).setTimer).toBeUndefined();
    const t0 = performance.now();
    await clockSleep(systemClock, 30);
    await clockSleep(new FakeClock(), 30);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
  });
});
