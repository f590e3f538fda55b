import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArcaError } from '../../core/errors.js';
import type { BinaryProvider } from '../binary-provider.js';

export interface ProviderHarness {
  provider: BinaryProvider;
  /** Files currently in the provider's staging area (to prove aborted uploads leave nothing). */
  stagingEntries(): Promise<string[]>;
  cleanup(): Promise<void>;
}

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
 */
export function binaryProviderConformance(name: string, factory: () => Promise<ProviderHarness>): void {
  describe(`BinaryProvider conformance: ${name}`, () => {
    let h: ProviderHarness;
    beforeEach(async () => {
      h = await factory();
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
  });
}
