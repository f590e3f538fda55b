import { PerformanceObserver, constants } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { startIdleCollector, streamedIn, YOUNG_GC_EVERY_BYTES } from './young-gc.js';

/** The kinds of the collections that ran while `fn` ran (perf_hooks' gc entries). */
async function collectionsDuring(fn: () => void): Promise<number[]> {
  const kinds: number[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) kinds.push((e as unknown as { detail: { kind: number } }).detail.kind);
  });
  obs.observe({ entryTypes: ['gc'] });
  fn();
  // gc entries are delivered asynchronously
  await new Promise((r) => setTimeout(r, 100));
  obs.disconnect();
  return kinds;
}

describe('young collections paced by the bytes streamed in', () => {
  it('runs one scavenge per YOUNG_GC_EVERY_BYTES, counted over every stream of the process', async () => {
    const kinds = await collectionsDuring(() => {
      // Sixteen 64 KiB chunks make one collection's worth: three times over.
      for (let i = 0; i < 48; i++) streamedIn(YOUNG_GC_EVERY_BYTES / 16);
    });
    expect(kinds.filter((k) => k === constants.NODE_PERFORMANCE_GC_MINOR).length).toBeGreaterThanOrEqual(3);
  });

  it('runs none for less', async () => {
    streamedIn(YOUNG_GC_EVERY_BYTES); // start from a count of zero
    await new Promise((r) => setTimeout(r, 50));
    const kinds = await collectionsDuring(() => streamedIn(YOUNG_GC_EVERY_BYTES / 2));
    expect(kinds.filter((k) => k === constants.NODE_PERFORMANCE_GC_MINOR)).toEqual([]);
  });
});

describe('the idle collector', () => {
  /** Full collections (perf_hooks gc entries) from now until the returned function is called. */
  function watchMajors() {
    let n = 0;
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if ((e as unknown as { detail: { kind: number } }).detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) n++;
    });
    obs.observe({ entryTypes: ['gc'] });
    return () => {
      obs.disconnect();
      return n;
    };
  }
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const busy = (ms: number) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      // the event loop is busy
    }
  };

  it('runs one full collection once the process is quiet after enough work, and none again while nothing happens', async () => {
    const stop = startIdleCollector(200, 100);
    try {
      await sleep(250);
      busy(150);
      const first = watchMajors();
      await sleep(900);
      expect(first(), 'full collections after the busy stretch').toBeGreaterThanOrEqual(1);
      const second = watchMajors();
      await sleep(900);
      expect(second(), 'full collections while quiet with no work since').toBe(0);
    } finally {
      stop();
    }
  });

  it('runs none while the event loop stays busy', async () => {
    const stop = startIdleCollector(100, 10);
    try {
      busy(20);
      await sleep(150); // whatever the first interval decides
      const during = watchMajors();
      // Busy more than 2 % of every interval: 20 ms of every 50 ms.
      for (let i = 0; i < 10; i++) {
        busy(20);
        await sleep(30);
      }
      expect(during()).toBe(0);
    } finally {
      stop();
    }
  });
});
