import { createHash } from 'node:crypto';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireBatch, BATCH_BYTES, digestThreads, ParallelDigest, releaseBatch, THREAD_IDLE_MS } from './parallel-digest.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Digests `data` through the threads, one batch at a time. */
async function digestOf(data: Buffer) {
  const d = new ParallelDigest(true);
  const batch = acquireBatch();
  try {
    for (let off = 0; off < data.length; off += BATCH_BYTES) {
      const part = data.subarray(off, off + BATCH_BYTES);
      batch.view.set(part);
      await d.update(batch, part.length);
    }
    return await d.digest();
  } finally {
    releaseBatch(batch);
  }
}

const hex = (alg: string, data: Buffer) => createHash(alg).update(data).digest('hex');

describe('digest threads', () => {
  afterAll(() => {
    digestThreads(THREAD_IDLE_MS);
  });

  it('start with a stream, stop once no stream used them for the idle time, and start again for the next', async () => {
    digestThreads(200);
    const data = Buffer.alloc(3 * BATCH_BYTES + 123, 7);
    data.write('some bytes that differ', 5000);
    const first = await digestOf(data);
    expect(first).toMatchObject({ md5: hex('md5', data), sha1: hex('sha1', data), sha256: hex('sha256', data), size: data.length });
    expect(digestThreads().running).toBe(true);
    await sleep(800);
    expect(digestThreads().running).toBe(false);
    // The next stream gets new threads, which know none of the pool's buffers yet.
    expect(await digestOf(data)).toEqual(first);
  });

  it('run one full collection once they have stopped, none while they run', async () => {
    digestThreads(300);
    const majors: number[] = [];
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if ((e as unknown as { detail: { kind: number } }).detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors.push(Date.now());
    });
    obs.observe({ entryTypes: ['gc'] });
    try {
      await digestOf(Buffer.alloc(2 * BATCH_BYTES, 3));
      await sleep(100);
      expect(digestThreads().running).toBe(true);
      expect(majors, 'full collections while the threads idle').toEqual([]);
      await sleep(900);
      expect(digestThreads().running).toBe(false);
      expect(majors.length, 'full collections after the threads stopped').toBeGreaterThanOrEqual(1);
    } finally {
      obs.disconnect();
    }
  });

  it('let go of the batch arena when they stop, unless a batch of it is still out', async () => {
    digestThreads(150);
    const data = Buffer.alloc(2 * BATCH_BYTES + 5, 9);
    const first = await digestOf(data);
    expect(digestThreads()).toEqual({ running: true, arena: true });
    await sleep(600);
    expect(digestThreads()).toEqual({ running: false, arena: false });
    // A batch held (a small upload's, outside any stream) keeps the arena through a stop.
    const held = acquireBatch();
    expect(held.aligned).toBe(true);
    expect(await digestOf(data)).toEqual(first);
    await sleep(600);
    expect(digestThreads()).toEqual({ running: false, arena: true });
    releaseBatch(held);
    const again = acquireBatch();
    expect(again.sab).toBe(held.sab);
    releaseBatch(again);
  });

  it('stay while a stream is open, however long it pauses, and a dropped stream counts as closed', async () => {
    digestThreads(100);
    const open = new ParallelDigest(true);
    const dropped = new ParallelDigest(false);
    dropped.drop();
    await sleep(400);
    expect(digestThreads().running).toBe(true);
    const empty = await open.digest();
    expect(empty.md5).toBe(hex('md5', Buffer.alloc(0)));
    await sleep(400);
    expect(digestThreads().running).toBe(false);
  });
});
