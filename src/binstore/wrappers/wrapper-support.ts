import { randomUUID } from 'node:crypto';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { Readable } from 'node:stream';
import { ArcaError } from '../../core/errors.js';
import type { BuildContext, ProviderNode } from '../chain/types.js';
import type { BinaryProvider } from '../binary-provider.js';

/** Small helpers shared by the wrapper providers (retry, cache-fs, eventual); parameters: `chain/params.ts`. */

export function isEnoent(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

export function notFound(sha1: string, where: string): ArcaError {
  return new ArcaError('ITEM_NOT_FOUND', `Binary ${sha1} is missing from ${where}`);
}

export type Logger = BuildContext['log'];

export const silentLog: Logger = { info() {}, warn() {}, error() {} };

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
