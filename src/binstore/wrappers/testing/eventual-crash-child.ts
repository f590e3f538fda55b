/**
 * A process for the eventual crash test: queues `count` random binaries of `size` bytes in
 * `<dir>/eventual` over a file-system child at `<dir>/filestore` whose uploads are slowed
 * down, prints `COMMITTED <sha1>` per acknowledged write and `ALL` at the end, then idles
 * until the test kills it with SIGKILL (some uploads done, some half-way, some not begun).
 *
 *   node --import tsx eventual-crash-child.ts <dir> <count> <size>
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { BinaryProvider } from '../../binary-provider.js';
import { FileSystemProvider } from '../../file-system-provider.js';
import { EventualProvider } from '../eventual-provider.js';

const [dir, count, size] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];

async function* slowly(source: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  for await (const chunk of source) {
    await new Promise((r) => setTimeout(r, 300));
    yield chunk;
  }
}

const fs = await new FileSystemProvider({ fileStoreDir: join(dir, 'filestore'), tempDir: join(dir, 'tmp') }).init();
const slow = new Proxy(fs, {
  get(target, prop, receiver) {
    if (prop === 'stage') return (source: AsyncIterable<Uint8Array>, options?: object) => target.stage(slowly(source), options);
    const value = Reflect.get(target, prop, receiver) as unknown;
    return typeof value === 'function' ? value.bind(target) : value;
  },
}) as BinaryProvider;
const provider = await new EventualProvider(slow, { dir: join(dir, 'eventual'), dispatcherInterval: 50, workers: 2 }).init();
for (let i = 0; i < count; i++) {
  const data = randomBytes(size);
  const staged = await provider.stage(
    (async function* () {
      yield data;
    })(),
  );
  await staged.commit();
  process.stdout.write(`COMMITTED ${staged.sha1}\n`);
}
process.stdout.write('ALL\n');
setInterval(() => undefined, 60_000);
