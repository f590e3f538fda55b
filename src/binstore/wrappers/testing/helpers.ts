import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FileSystemProvider } from '../../file-system-provider.js';
import { guardProvider } from '../../guard/guarded-provider.js';

/** Test helpers of the wrapper providers: a real file-system child in a temp dir, streams in and out. */

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `arca-${prefix}-`));
}

/** A guarded file-system child, as the chain builder would hand it to a wrapper. */
export async function fsChild(dir: string): Promise<{ provider: FileSystemProvider; tempDir: string; fileStoreDir: string }> {
  const tmp = join(dir, 'tmp');
  const fileStoreDir = join(dir, 'filestore');
  const provider = guardProvider(await new FileSystemProvider({ fileStoreDir, tempDir: tmp }).init(), { id: 'file-system', type: 'file-system' });
  return { provider, tempDir: tmp, fileStoreDir };
}

/** Entries of a directory (none when it does not exist), without write probes. */
export function entries(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => !n.startsWith('.probe'));
  } catch {
    return [];
  }
}

export function chunksOf(data: Buffer, size = 64 * 1024): AsyncIterable<Uint8Array> {
  return (async function* () {
    for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
  })();
}

export async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Polls `probe` until it returns true or `timeoutMs` passes. */
export async function waitFor(probe: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
