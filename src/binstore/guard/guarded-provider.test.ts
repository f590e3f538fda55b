import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ArcaError, isArcaError } from '../../core/errors.js';
import { MetricsRegistry, type RegistrySnapshot } from '../../metrics/registry.js';
import type { BinaryProvider, StagedBinary } from '../binary-provider.js';
import { FileSystemProvider } from '../file-system-provider.js';
import { guardProvider, isGuarded } from './guarded-provider.js';
import { PROVIDER_METRICS, ProviderMetrics } from './provider-metrics.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function fileStore(): Promise<FileSystemProvider> {
  const dir = mkdtempSync(join(tmpdir(), 'arca-guard-'));
  dirs.push(dir);
  return new FileSystemProvider({ fileStoreDir: join(dir, 'filestore'), tempDir: join(dir, 'tmp') }).init();
}

const bytes = (data: Buffer) =>
  (async function* () {
    yield data;
  })();

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The sum of a counter's (or a histogram's `_count`) series whose labels include all of `labels`. */
function metric(snapshot: RegistrySnapshot, name: string, labels: Record<string, string>): number {
  const m = snapshot[name];
  if (!m) return 0;
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const matches = (key: string) => wanted.every((w) => key.split(',').includes(w));
  if (m.type === 'histogram') return Object.entries(m.series).reduce((n, [k, s]) => n + (matches(k) ? s.count : 0), 0);
  return Object.entries(m.values).reduce((n, [k, v]) => n + (matches(k) ? v : 0), 0);
}

/** A provider whose operations throw what the test sets (raw errors a real store can throw). */
class Throwing implements Partial<BinaryProvider> {
  readonly type = 'throwing';
  error: unknown = new Error('unset');
  calls = 0;
  async read(): Promise<Readable> {
    this.calls++;
    throw this.error;
  }
  async exists(): Promise<boolean> {
    this.calls++;
    throw this.error;
  }
  async check(): Promise<void> {
    this.calls++;
    throw this.error;
  }
}

describe('the provider guard', () => {
  it('refuses a key that is not a SHA-1 before the provider sees it, stamped with the provider', async () => {
    const inner = new Throwing();
    const registry = new MetricsRegistry();
    const p = guardProvider(inner as unknown as BinaryProvider, { id: 'store-1', type: 'throwing', metrics: new ProviderMetrics(registry) });
    for (const key of ['../../etc/passwd', 'A'.repeat(40), 'a'.repeat(39), '']) {
      const err = await p.read(key).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'BAD_REQUEST', details: { provider: 'store-1', providerType: 'throwing' } });
    }
    expect(inner.calls).toBe(0);
    expect(metric(registry.snapshot(), PROVIDER_METRICS.errors, { provider: 'store-1', op: 'read', code: 'BAD_REQUEST' })).toBe(4);
  });

  it('is transparent: instanceof, own members, absent optional members and `this` are the provider\'s', async () => {
    const fs = await fileStore();
    const p = guardProvider(fs, { id: 'fs', type: 'file-system' });
    expect(p).toBeInstanceOf(FileSystemProvider);
    expect(isGuarded(p)).toBe(true);
    expect(isGuarded(fs)).toBe(false);
    expect(guardProvider(p, { id: 'again', type: 'file-system' })).toBe(p);
    expect(p.type).toBe('file-system');
    expect(p.fileStoreDir).toBe(fs.fileStoreDir);
    expect(p.pathOf('a'.repeat(40))).toBe(fs.pathOf('a'.repeat(40)));
    expect(await p.available()).toBe(true);
    expect((p as BinaryProvider).downloadUrl).toBeUndefined();
    expect(typeof p.openFile).toBe('function');
    expect(p.read).toBe(p.read); // one wrapper per member, not one per access
  });

  it('counts operations, latency and bytes by provider id and type, each call once', async () => {
    const registry = new MetricsRegistry();
    const p = guardProvider(await fileStore(), { id: 'fs-a', type: 'file-system', metrics: new ProviderMetrics(registry) });
    const data = randomBytes(3 << 20);
    const staged = await p.stage(bytes(data));
    await staged.commit();
    await staged.commit(); // idempotent: the bytes are counted once
    expect((await collect(await p.read(staged.sha1))).equals(data)).toBe(true);
    expect((await collect(await p.read(staged.sha1, { start: 10, end: 19 }))).length).toBe(10);
    expect((await p.readBuffer(staged.sha1)).length).toBe(data.length);
    expect(await p.exists(staged.sha1)).toBe(true); // exists calls size inside: one operation
    const listed = [];
    for await (const e of p.list()) listed.push(e.sha1);
    expect(listed).toEqual([staged.sha1]);
    const s = registry.snapshot();
    const of = { provider: 'fs-a', type: 'file-system' };
    expect(metric(s, PROVIDER_METRICS.operations, { ...of, op: 'stage' })).toBe(1);
    expect(metric(s, PROVIDER_METRICS.operations, { ...of, op: 'commit' })).toBe(2);
    expect(metric(s, PROVIDER_METRICS.operations, { ...of, op: 'read' })).toBe(2);
    expect(metric(s, PROVIDER_METRICS.operations, { ...of, op: 'exists' })).toBe(1);
    expect(metric(s, PROVIDER_METRICS.operations, { ...of, op: 'size' })).toBe(0);
    expect(metric(s, PROVIDER_METRICS.operations, { ...of, op: 'list' })).toBe(1);
    expect(metric(s, PROVIDER_METRICS.duration, { ...of, op: 'read' })).toBe(2);
    expect(metric(s, PROVIDER_METRICS.writtenBytes, of)).toBe(data.length);
    expect(metric(s, PROVIDER_METRICS.readBytes, of)).toBe(2 * data.length + 10);
    expect(metric(s, PROVIDER_METRICS.errors, of)).toBe(0);
  });

  it('turns raw errors into catalogue errors naming the provider; keeps an ArcaError\'s code and message', async () => {
    const inner = new Throwing();
    const registry = new MetricsRegistry();
    const logged: unknown[] = [];
    const log = { info() {}, warn() {}, error: (obj: unknown) => void logged.push(obj) };
    const p = guardProvider(inner as unknown as BinaryProvider, { id: 'bucket', type: 's3-storage-v3', metrics: new ProviderMetrics(registry), log });
    const sha1 = 'c'.repeat(40);
    const cases: [unknown, string][] = [
      [Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' }), 'ITEM_NOT_FOUND'],
      [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'UNAVAILABLE'],
      [Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }), 'UNAVAILABLE'],
      [Object.assign(new Error('ENOSPC: no space left'), { code: 'ENOSPC' }), 'STORAGE_FULL'],
      [Object.assign(new Error('SlowDown'), { $metadata: { httpStatusCode: 503 } }), 'UNAVAILABLE'],
      [Object.assign(new Error('AccessDenied'), { $metadata: { httpStatusCode: 403 } }), 'INTERNAL'],
      [new TypeError('undefined is not a function'), 'INTERNAL'],
    ];
    for (const [raw, code] of cases) {
      inner.error = raw;
      const err = await p.read(sha1).catch((e: unknown) => e);
      expect(err, String(raw)).toBeInstanceOf(ArcaError);
      expect(err, String(raw)).toMatchObject({ code, details: { provider: 'bucket', providerType: 's3-storage-v3' }, cause: raw });
    }
    // Nothing in the catalogue fits: a generic message, the original in the log.
    expect(logged).toHaveLength(2);
    expect(logged[1]).toMatchObject({ provider: 'bucket', op: 'read', sha1 });
    inner.error = new ArcaError('UNAVAILABLE', "S3 bucket 'b' at http://x: the service cannot be reached", { retryAfter: 5 });
    const err = await p.exists(sha1).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', message: "S3 bucket 'b' at http://x: the service cannot be reached", details: { retryAfter: 5, provider: 'bucket' } });
    // An abort is the caller's: passed on as it is.
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    inner.error = abort;
    expect(await p.check().catch((e: unknown) => e)).toBe(abort);
    const s = registry.snapshot();
    expect(metric(s, PROVIDER_METRICS.errors, { provider: 'bucket', op: 'read', code: 'UNAVAILABLE' })).toBe(3);
    expect(metric(s, PROVIDER_METRICS.errors, { provider: 'bucket', op: 'exists' })).toBe(1);
  });

  it('keeps the stamp of the innermost provider that failed, through wrappers', async () => {
    const inner = new Throwing();
    inner.error = Object.assign(new Error('connect ECONNREFUSED 10.0.0.9:443'), { code: 'ECONNREFUSED' });
    const leaf = guardProvider(inner as unknown as BinaryProvider, { id: 'azure', type: 'azure-blob-storage' });
    const wrapper = { type: 'retry', read: (sha1: string) => leaf.read(sha1), exists: () => Promise.reject(new ArcaError('UNAVAILABLE', 'gave up')) };
    const root = guardProvider(wrapper as unknown as BinaryProvider, { id: 'retry', type: 'retry' });
    const err = await root.read('d'.repeat(40)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', details: { provider: 'azure' } });
    expect((err as Error).message).toBe(`Binary provider 'azure' (azure-blob-storage) could not read ${'d'.repeat(40)}: connect ECONNREFUSED 10.0.0.9:443`);
    // The wrapper's own error carries the wrapper.
    expect(await root.exists('d'.repeat(40)).catch((e: unknown) => e)).toMatchObject({ details: { provider: 'retry' } });
  });

  it('passes a failure of the caller\'s upload stream on untouched, and leaves nothing staged', async () => {
    const registry = new MetricsRegistry();
    const fs = await fileStore();
    const p = guardProvider(fs, { id: 'fs', type: 'file-system', metrics: new ProviderMetrics(registry) });
    const broken = new Error('client went away');
    const source = (async function* () {
      yield randomBytes(10_000);
      throw broken;
    })();
    expect(await p.stage(source).catch((e: unknown) => e)).toBe(broken);
    expect(metric(registry.snapshot(), PROVIDER_METRICS.errors, {})).toBe(0);
    // A failure of the store while staging is the provider's.
    const refused = await p.stage(bytes(randomBytes(5000)), { maxSize: 100 }).catch((e: unknown) => e);
    expect(isArcaError(refused, 'BAD_REQUEST')).toBe(true);
    expect(refused).toMatchObject({ details: { provider: 'fs' } });
  });

  it('wraps commit and discard of a staged binary and keeps its checksums', async () => {
    const p = guardProvider(await fileStore(), { id: 'fs', type: 'file-system' });
    const data = randomBytes(1000);
    const staged: StagedBinary = await p.stage(bytes(data));
    expect(staged).toMatchObject({ size: 1000, sha1: createHash('sha1').update(data).digest('hex') });
    await staged.discard();
    expect(await p.exists(staged.sha1)).toBe(false);
  });
});
