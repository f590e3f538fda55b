import type { Readable } from 'node:stream';
import { isArcaError } from '../../core/errors.js';
import { MetricsRegistry } from '../../metrics/registry.js';
import type { BinaryProvider, StagedBinary, StageOptions } from '../binary-provider.js';
import type { BuildContext } from '../chain/types.js';
import { normaliseProviderError, type ProviderRef } from './provider-errors.js';
import { ProviderMetrics, type ProviderMeter } from './provider-metrics.js';
import { checkSha1 } from './sha1-key.js';

type Logger = BuildContext['log'];

export interface GuardOptions extends ProviderRef {
  /** The chain's metrics (a private registry when absent: tests, providers built by hand). */
  metrics?: ProviderMetrics;
  /** Where errors nothing in the catalogue fits are logged with the original. */
  log?: Logger;
}

/** Operations whose first argument is a binary's key. */
const KEYED = new Set(['exists', 'size', 'read', 'readBuffer', 'openFile', 'downloadUrl', 'delete', 'putBinary']);

const guarded = new WeakSet<object>();

export function isGuarded(provider: object): boolean {
  return guarded.has(provider);
}

/**
 * The one decorator every provider of a chain is wrapped in when the chain is built
 * (`chain/build.ts`), after distribution's `base.Base` storage-driver decorator. It adds, once
 * for every provider:
 *
 * - **key validation**: a key that is not a SHA-1 is refused with BAD_REQUEST before the
 *   provider sees it, so providers build paths and object names from keys without checking;
 * - **metrics** by provider id and type: operations, latency, errors by code, bytes read and
 *   committed (`provider-metrics.ts`);
 * - **error normalising**: a raw error becomes the catalogue's typed error stamped with the
 *   provider id (`provider-errors.ts`); a failure of the caller's own upload stream is passed
 *   on untouched, as it is not the provider's.
 *
 * The decorator is transparent: everything else (a type's own members such as `queue`,
 * `pathOf` or `drain`, the duck-typed shard capabilities, `instanceof`) reaches the provider
 * itself, and optional members stay absent when the provider has none. Methods run with the
 * provider as `this`, so a provider calling itself is measured once.
 */
export function guardProvider<T extends BinaryProvider>(provider: T, opts: GuardOptions): T {
  if (guarded.has(provider)) return provider;
  const guard = new Guard(provider, opts);
  const cache = new Map<PropertyKey, { original: unknown; fn: unknown }>();
  const proxy = new Proxy(provider, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      let entry = cache.get(prop);
      if (entry?.original !== value) {
        entry = { original: value, fn: guard.wrap(prop, value as (...args: unknown[]) => unknown) };
        cache.set(prop, entry);
      }
      return entry.fn;
    },
  });
  guarded.add(proxy);
  return proxy;
}

const seconds = (t0: number) => (performance.now() - t0) / 1000;

class Guard {
  private readonly meter: ProviderMeter;

  constructor(
    private readonly target: BinaryProvider,
    private readonly opts: GuardOptions,
  ) {
    this.meter = (opts.metrics ?? new ProviderMetrics(new MetricsRegistry())).meter(opts);
  }

  wrap(prop: PropertyKey, fn: (...args: unknown[]) => unknown): unknown {
    const target = this.target;
    if (typeof prop !== 'string') return fn.bind(target);
    if (KEYED.has(prop)) return (key: string, ...rest: unknown[]) => this.keyed(prop, fn, key, rest);
    if (prop === 'stage') return (source: AsyncIterable<Uint8Array>, options?: StageOptions) => this.stage(fn, source, options);
    if (prop === 'list') return () => this.list(fn);
    if (prop === 'check') return () => this.timed('check', undefined, () => fn.call(target));
    return fn.bind(target);
  }

  /** The typed, stamped error to throw, counted; logged when nothing in the catalogue fitted. */
  private failure(op: string, err: unknown, t0: number, key?: string): unknown {
    const { error, unexpected } = normaliseProviderError(err, this.opts, op, key);
    this.meter.failed(op, isArcaError(error) ? error.code : 'ABORTED', seconds(t0));
    if (unexpected) this.opts.log?.error({ err, provider: this.opts.id, type: this.opts.type, op, sha1: key }, `binary provider '${this.opts.id}' failed unexpectedly`);
    return error;
  }

  private async timed<R>(op: string, key: string | undefined, run: () => unknown): Promise<R> {
    const t0 = performance.now();
    let result: R;
    try {
      if (key !== undefined) checkSha1(key);
      result = (await run()) as R;
    } catch (err) {
      throw this.failure(op, err, t0, key);
    }
    this.meter.done(op, seconds(t0));
    return result;
  }

  private async keyed(op: string, fn: (...args: unknown[]) => unknown, key: string, rest: unknown[]): Promise<unknown> {
    const result = await this.timed<unknown>(op, key, () => fn.call(this.target, key, ...rest));
    if (op === 'readBuffer') this.meter.read((result as Buffer).length);
    else if (op === 'read') countPushed(result as Readable, (n) => this.meter.read(n));
    else if (op === 'putBinary') this.meter.written(rest[1] as number);
    return result;
  }

  private async stage(fn: (...args: unknown[]) => unknown, source: AsyncIterable<Uint8Array>, options?: StageOptions): Promise<StagedBinary> {
    const t0 = performance.now();
    // A failure of the caller's stream (a client that hung up) is the caller's, not the provider's.
    const broken: { err?: unknown } = {};
    let staged: StagedBinary;
    try {
      staged = (await fn.call(this.target, watch(source, broken), options)) as StagedBinary;
    } catch (err) {
      if ('err' in broken && err === broken.err) {
        this.meter.done('stage', seconds(t0));
        throw err;
      }
      throw this.failure('stage', err, t0);
    }
    this.meter.done('stage', seconds(t0));
    let committed = false;
    return {
      ...staged,
      commit: async () => {
        await this.timed('commit', undefined, () => staged.commit());
        if (!committed) this.meter.written(staged.size);
        committed = true;
      },
      discard: () => this.timed('discard', undefined, () => staged.discard()),
    };
  }

  private list(fn: (...args: unknown[]) => unknown): AsyncIterable<{ sha1: string; mtimeMs: number }> {
    const self = this;
    return (async function* () {
      const t0 = performance.now();
      let failed = false;
      try {
        yield* fn.call(self.target) as AsyncIterable<{ sha1: string; mtimeMs: number }>;
      } catch (err) {
        failed = true;
        throw self.failure('list', err, t0);
      } finally {
        if (!failed) self.meter.done('list', seconds(t0));
      }
    })();
  }
}

/** Wraps `source` so its own failures are recorded in `broken` before they reach the provider. */
function watch(source: AsyncIterable<Uint8Array>, broken: { err?: unknown }): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]() {
      const it = source[Symbol.asyncIterator]();
      const mark = (err: unknown): never => {
        broken.err = err;
        throw err;
      };
      return {
        next: () => it.next().catch(mark),
        return: (value?: unknown) => (it.return ? it.return(value) : Promise.resolve({ done: true as const, value: undefined })),
      };
    },
  };
}

/**
 * Counts the bytes of a stream as the provider pushes them in (every Readable, fs, HTTP or
 * `Readable.from`, fills its buffer through `push`), without a listener that would change its
 * flow or an extra stream in the pipe.
 */
function countPushed(stream: Readable, count: (bytes: number) => void): void {
  if (typeof stream?.push !== 'function') return;
  const push = stream.push;
  stream.push = function (this: Readable, chunk: unknown, encoding?: BufferEncoding) {
    if (chunk != null) count(typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : ((chunk as { length?: number }).length ?? 0));
    return push.call(this, chunk, encoding);
  };
}
