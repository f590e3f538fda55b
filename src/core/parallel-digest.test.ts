import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireBatch, BATCH_BYTES, digestThreads, ParallelDigest, releaseBatch } from './parallel-digest.js';

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
    digestThreads(10_000);
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
