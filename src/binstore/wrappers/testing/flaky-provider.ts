import type { Readable } from 'node:stream';
import { ArcaError } from '../../../core/errors.js';
import type { BinaryProvider, ByteRange, StagedBinary, StageOptions } from '../../binary-provider.js';

/**
 * A test wrapper around a real provider that can be switched off: while `down`, every
 * operation fails with UNAVAILABLE (as a cloud store behind a broken network would), and
 * `failNext` fails the next n operations. Counts the calls that reached it.
 */
export class FlakyProvider implements BinaryProvider {
  readonly type = 'flaky';
  down = false;
  failNext = 0;
  /** Error thrown while down (default: UNAVAILABLE). */
  error: () => unknown = () => new ArcaError('UNAVAILABLE', 'the test store is down');
  readonly calls: Record<string, number> = {};

  constructor(readonly inner: BinaryProvider) {}

  private gate(op: string): void {
    this.calls[op] = (this.calls[op] ?? 0) + 1;
    if (this.down) throw this.error();
    if (this.failNext > 0) {
      this.failNext--;
      throw this.error();
    }
  }

  callsTo(op: string): number {
    return this.calls[op] ?? 0;
  }

  async stage(source: AsyncIterable<Uint8Array>, options?: StageOptions): Promise<StagedBinary> {
    this.gate('stage');
    const staged = await this.inner.stage(source, options);
    return {
      ...staged,
      commit: async () => {
        this.gate('commit');
        await staged.commit();
      },
      discard: () => staged.discard(),
    };
  }

  async exists(sha1: string): Promise<boolean> {
    this.gate('exists');
    return this.inner.exists(sha1);
  }

  async size(sha1: string): Promise<number | undefined> {
    this.gate('size');
    return this.inner.size(sha1);
  }

  async read(sha1: string, range?: ByteRange): Promise<Readable> {
    this.gate('read');
    return this.inner.read(sha1, range);
  }

  async readBuffer(sha1: string): Promise<Buffer> {
    this.gate('readBuffer');
    return this.inner.readBuffer(sha1);
  }

  async delete(sha1: string): Promise<boolean> {
    this.gate('delete');
    return this.inner.delete(sha1);
  }

  async *list(): AsyncIterable<{ sha1: string; mtimeMs: number }> {
    this.gate('list');
    yield* this.inner.list();
  }

  async check(): Promise<void> {
    this.gate('check');
    await this.inner.check();
  }
}
