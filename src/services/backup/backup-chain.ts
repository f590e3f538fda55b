import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ArcaError } from '../../core/errors.js';
import { BACKUP_PREFIX, binaryPath, FILES, listBackups, type BinaryRecord, type Manifest } from './backup-format.js';

/**
 * Chains of backups in one directory: a full backup and the incrementals that follow it, each
 * naming the one before (`previous`). Restoring an incremental needs its whole chain, so
 * retention never removes a backup that a kept one builds on.
 */

const NAME = /^arca-backup-[0-9A-Za-z.-]+$/;

export function isIncremental(m: Manifest): boolean {
  return m.kind === 'incremental';
}

export async function readManifest(dir: string, name: string): Promise<Manifest | undefined> {
  if (!NAME.test(name)) return undefined;
  try {
    return JSON.parse(await readFile(join(dir, name, FILES.manifest), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

/** The backups that restoring `last` (a backup in `dir`) needs, the full one first and `last` at the end. */
export async function chainOf(dir: string, last: Manifest): Promise<Manifest[]> {
  const chain = [last];
  while (isIncremental(chain[0])) {
    const prev = chain[0].previous;
    const broken = (why: string) => new ArcaError('BAD_REQUEST', `Not a usable backup at ${join(dir, last.name)}: it is incremental and ${why}`);
    if (typeof prev !== 'string' || !prev.startsWith(BACKUP_PREFIX) || !NAME.test(prev)) throw broken(`names no valid previous backup (${String(prev)})`);
    if (chain.some((m) => m.name === prev)) throw broken(`its chain loops at ${prev}`);
    const m = await readManifest(dir, prev);
    if (!m) throw broken(`the backup it follows, ${prev}, is not a complete backup in ${dir}`);
    if (m.masterKeyFingerprint !== last.masterKeyFingerprint) throw broken(`${prev} was made with another master key`);
    chain.unshift(m);
  }
  return chain;
}

/** The chain of the newest complete backup in `dir`, or none when there is no usable one. */
export async function newestChain(dir: string): Promise<Manifest[]> {
  const newest = (await listBackups(dir)).pop();
  const manifest = newest ? await readManifest(dir, newest) : undefined;
  if (!manifest) return [];
  return chainOf(dir, manifest).catch(() => [] as Manifest[]);
}

/**
 * Where the chain already holds this binary (same size), or undefined. The chain's full backup
 * is looked at first (it holds most binaries), then its incrementals, newest first.
 */
export async function findInChain(dir: string, chain: Manifest[], b: BinaryRecord): Promise<string | undefined> {
  const order = chain.length === 0 ? [] : [chain[0], ...chain.slice(1).reverse()];
  for (const m of order) {
    const file = join(dir, m.name, binaryPath(b.sha1));
    if ((await stat(file).catch(() => undefined))?.size === b.size) return file;
  }
  return undefined;
}

/**
 * Keeps the newest `retain` backups of `dir` and every backup they build on; removes the
 * others (a chain goes only once no backup kept needs it). Returns the removed names.
 */
export async function applyRetention(dir: string, retain: number): Promise<string[]> {
  const all = await listBackups(dir);
  const keep = new Set(all.slice(Math.max(0, all.length - retain)));
  for (const name of [...keep]) {
    let m = await readManifest(dir, name);
    while (m && isIncremental(m) && typeof m.previous === 'string' && !keep.has(m.previous)) {
      keep.add(m.previous);
      m = await readManifest(dir, m.previous);
    }
  }
  const removed: string[] = [];
  for (const name of all) {
    if (keep.has(name)) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
