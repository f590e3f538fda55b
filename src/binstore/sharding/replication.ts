import { createHash } from 'node:crypto';
import { ArcaError, isArcaError } from '../../core/errors.js';
import type { MaintenanceResult } from '../binary-provider.js';
import type { Shard } from './behaviors.js';

/** What went wrong on one shard, for error messages and logs. */
export interface ShardFailure {
  shard: string;
  error: string;
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Copies one binary into `target` from the first of `sources` that can deliver it. A shard
 * that takes a known SHA-1 directly (a remote peer) verifies it on its side; any other shard
 * stages the bytes and the SHA-1 is compared before the commit.
 */
export async function copyBinary(sources: Shard[], target: Shard, sha1: string, size: number): Promise<void> {
  let last: unknown = new ArcaError('ITEM_NOT_FOUND', `Binary ${sha1} has no readable copy to copy from`);
  for (const source of sources) {
    if (source === target) continue;
    try {
      if (target.provider.putBinary) {
        await target.provider.putBinary(sha1, () => source.provider.read(sha1), size);
        return;
      }
      const staged = await target.provider.stage(await source.provider.read(sha1));
      if (staged.sha1 !== sha1) {
        await staged.discard();
        throw new ArcaError('CHECKSUM_MISMATCH', `Copy of ${sha1} from shard '${source.id}' arrived as ${staged.sha1}`);
      }
      await staged.commit();
      return;
    } catch (err) {
      last = err;
      // A failed target ends the attempt; a failed source lets the next source try.
      if (!(await readable(source, sha1))) continue;
      throw err;
    }
  }
  throw last;
}

async function readable(source: Shard, sha1: string): Promise<boolean> {
  try {
    return (await source.provider.size(sha1)) !== undefined;
  } catch {
    return false;
  }
}

/**
 * Adds copies of a binary to `candidates` (in order, several at a time) until `holders`
 * has `want` shards. A candidate that already holds a copy of the right size counts without
 * a transfer. Returns the bytes transferred; `holders` grows, `failures` collects errors.
 */
export async function replicate(
  sha1: string,
  size: number,
  holders: Shard[],
  want: number,
  candidates: Shard[],
  failures: ShardFailure[],
): Promise<{ copied: number; bytes: number }> {
  const queue = candidates.filter((c) => !holders.includes(c));
  let copied = 0;
  while (holders.length < want && queue.length > 0) {
    const batch = queue.splice(0, want - holders.length);
    const sources = [...holders];
    const results = await Promise.all(
      batch.map(async (target) => {
        try {
          // A target that cannot say whether it holds the binary (its cloud store is down behind
          // local staging, say) may still take a copy: the transfer is idempotent.
          if ((await target.provider.size(sha1).catch(() => undefined)) === size) return { target, moved: false };
          await copyBinary(sources, target, sha1, size);
          return { target, moved: true };
        } catch (err) {
          failures.push({ shard: target.id, error: describe(err) });
          return undefined;
        }
      }),
    );
    for (const r of results) {
      if (!r) continue;
      holders.push(r.target);
      if (r.moved) copied++;
    }
  }
  return { copied, bytes: copied * size };
}

/** SHA-1 of a stored copy, read through its provider; undefined when the copy is gone. */
export async function hashCopy(shard: Shard, sha1: string, signal?: AbortSignal): Promise<{ sha1: string; bytes: number } | undefined> {
  let stream;
  try {
    stream = await shard.provider.read(sha1);
  } catch (err) {
    if (isArcaError(err, 'ITEM_NOT_FOUND')) return undefined;
    throw err;
  }
  const h = createHash('sha1');
  let bytes = 0;
  for await (const chunk of stream) {
    signal?.throwIfAborted();
    h.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha1: h.digest('hex'), bytes };
}

/** Which shards hold which binaries, from every reachable shard's listing. */
export interface Inventory {
  holders: Map<string, Shard[]>;
  /** Every shard answered: only then may surplus copies be removed. */
  complete: boolean;
  failures: ShardFailure[];
}

export async function takeInventory(shards: Shard[], reachable: (s: Shard) => Promise<boolean>, signal?: AbortSignal): Promise<Inventory> {
  const holders = new Map<string, Shard[]>();
  const failures: ShardFailure[] = [];
  let complete = true;
  for (const shard of shards) {
    if (!(await reachable(shard))) {
      complete = false;
      failures.push({ shard: shard.id, error: 'unavailable' });
      continue;
    }
    try {
      for await (const entry of shard.provider.list()) {
        signal?.throwIfAborted();
        const list = holders.get(entry.sha1);
        if (list) list.push(shard);
        else holders.set(entry.sha1, [shard]);
      }
    } catch (err) {
      if (signal?.aborted) throw err;
      complete = false;
      failures.push({ shard: shard.id, error: describe(err) });
    }
  }
  return { holders, complete, failures };
}

export function emptyResult(): Required<MaintenanceResult> {
  return { checked: 0, bytesChecked: 0, corrupt: 0, missing: 0, repaired: 0, bytesRepaired: 0, copied: 0, bytesCopied: 0, removed: 0, unrecoverable: 0 };
}
