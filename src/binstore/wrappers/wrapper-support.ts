import { randomUUID } from 'node:crypto';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { Readable } from 'node:stream';
import { ArcaError } from '../../core/errors.js';
import type { BuildContext, ProviderNode } from '../chain/types.js';
import type { BinaryProvider } from '../binary-provider.js';

/** Small helpers shared by the wrapper providers (retry, cache-fs, eventual). */

const SHA1 = /^[0-9a-f]{40}$/;

export function isSha1(name: string): boolean {
  return SHA1.test(name);
}

/** Keys are SHA-1 checksums and nothing else, so no path trick reaches a directory. */
export function checkSha1(sha1: string): void {
  if (!SHA1.test(sha1)) throw new ArcaError('BAD_REQUEST', `Not a SHA-1 checksum: '${sha1}'`);
}

export function isEnoent(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

export function notFound(sha1: string, where: string): ArcaError {
  return new ArcaError('ITEM_NOT_FOUND', `Binary ${sha1} is missing from ${where}`);
}

export type Logger = BuildContext['log'];

export const silentLog: Logger = { info() {}, warn() {}, error() {} };

/** A positive integer parameter; an empty value takes the default; anything else is a configuration error. */
export function intParam(node: ProviderNode, name: string, fallback: number): number {
  const raw = node.params[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const n = parseSize(raw);
  if (n === undefined || !Number.isFinite(n) || n < 0) {
    throw new ArcaError('INVALID_CONFIG', `Provider '${node.id}' (${node.type}): ${name} must be a non-negative number, not '${raw}'`);
  }
  return Math.floor(n);
}

/** An optional size parameter: undefined when unset. */
export function optionalSizeParam(node: ProviderNode, name: string): number | undefined {
  const raw = node.params[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  return intParam(node, name, 0);
}

export function boolParam(node: ProviderNode, name: string, fallback: boolean): boolean {
  const raw = node.params[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new ArcaError('INVALID_CONFIG', `Provider '${node.id}' (${node.type}): ${name} must be true or false, not '${raw}'`);
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12 };

/** `5000000000`, `5e+10` (as the Helm chart writes it) or `5GB`. */
export function parseSize(raw: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)\s*([a-z]*)$/i.exec(raw.trim());
  if (!m) return undefined;
  const unit = UNITS[m[2].toLowerCase()];
  if (unit === undefined) return undefined;
  return Number(m[1]) * unit;
}

/** A directory parameter, relative to baseDataDir (the node's data dir) unless absolute. */
export function dirParam(node: ProviderNode, ctx: BuildContext, name: string, fallback: string): string {
  const value = node.params[name]?.trim() || fallback;
  if (isAbsolute(value)) return value;
  return join(baseDir(node, ctx), value);
}

/** `baseDataDir` as resolved by the builder, else the node's data dir. */
export function baseDir(node: ProviderNode, ctx: BuildContext): string {
  return node.params.baseDataDir?.trim() || ctx.dataDir;
}

export function requireChild(node: ProviderNode, child: BinaryProvider | undefined): BinaryProvider {
  if (!child) throw new ArcaError('INVALID_CONFIG', `Provider '${node.id}' (${node.type}) must wrap exactly one child provider`);
  return child;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Copies a stream into an anonymous file under `dir` (created, opened, then unlinked) and
 * returns the open handle: the last resort of `openFile` when a binary is only available as
 * a stream. The file vanishes when the handle is closed.
 */
export async function spoolToHandle(stream: Readable, dir: string): Promise<FileHandle> {
  const path = join(dir, `spool-${randomUUID()}.tmp`);
  const fh = await open(path, 'wx+');
  try {
    await unlink(path);
    let pos = 0;
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      await fh.write(buf, 0, buf.length, pos);
      pos += buf.length;
    }
    return fh;
  } catch (err) {
    stream.destroy();
    await fh.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw err;
  }
}
