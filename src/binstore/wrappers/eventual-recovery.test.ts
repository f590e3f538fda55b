import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import type { BuildContext, ProviderNode } from '../chain/types.js';
import { EventualProvider, eventualClusterProviderType, eventualProviderType } from './eventual-provider.js';
import { FlakyProvider } from './testing/flaky-provider.js';
import { chunksOf, entries, fsChild, tempDir } from './testing/helpers.js';

const sha1Of = (data: Buffer) => createHash('sha1').update(data).digest('hex');

async function put(p: EventualProvider, data: Buffer): Promise<string> {
  const staged = await p.stage(chunksOf(data));
  await staged.commit();
  return staged.sha1;
}

/** Every binary in the child's file store holds the bytes its name says. */
function childHolds(fileOf: (sha1: string) => string, shas: string[]): boolean {
  return shas.every((s) => existsSync(fileOf(s)) && sha1Of(readFileSync(fileOf(s))) === s);
}

describe('eventual provider: recovery and maintenance', () => {
  it('resumes the queue of a provider dropped without close (same directories, new instance)', async () => {
    const dir = tempDir('eventual-resume');
    const child = await fsChild(dir);
    const dead = new FlakyProvider(child.provider);
    dead.down = true;
    const first = await new EventualProvider(dead, { dir: join(dir, 'eventual'), dispatcherInterval: 30, maxBackoff: 60 }).init();
    const shas = [];
    for (let i = 0; i < 12; i++) shas.push(await put(first, randomBytes(10_000 + i)));
    expect((await first.pending()).adds).toBe(12);
    // `first` is dropped here: no close, no drain; its workers keep failing against `dead`.
    const second = await new EventualProvider(child.provider, { dir: join(dir, 'eventual'), dispatcherInterval: 30 }).init();
    expect(await second.drain(10_000)).toEqual({ adds: 0, addBytes: 0, deletes: 0 });
    expect(childHolds((s) => child.provider.pathOf(s), shas)).toBe(true);
    expect(first.stats.uploaded).toBe(0);
    await second.close();
    await first.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no acknowledged write when the process is killed with SIGKILL mid-upload', async () => {
    const dir = tempDir('eventual-kill');
    const script = join(import.meta.dirname, 'testing', 'eventual-crash-child.ts');
    const proc = spawn(process.execPath, ['--import', 'tsx', script, dir, '12', String(3 << 20)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const committed: string[] = [];
    let err = '';
    proc.stderr.on('data', (d) => (err += d));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      proc.stdout.on('data', (d) => {
        out += d;
        for (const m of out.matchAll(/^COMMITTED ([0-9a-f]{40})$/gm)) if (!committed.includes(m[1])) committed.push(m[1]);
        if (/^ALL$/m.test(out)) {
          proc.kill('SIGKILL');
          resolve();
        }
      });
      proc.once('exit', (code) => reject(new Error(`crash child exited early (${code}): ${err}`)));
    });
    await new Promise((r) => proc.once('exit', r));
    expect(committed).toHaveLength(12);
    const child = await fsChild(dir);
    const before = committed.filter((s) => existsSync(child.provider.pathOf(s))).length;
    console.log(`[eventual crash test] at SIGKILL ${before} of 12 uploads were done; the rest resume`);
    expect(before).toBeLessThan(12);
    const resumed = await new EventualProvider(child.provider, { dir: join(dir, 'eventual'), dispatcherInterval: 30 }).init();
    expect(await resumed.drain(20_000)).toEqual({ adds: 0, addBytes: 0, deletes: 0 });
    expect(childHolds((s) => child.provider.pathOf(s), committed)).toBe(true);
    expect(entries(resumed.queue.addDir)).toEqual([]);
    await resumed.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('balance() pushes everything queued now and reports counts and bytes', async () => {
    const dir = tempDir('eventual-balance');
    const child = await fsChild(dir);
    const flaky = new FlakyProvider(child.provider);
    // Long interval and backoff: only balance() can move the queue in this test.
    const p = await new EventualProvider(flaky, { dir: join(dir, 'eventual'), dispatcherInterval: 60_000 }).init();
    const old = await put(p, randomBytes(300));
    await p.drain(5000);
    flaky.down = true;
    const a = await put(p, randomBytes(1000));
    const b = await put(p, randomBytes(2000));
    expect(await p.delete(old)).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(await p.pending()).toEqual({ adds: 2, addBytes: 3000, deletes: 1 });
    flaky.down = false;
    expect(await p.balance()).toEqual({ checked: 3, copied: 2, bytesCopied: 3000, removed: 1, corrupt: 0 });
    expect(childHolds((s) => child.provider.pathOf(s), [a, b])).toBe(true);
    expect(existsSync(child.provider.pathOf(old))).toBe(false);
    expect(await p.balance()).toEqual({ checked: 0, copied: 0, bytesCopied: 0, removed: 0, corrupt: 0 });
    await p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('moves a staged binary whose bytes no longer match its SHA-1 aside instead of uploading it', async () => {
    const dir = tempDir('eventual-corrupt');
    const child = await fsChild(dir);
    const flaky = new FlakyProvider(child.provider);
    flaky.down = true;
    const p = await new EventualProvider(flaky, { dir: join(dir, 'eventual'), dispatcherInterval: 30, maxBackoff: 60 }).init();
    const good = await put(p, randomBytes(4000));
    const bad = await put(p, randomBytes(4000));
    writeFileSync(p.queue.addPath(bad), randomBytes(4000));
    flaky.down = false;
    await p.drain(5000);
    expect(childHolds((s) => child.provider.pathOf(s), [good])).toBe(true);
    expect(existsSync(child.provider.pathOf(bad))).toBe(false);
    expect(entries(p.queue.corruptDir)).toHaveLength(1);
    expect(entries(p.queue.corruptDir)[0].startsWith(bad)).toBe(true);
    expect(p.stats.corrupt).toBe(1);
    await p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('abandons an upload that makes no progress (a child that hangs and ignores the abort) and tries again', async () => {
    const dir = tempDir('eventual-stall');
    const child = await fsChild(dir);
    let stages = 0;
    const hanging = new Proxy(child.provider, {
      get(target, prop, receiver) {
        if (prop === 'stage') {
          return (source: AsyncIterable<Uint8Array>, options?: object) =>
            ++stages === 1 ? new Promise(() => undefined) : target.stage(source, options);
        }
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const p = await new EventualProvider(hanging, { dir: join(dir, 'eventual'), dispatcherInterval: 30, maxBackoff: 60, stallTimeout: 200 }).init();
    const sha1 = await put(p, randomBytes(1000));
    expect(await p.drain(5000)).toEqual({ adds: 0, addBytes: 0, deletes: 0 });
    expect(stages).toBe(2);
    expect(p.stats.failures).toBe(1);
    expect(childHolds((s) => child.provider.pathOf(s), [sha1])).toBe(true);
    await p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('close() stops the workers; what is queued stays on disk for the next start', async () => {
    const dir = tempDir('eventual-close');
    const child = await fsChild(dir);
    const flaky = new FlakyProvider(child.provider);
    flaky.down = true;
    const p = await new EventualProvider(flaky, { dir: join(dir, 'eventual'), dispatcherInterval: 20, maxBackoff: 20 }).init();
    const sha1 = await put(p, randomBytes(5000));
    await p.close();
    const calls = flaky.callsTo('stage');
    flaky.down = false;
    await new Promise((r) => setTimeout(r, 200));
    expect(flaky.callsTo('stage')).toBe(calls);
    expect(entries(p.queue.addDir)).toEqual([sha1]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('is built from binarystore.xml parameters: eventual/_add, eventual/_queue under baseDataDir', async () => {
    const dir = tempDir('eventual-params');
    const child = await fsChild(dir);
    const ctx = { dataDir: '/nonexistent', nodeId: 'n1', clock: new FakeClock(), log: { info() {}, warn() {}, error() {} } } as unknown as BuildContext;
    const node = (type: string, params: Record<string, string>): ProviderNode => ({ id: type, type, params: { baseDataDir: dir, ...params }, explicit: [], subProviders: [] });
    const ev = (await eventualProviderType.create({ node: node('eventual', { numberOfThreads: '3', dispatcherInterval: '100' }), ctx, child: child.provider, subs: [] })) as EventualProvider;
    expect(ev.type).toBe('eventual');
    expect(ev.queue.addDir).toBe(join(dir, 'eventual', '_add'));
    const data = randomBytes(100);
    const sha1 = await put(ev, data);
    await ev.drain(5000);
    expect(readFileSync(child.provider.pathOf(sha1)).equals(data)).toBe(true);
    await ev.close();
    const cl = (await eventualClusterProviderType.create({ node: node('eventual-cluster', { zone: 'local' }), ctx, child: child.provider, subs: [] })) as EventualProvider;
    expect([cl.type, cl.zone, cl.queue.addDir]).toEqual(['eventual-cluster', 'local', join(dir, 'eventual', '_queue')]);
    await cl.close();
    await expect(eventualProviderType.create({ node: node('eventual', {}), ctx, subs: [] })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    rmSync(dir, { recursive: true, force: true });
  });
});
