import type { FileHandle } from 'node:fs/promises';
import type { FastifyReply } from 'fastify';
import type { ByteRange } from '../binstore/binary-provider.js';

const CHUNK = 2 << 20;
/** Buffers per download: the reads can run up to two writes ahead of the socket. */
const BUFFERS = 3;
/** Idle buffers kept for the next downloads (32 MiB at most). */
const POOL_KEEP = 16;
const pool: Buffer[] = [];

function takeBuffers(): Buffer[] {
  return Array.from({ length: BUFFERS }, () => pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK));
}

function giveBack(buffers: Buffer[]): void {
  for (const b of buffers) if (pool.length < POOL_KEEP) pool.push(b);
}

/**
 * Sends a byte range of an open file with a few reused 2 MiB buffers: reads overlap the
 * socket writes, and a buffer is refilled only after its write has been handed to the
 * kernel. A stream would allocate a new buffer per chunk, which for large downloads
 * keeps the garbage collector busy; the buffers go back to a pool for the next download
 * once every write has completed (after a failure they are left to the collector, since a
 * cut connection may still hold them). Headers already set on the reply are sent as they are.
 */
export async function sendFileRange(reply: FastifyReply, fh: FileHandle, range: ByteRange, status: number): Promise<void> {
  const res = reply.raw;
  reply.hijack();
  const headers = reply.getHeaders();
  res.writeHead(status, headers as Record<string, string>);
  const buffers = takeBuffers();
  const writes: Promise<void>[] = buffers.map(() => Promise.resolve());
  let turn = 0;
  let position = range.start;
  try {
    while (position <= range.end && !res.destroyed) {
      // A buffer is refilled only once the write that last used it has completed.
      await writes[turn];
      const buf = buffers[turn];
      const want = Math.min(CHUNK, range.end - position + 1);
      const { bytesRead } = await fh.read(buf, 0, want, position);
      if (bytesRead === 0) throw new Error('file shorter than its recorded size');
      writes[turn] = new Promise<void>((resolve, reject) => {
        res.write(buf.subarray(0, bytesRead), (err) => (err ? reject(err) : resolve()));
      });
      writes[turn].catch(() => undefined);
      position += bytesRead;
      turn = (turn + 1) % BUFFERS;
    }
    await Promise.all(writes);
    if (!res.destroyed) giveBack(buffers);
    res.end();
  } catch {
    // The client went away or the file failed mid-transfer: the length already sent cannot
    // be honoured, so the connection is cut rather than ended cleanly.
    res.destroy();
  } finally {
    await fh.close().catch(() => undefined);
  }
}
