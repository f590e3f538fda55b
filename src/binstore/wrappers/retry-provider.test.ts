import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeClock, FakeTimerClock } from '../../core/clock.js';
import { ArcaError } from '../../core/errors.js';
import type { BuildContext, ProviderNode } from '../chain/types.js';
import { binaryProviderConformance } from '../testing/conformance.js';
import { isTransientError, RetryProvider, retryProviderType } from './retry-provider.js';
import { FlakyProvider } from './testing/flaky-provider.js';
import { chunksOf, collect, entries, fsChild, tempDir } from './testing/helpers.js';

binaryProviderConformance('retry over file-system', async () => {
  const dir = tempDir('retry');
  const child = await fsChild(dir);
  const flakyChild = new FlakyProvider(child.provider);
  return {
    provider: new RetryProvider(flakyChild, { maxTrys: 3, interval: 10 }),
    stagingEntries: async () => entries(child.tempDir),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    corrupt: async (sha1, bytes) => writeFileSync(child.provider.pathOf(sha1), bytes),
    // An in-process outage: every call to the child fails with UNAVAILABLE until start().
    outage: {
      stop: async () => void (flakyChild.down = true),
      start: async () => void (flakyChild.down = false),
    },
  };
});

async function flaky() {
  const dir = tempDir('retry-own');
  const child = await fsChild(dir);
  const flakyChild = new FlakyProvider(child.provider);
  return { dir, flaky: flakyChild, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('retry provider', () => {
  it('tries a failing operation again and succeeds once the child recovers', async () => {
    const t = await flaky();
    const retry = new RetryProvider(t.flaky, { maxTrys: 5, interval: 5 });
    const data = randomBytes(1000);
    const staged = await retry.stage(chunksOf(data));
    t.flaky.failNext = 2;
    await staged.commit();
    expect(t.flaky.callsTo('commit')).toBe(3);
    t.flaky.failNext = 4;
    expect((await collect(await retry.read(staged.sha1))).equals(data)).toBe(true);
    expect(t.flaky.callsTo('read')).toBe(5);
    expect(retry.retries).toBe(6);
    t.cleanup();
  });

  it('gives up after maxTrys attempts spaced by interval, with the last error', async () => {
    const t = await flaky();
    let n = 0;
    t.flaky.down = true;
    t.flaky.error = () => new ArcaError('UNAVAILABLE', `outage #${++n}`);
    const retry = new RetryProvider(t.flaky, { maxTrys: 4, interval: 40 });
    const started = Date.now();
    await expect(retry.exists('a'.repeat(40))).rejects.toThrow('outage #4');
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 40 - 5);
    expect(t.flaky.callsTo('exists')).toBe(4);
    t.cleanup();
  });

  it('does not retry answers: ITEM_NOT_FOUND, BAD_REQUEST', async () => {
    const t = await flaky();
    const retry = new RetryProvider(t.flaky, { maxTrys: 5, interval: 1000 });
    await expect(retry.read('b'.repeat(40))).rejects.toMatchObject({ code: 'ITEM_NOT_FOUND' });
    expect(t.flaky.callsTo('read')).toBe(1);
    await expect(retry.delete('../x')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(t.flaky.callsTo('delete')).toBe(1);
    expect(retry.retries).toBe(0);
    t.cleanup();
  });

  it('does not repeat staging (the source is consumed) but retries the listing', async () => {
    const t = await flaky();
    const retry = new RetryProvider(t.flaky, { maxTrys: 3, interval: 5 });
    t.flaky.failNext = 1;
    await expect(retry.stage(chunksOf(randomBytes(10)))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(t.flaky.callsTo('stage')).toBe(1);
    const staged = await retry.stage(chunksOf(randomBytes(10)));
    await staged.commit();
    t.flaky.failNext = 2;
    const listed = [];
    for await (const f of retry.list()) listed.push(f.sha1);
    expect(listed).toEqual([staged.sha1]);
    expect(t.flaky.callsTo('list')).toBe(3);
    t.cleanup();
  });

  it('close() cuts a wait between attempts short', async () => {
    const t = await flaky();
    t.flaky.down = true;
    const retry = new RetryProvider(t.flaky, { maxTrys: 5, interval: 60_000 });
    const started = Date.now();
    const pending = retry.size('c'.repeat(40));
    setTimeout(() => void retry.close(), 50);
    await expect(pending).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(5000);
    t.cleanup();
  });

  it('waits between attempts on its clock: a fake one moves them on without real waiting', async () => {
    const t = await flaky();
    t.flaky.down = true;
    const clock = new FakeTimerClock();
    const retry = new RetryProvider(t.flaky, { maxTrys: 3, interval: 5000, clock });
    const attempts = () => t.flaky.callsTo('exists');
    const waiting = async (n: number) => {
      // The wait is a timer of the clock once the attempt has failed.
      while (attempts() < n || clock.pendingTimers === 0) await new Promise((r) => setImmediate(r));
    };
    const result = retry.exists('e'.repeat(40)).catch((e: unknown) => e);
    await waiting(1);
    clock.advance(4999);
    expect(attempts()).toBe(1);
    clock.advance(1);
    await waiting(2);
    clock.advance(5000);
    expect(await result).toMatchObject({ code: 'UNAVAILABLE' });
    expect([attempts(), retry.retries, clock.pendingTimers]).toEqual([3, 2, 0]);
    t.cleanup();
  });

  it('classifies errors', () => {
    expect(isTransientError(new ArcaError('UNAVAILABLE'))).toBe(true);
    expect(isTransientError(new ArcaError('ITEM_NOT_FOUND'))).toBe(false);
    expect(isTransientError(new ArcaError('STORAGE_FULL'))).toBe(false);
    expect(isTransientError(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isTransientError(Object.assign(new Error('slow down'), { $metadata: { httpStatusCode: 503 } }))).toBe(true);
    expect(isTransientError(Object.assign(new Error('denied'), { $metadata: { httpStatusCode: 403 } }))).toBe(false);
    expect(isTransientError(Object.assign(new Error('throttled'), { $metadata: { httpStatusCode: 429 } }))).toBe(true);
    expect(isTransientError(new TypeError('bug'))).toBe(false);
  });

  it('is built from binarystore.xml parameters', async () => {
    const t = await flaky();
    const node: ProviderNode = { id: 'retry-s3', type: 'retry', params: { maxTrys: '2', interval: '10' }, explicit: [], subProviders: [] };
    const ctx = { dataDir: t.dir, nodeId: 'n1', clock: new FakeClock(), log: { info() {}, warn() {}, error() {} } } as unknown as BuildContext;
    const provider = (await retryProviderType.create({ node, ctx, child: t.flaky, subs: [] })) as RetryProvider;
    t.flaky.down = true;
    await expect(provider.exists('d'.repeat(40))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(t.flaky.callsTo('exists')).toBe(2);
    await expect(retryProviderType.create({ node, ctx, subs: [] })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(
      retryProviderType.create({ node: { ...node, params: { maxTrys: 'many' } }, ctx, child: t.flaky, subs: [] }),
    ).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    t.cleanup();
  });
});
