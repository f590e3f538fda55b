import type { FileHandle } from 'node:fs/promises';
import type { FastifyReply } from 'fastify';
import type { ByteRange } from '../binstore/binary-provider.js';

const CHUNK = 2 << 20;

/**
 * Sends a byte range of an open file with two reused 1 MiB buffers: the next read overlaps
 * the previous socket write, and a buffer is refilled only after its write has been handed
 * to the kernel. A stream would allocate a new buffer per chunk, which for large downloads
 * keeps the garbage collector busy. Headers already set on the reply are sent as they are.
 */
export async function sendFileRange(reply: FastifyReply, fh: FileHandle, range: ByteRange, status: number): Promise<void> {
  const res = reply.raw;
  reply.hijack();
  const headers = reply.getHeaders();
  res.writeHead(status, headers as Record<string, string>);
  const buffers = [Buffer.allocUnsafeSlow(CHUNK), Buffer.allocUnsafeSlow(CHUNK)];
  let pending: Promise<void> = Promise.resolve();
  let turn = 0;
  let position = range.start;
  try {
    while (position <= range.end && !res.destroyed) {
      const buf = buffers[turn];
      turn ^= 1;
      const want = Math.min(CHUNK, range.end - position + 1);
      const { bytesRead } = await fh.read(buf, 0, want, position);
      if (bytesRead === 0) throw new Error('file shorter than its recorded size');
      await pending;
      pending = new Promise<void>((resolve, reject) => {
        res.write(buf.subarray(0, bytesRead), (err) => (err ? reject(err) : resolve()));
      });
      position += bytesRead;
    }
    await pending;
    res.end();
  } catch {
    // The client went away or the file failed mid-transfer: the length already sent cannot
    // be honoured, so the connection is cut rather than ended cleanly.
    res.destroy();
  } finally {
    await fh.close().catch(() => undefined);
  }
}
