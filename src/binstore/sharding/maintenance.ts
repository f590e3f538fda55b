import type { MaintenanceResult } from '../binary-provider.js';
import { filterShards, isAvailable, orderShards, type Behavior, type Shard } from './behaviors.js';
import { describe, emptyResult, hashCopy, replicate, takeInventory, type ShardFailure } from './replication.js';

/** What balancing and scrubbing need from a sharding provider. */
export interface MaintenanceHost {
  redundancy: number;
  writeBehavior: Behavior;
  shards(): Promise<Shard[]>;
  /** Writable shards in write order. */
  writeOrder(): Promise<Shard[]>;
  /** Binaries written with fewer copies than the redundancy (cleared once balanced). */
  pending: Map<string, number>;
  log: { warn(obj: unknown, msg?: string): void; error(obj: unknown, msg?: string): void };
  /** Never remove copies above the redundancy (shards in front of one shared store). */
  keepSurplus?: boolean;
}

/**
 * Restores redundancy: every binary with fewer than `redundancy` copies on reachable shards
 * is copied to more shards; surplus copies are removed only when every shard answered and
 * the copies kept are confirmed.
 */
export async function balanceShards(host: MaintenanceHost, signal?: AbortSignal): Promise<MaintenanceResult> {
  const result = emptyResult();
  const shards = await host.shards();
  const inv = await takeInventory(shards, isAvailable, signal);
  for (const [sha1, holders] of inv.holders) {
    signal?.throwIfAborted();
    result.checked++;
    const { redundancy } = host;
    if (holders.length < redundancy) {
      const size = await holders[0].provider.size(sha1).catch(() => undefined);
      if (size === undefined) continue;
      // The listing may be minutes old: a writer's background copy may have landed since.
      for (const s of await filterShards(shards, isAvailable)) {
        if (!holders.includes(s) && (await s.provider.size(sha1).catch(() => undefined)) === size) holders.push(s);
      }
      if (holders.length >= redundancy) {
        host.pending.delete(sha1);
        continue;
      }
      result.missing += redundancy - holders.length;
      const failures: ShardFailure[] = [];
      const moved = await replicate(sha1, size, holders, redundancy, await host.writeOrder(), failures);
      result.copied += moved.copied;
      result.bytesCopied += moved.bytes;
      if (holders.length < redundancy) host.log.warn({ sha1, copies: holders.length, redundancy, failures }, 'balancing could not restore the redundancy');
    } else if (holders.length > redundancy && inv.complete && !host.keepSurplus) {
      result.removed += await removeSurplus(host, sha1, holders);
    }
    if (holders.length >= redundancy) host.pending.delete(sha1);
  }
  if (inv.failures.length > 0) host.log.warn({ failures: inv.failures }, 'balancing ran without every shard; surplus copies were kept');
  return result;
}

async function removeSurplus(host: MaintenanceHost, sha1: string, holders: Shard[]): Promise<number> {
  const { redundancy } = host;
  // Keep this node's copies and the shards first in write order; confirm each kept copy.
  const preferred = orderShards(host.writeBehavior, holders, 0);
  const sizes = await Promise.all(preferred.map((s) => s.provider.size(sha1).catch(() => undefined)));
  const size = sizes.find((n) => n !== undefined);
  const keep = preferred.filter((_, i) => sizes[i] === size).slice(0, redundancy);
  if (keep.length < redundancy) return 0;
  let removed = 0;
  for (const s of preferred) {
    if (keep.includes(s)) continue;
    if (await s.provider.delete(sha1).catch(() => false)) removed++;
  }
  return removed;
}

/**
 * Hashes every copy on every reachable shard; a corrupt copy is replaced from a good one,
 * missing copies are added up to `redundancy`. A binary without any good copy is reported
 * as unrecoverable and left as it is.
 */
export async function scrubShards(host: MaintenanceHost, signal?: AbortSignal): Promise<MaintenanceResult> {
  const result = emptyResult();
  const shards = await host.shards();
  const inv = await takeInventory(shards, isAvailable, signal);
  for (const [sha1, holders] of inv.holders) {
    signal?.throwIfAborted();
    result.checked++;
    const good: Shard[] = [];
    const corrupt: Shard[] = [];
    for (const shard of holders) {
      try {
        const copy = await hashCopy(shard, sha1, signal);
        if (!copy) continue;
        result.bytesChecked += copy.bytes;
        if (copy.sha1 === sha1) good.push(shard);
        else corrupt.push(shard);
      } catch (err) {
        if (signal?.aborted) throw err;
        host.log.warn({ sha1, shard: shard.id, err: describe(err) }, 'scrub could not read a copy');
      }
    }
    result.corrupt += corrupt.length;
    if (good.length === 0) {
      if (corrupt.length > 0) {
        result.unrecoverable++;
        host.log.error({ sha1, shards: corrupt.map((s) => s.id) }, 'every copy of the binary is corrupt');
      }
      continue;
    }
    const size = (await good[0].provider.size(sha1)) ?? 0;
    for (const shard of host.keepSurplus ? [] : corrupt) {
      // In front of a shared store a delete would remove the store's object for every node:
      // report the corrupt copy and leave it to the store (eventual quarantines bad staging).
      try {
        await shard.provider.delete(sha1);
        const failures: ShardFailure[] = [];
        const moved = await replicate(sha1, size, good, good.length + 1, [shard], failures);
        if (failures.length > 0) throw new Error(failures[0].error);
        result.repaired++;
        result.bytesRepaired += moved.bytes;
      } catch (err) {
        host.log.warn({ sha1, shard: shard.id, err: describe(err) }, 'scrub could not replace a corrupt copy');
      }
    }
    if (good.length < host.redundancy) {
      result.missing += host.redundancy - good.length;
      const moved = await replicate(sha1, size, good, host.redundancy, await host.writeOrder(), []);
      result.repaired += moved.copied;
      result.bytesRepaired += moved.bytes;
    }
  }
  return result;
}
