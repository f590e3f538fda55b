import { deflateRawSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BoundedInflater, inflateBounded } from './bounded-inflate.js';

const limits = { maxBytes: 8 * 1024 * 1024, maxRatio: 100, allowance: 1024 * 1024 };

describe('bounded inflate', () => {
  it('unpacks within the limits, in pieces', async () => {
    const text = Buffer.from('hello world '.repeat(10_000));
    expect((await inflateBounded(deflateRawSync(text), { format: 'deflate-raw', limits, what: 'x' })).equals(text)).toBe(true);
    const parts: Buffer[] = [];
    const inflater = new BoundedInflater({ format: 'gzip', limits, what: 'x', onData: (c) => parts.push(c) });
    const gz = gzipSync(text);
    for (let i = 0; i < gz.length; i += 3) await inflater.write(gz.subarray(i, i + 3));
    await inflater.end();
    expect(Buffer.concat(parts).equals(text)).toBe(true);
  });

  it('stops at the ratio and at the cap, having unpacked only a little', async () => {
    const zeros = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    let out = 0;
    const inflater = new BoundedInflater({ format: 'gzip', limits, what: 'The bomb', onData: (c) => (out += c.length) });
    await expect(
      (async () => {
        for (let i = 0; i < zeros.length; i += 16 * 1024) await inflater.write(zeros.subarray(i, i + 16 * 1024));
        await inflater.end();
      })(),
    ).rejects.toThrow('The bomb unpacks to more than 100 times its compressed size');
    expect(out).toBeLessThan(4 * 1024 * 1024);
    const text = gzipSync(Buffer.from('varied text, not very compressible: '.repeat(1) + Math.random().toString(36).repeat(400_000)));
    await expect(inflateBounded(text, { format: 'gzip', limits: { maxBytes: 1024 * 1024, maxRatio: 1e6, allowance: 0 }, what: 'It' })).rejects.toThrow('It unpacks to more than 1048576 bytes');
  });

  it('refuses what is not compressed data', async () => {
    await expect(inflateBounded(Buffer.from('plain text, no gzip'), { format: 'gzip', limits, what: 'It' })).rejects.toThrow('It cannot be decompressed');
  });
});
