import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, type TestContext } from 'vitest';
import { ArcaError } from '../../core/errors.js';
import { MD5_PENDING } from '../../core/digests.js';
import type { BinaryProvider, StagedBinary } from '../binary-provider.js';
import { guardProvider } from '../guard/guarded-provider.js';
import { verifyBinary } from '../verify.js';

export interface ProviderHarness {
  provider: BinaryProvider;
  /** Files currently in the provider's staging area (to prove aborted uploads leave nothing). */
  stagingEntries(): Promise<string[]>;
  cleanup(): Promise<void>;
  /**
   * Optional: replaces the stored bytes of a committed binary with `bytes` behind the
   * provider's back (as disk or bucket corruption would). Without it the corruption case is
   * skipped with a printed reason.
   */
  corrupt?(sha1: string, bytes: Buffer): Promise<void>;
  /**
   * Optional: makes the store unreachable (`stop`) and brings it back on the same address and
   * data (`start`). Without it the outage case is skipped with a printed reason.
   */
  outage?: { stop(): Promise<void>; start(): Promise<void> };
  /**
   * Optional: size of the multi-GiB streaming round trip (the file-system harness uses 3 GiB;
   * emulator-backed harnesses may use less and say why). Absent = skipped with a reason.
   */
  bigObjectBytes?: number;
}

/** How long a write or read may take to fail while the store is down (no hangs). */
const OUTAGE_FAIL_WITHIN_MS = 45_000;

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function chunksOf(data: Buffer, size = 64 * 1024): AsyncIterable<Uint8Array> {
  return (async function* () {
    for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
  })();
}

const hex = (alg: string, data: Buffer) => createHash(alg).update(data).digest('hex');

/**
 * The one suite every BinaryProvider runs: an implementation's test only passes a factory.
 * Covers staging with checksums, commit visibility, dedupe, ranges, empty and large
 * binaries, concurrent writes of one binary, aborted writes, missing objects and deletes.
 * The provider runs as the chain builder delivers it: inside the guard (key validation,
 * error normalising), which a harness built through the builder already has.
 */
export function binaryProviderConformance(name: string, factory: () => Promise<ProviderHarness>): void {
  describe(`BinaryProvider conformance: ${name}`, () => {
    let h: ProviderHarness;
    beforeEach(async () => {
      const harness = await factory();
      h = { ...harness, provider: guardProvider(harness.provider, { id: name, type: harness.provider.type }) };
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('computes md5, sha1 and sha256 while staging and makes the binary visible only on commit', async () => {
      const data = randomBytes(300_000);
      const staged = await h.provider.stage(chunksOf(data));
      expect(staged).toMatchObject({ size: data.length, md5: hex('md5', data), sha1: hex('sha1', data), sha256: hex('sha256', data) });
      expect(await h.provider.exists(staged.sha1)).toBe(false);
      await staged.commit();
      expect(await h.provider.exists(staged.sha1)).toBe(true);
      expect(await h.provider.size(staged.sha1)).toBe(data.length);
      expect((await collect(await h.provider.read(staged.sha1))).equals(data)).toBe(true);
      expect((await h.provider.readBuffer(staged.sha1)).equals(data)).toBe(true);
      expect(await h.stagingEntries()).toEqual([]);
    });

    it('skips only the MD5 when told to (md5: false), in one batch and across several', async () => {
      for (const data of [randomBytes(1000), randomBytes(3 * 1024 * 1024 + 17)]) {
        const staged = await h.provider.stage(chunksOf(data), { md5: false });
        expect(staged).toMatchObject({ size: data.length, md5: MD5_PENDING, sha1: hex('sha1', data), sha256: hex('sha256', data) });
        await staged.commit();
        expect((await collect(await h.provider.read(staged.sha1))).equals(data)).toBe(true);
      }
      expect(await h.stagingEntries()).toEqual([]);
    });

    it('stores sizes around the 1 MiB staging batch and the 4 KiB direct-I/O alignment exactly', async () => {
      const MiB = 1024 * 1024;
      for (const size of [MiB, MiB + 1, 4 * MiB - 1, 4 * MiB + 4095, 5 * MiB + 4096, 9 * MiB + 12_345]) {
        const data = randomBytes(size);
        const staged = await h.provider.stage(chunksOf(data), { md5: size % 2 === 0 });
        expect(staged, `${size} bytes`).toMatchObject({ size, sha1: hex('sha1', data), sha256: hex('sha256', data) });
        await staged.commit();
        expect(await h.provider.size(staged.sha1), `${size} bytes`).toBe(size);
        expect((await collect(await h.provider.read(staged.sha1))).equals(data), `${size} bytes`).toBe(true);
      }
      expect(await h.stagingEntries()).toEqual([]);
    });

    it('discards a staged binary without a trace', async () => {
      const staged = await h.provider.stage(chunksOf(randomBytes(1000)));
      await staged.discard();
      expect(await h.provider.exists(staged.sha1)).toBe(false);
      expect(await h.stagingEntries()).toEqual([]);
    });

    it('stores a zero-byte binary', async () => {
      const staged = await h.provider.stage(chunksOf(Buffer.alloc(0)));
      expect(staged.sha1).toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709');
      await staged.commit();
      expect((await collect(await h.provider.read(staged.sha1))).length).toBe(0);
    });

    it('keeps one copy when the same content is committed twice', async () => {
      const data = randomBytes(5000);
      const a = await h.provider.stage(chunksOf(data));
      const b = await h.provider.stage(chunksOf(data, 7));
      await a.commit();
      await b.commit();
      const listed = [];
      for await (const f of h.provider.list()) listed.push(f.sha1);
      expect(listed).toEqual([a.sha1]);
      expect(await h.stagingEntries()).toEqual([]);
    });

    it('survives concurrent writes of one binary', async () => {
      const data = randomBytes(200_000);
      const staged = await Promise.all(Array.from({ length: 8 }, () => h.provider.stage(chunksOf(data, 4096))));
      await Promise.all(staged.map((s) => s.commit()));
      expect((await h.provider.readBuffer(staged[0].sha1)).equals(data)).toBe(true);
      expect(await h.stagingEntries()).toEqual([]);
    });

    it('serves inclusive byte ranges', async () => {
      const data = randomBytes(10_000);
      const staged = await h.provider.stage(chunksOf(data));
      await staged.commit();
      const mid = await collect(await h.provider.read(staged.sha1, { start: 100, end: 199 }));
      expect(mid.equals(data.subarray(100, 200))).toBe(true);
      const last = await collect(await h.provider.read(staged.sha1, { start: 9999, end: 9999 }));
      expect(last.equals(data.subarray(9999))).toBe(true);
    });

    it('leaves nothing behind when the source fails mid-write', async () => {
      const source = (async function* () {
        yield randomBytes(100_000);
        throw new Error('connection reset');
      })();
      await expect(h.provider.stage(source)).rejects.toThrow('connection reset');
      expect(await h.stagingEntries()).toEqual([]);
    });

    it('stops on an abort signal and leaves nothing behind', async () => {
      const ac = new AbortController();
      const source = (async function* () {
        yield randomBytes(1000);
        ac.abort();
        yield randomBytes(1000);
      })();
      await expect(h.provider.stage(source, { signal: ac.signal })).rejects.toBeInstanceOf(ArcaError);
      expect(await h.stagingEntries()).toEqual([]);
    });

    it('refuses data over maxSize', async () => {
      await expect(h.provider.stage(chunksOf(randomBytes(5000), 1000), { maxSize: 3000 })).rejects.toBeInstanceOf(ArcaError);
      expect(await h.stagingEntries()).toEqual([]);
    });

    it('reports a missing binary as ITEM_NOT_FOUND and false/undefined', async () => {
      const missing = 'a'.repeat(40);
      expect(await h.provider.exists(missing)).toBe(false);
      expect(await h.provider.size(missing)).toBeUndefined();
      await expect(h.provider.read(missing)).rejects.toMatchObject({ code: 'ITEM_NOT_FOUND' });
      await expect(h.provider.readBuffer(missing)).rejects.toMatchObject({ code: 'ITEM_NOT_FOUND' });
      expect(await h.provider.delete(missing)).toBe(false);
    });

    it('rejects a key that is not a SHA-1 (no path tricks reach the store)', async () => {
      await expect(h.provider.read('../../etc/passwd')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      await expect(h.provider.delete('..')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    });

    it('deletes a binary', async () => {
      const staged = await h.provider.stage(chunksOf(randomBytes(100)));
      await staged.commit();
      expect(await h.provider.delete(staged.sha1)).toBe(true);
      expect(await h.provider.exists(staged.sha1)).toBe(false);
    });

    it('streams a large binary without holding it in memory', async () => {
      const chunk = randomBytes(1 << 20);
      const total = 64;
      const sha1 = createHash('sha1');
      const source = (async function* () {
        for (let i = 0; i < total; i++) {
          sha1.update(chunk);
          yield chunk;
        }
      })();
      const staged = await h.provider.stage(source);
      await staged.commit();
      expect(staged.size).toBe(total * chunk.length);
      expect(staged.sha1).toBe(sha1.digest('hex'));
      const back = createHash('sha1');
      let n = 0;
      for await (const c of await h.provider.read(staged.sha1)) {
        back.update(c as Buffer);
        n += (c as Buffer).length;
      }
      expect(n).toBe(total * chunk.length);
      expect(back.digest('hex')).toBe(staged.sha1);
    });

    it('passes its write check', async () => {
      await expect(h.provider.check()).resolves.toBeUndefined();
    });

    /** Skips the running case with a reason that is printed, not only recorded. */
    function skipWithout(ctx: TestContext, missing: boolean, reason: string): void {
      if (!missing) return;
      console.info(`[conformance ${name}] skipped: ${reason}`);
      ctx.skip(reason);
    }

    it('returns the stored bytes of a corrupt binary; verifyBinary detects the corruption', async (ctx) => {
      skipWithout(ctx, !h.corrupt, 'the harness has no corrupt() (it cannot reach the stored bytes)');
      const data = randomBytes(100_000);
      const staged = await h.provider.stage(chunksOf(data));
      await staged.commit();
      expect(await verifyBinary(h.provider, staged.sha1)).toEqual({ sha1: staged.sha1, status: 'ok', size: data.length });
      const bad = Buffer.from(data);
      for (let i = 0; i < bad.length; i += 4096) bad[i] ^= 0xff;
      await h.corrupt!(staged.sha1, bad);
      // The contract: reads hand back what is stored, unchecked (hashing every read is the
      // job of verification and scrub, not of the read path).
      expect((await collect(await h.provider.read(staged.sha1))).equals(bad)).toBe(true);
      expect((await h.provider.readBuffer(staged.sha1)).equals(bad)).toBe(true);
      expect((await collect(await h.provider.read(staged.sha1, { start: 0, end: 9 }))).equals(bad.subarray(0, 10))).toBe(true);
      expect(await verifyBinary(h.provider, staged.sha1)).toEqual({ sha1: staged.sha1, status: 'corrupt', size: bad.length, actualSha1: hex('sha1', bad) });
      expect(await verifyBinary(h.provider, 'b'.repeat(40))).toEqual({ sha1: 'b'.repeat(40), status: 'missing' });
    });

    it('fails fast with UNAVAILABLE during an outage and keeps every committed binary', async (ctx) => {
      skipWithout(ctx, !h.outage, 'the harness has no outage (the store cannot be stopped and restarted)');
      const before = randomBytes(50_000);
      const kept = await h.provider.stage(chunksOf(before));
      await kept.commit();
      await h.outage!.stop();
      try {
        const unavailable = { name: 'ArcaError', code: 'UNAVAILABLE' };
        let t0 = Date.now();
        let staged: StagedBinary | undefined;
        const write = (async () => {
          staged = await h.provider.stage(chunksOf(randomBytes(20_000)));
          await staged.commit();
        })();
        await expect(write).rejects.toMatchObject(unavailable);
        expect(Date.now() - t0).toBeLessThan(OUTAGE_FAIL_WITHIN_MS);
        await staged?.discard();
        expect(await h.stagingEntries()).toEqual([]);
        t0 = Date.now();
        await expect(h.provider.read(kept.sha1)).rejects.toMatchObject(unavailable);
        // Down is not absent: exists must not answer false for a binary it cannot see.
        await expect(h.provider.exists(kept.sha1)).rejects.toMatchObject(unavailable);
        expect(Date.now() - t0).toBeLessThan(OUTAGE_FAIL_WITHIN_MS);
      } finally {
        await h.outage!.start();
      }
      expect((await h.provider.readBuffer(kept.sha1)).equals(before)).toBe(true);
      const after = randomBytes(30_000);
      const fresh = await h.provider.stage(chunksOf(after));
      await fresh.commit();
      expect((await h.provider.readBuffer(fresh.sha1)).equals(after)).toBe(true);
      expect(await h.stagingEntries()).toEqual([]);
    }, 180_000);

    it('streams a multi-GiB binary in and out with bounded memory', async (ctx) => {
      skipWithout(ctx, !h.bigObjectBytes, 'the harness sets no bigObjectBytes');
      const total = h.bigObjectBytes!;
      const CHUNK = 1 << 20;
      const base = randomBytes(CHUNK);
      const rss0 = process.memoryUsage().rss;
      let peak = rss0;
      const sample = () => {
        peak = Math.max(peak, process.memoryUsage().rss);
      };
      const timer = setInterval(sample, 100);
      ctx.onTestFinished(() => clearInterval(timer));
      const want = createHash('sha1');
      const source = (async function* () {
        for (let sent = 0, i = 0; sent < total; i++) {
          const n = Math.min(CHUNK, total - sent);
          const chunk = Buffer.allocUnsafe(n);
          base.copy(chunk, 0, 0, n);
          chunk.writeUInt32BE(i, 0);
          want.update(chunk);
          sent += n;
          yield chunk;
        }
      })();
      const staged = await h.provider.stage(source);
      expect(staged.size).toBe(total);
      expect(staged.sha1).toBe(want.digest('hex'));
      await staged.commit();
      expect(await h.provider.size(staged.sha1)).toBe(total);
      const back = await verifyBinary(h.provider, staged.sha1);
      sample();
      expect(back).toEqual({ sha1: staged.sha1, status: 'ok', size: total });
      const lastMiB = await collect(await h.provider.read(staged.sha1, { start: total - CHUNK, end: total - 1 }));
      expect(lastMiB.length).toBe(CHUNK);
      expect(await h.stagingEntries()).toEqual([]);
      // Never the whole binary in memory: the growth stays far below its size.
      expect(peak - rss0).toBeLessThan(Math.min(512 << 20, total / 2));
      await h.provider.delete(staged.sha1);
    }, 45 * 60_000);
  });
}
