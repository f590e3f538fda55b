import { PerformanceObserver, constants } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { streamedIn, YOUNG_GC_EVERY_BYTES } from './young-gc.js';

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
