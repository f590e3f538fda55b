import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ArcaError } from '../../core/errors.js';
import type { BinaryProvider } from '../binary-provider.js';

/** The seed's read/write behaviours of sharding providers. */
export const BEHAVIORS = ['roundRobin', 'freeSpace', 'percentageFreeSpace', 'crossNetworkStrategy'] as const;
export type Behavior = (typeof BEHAVIORS)[number];

export function parseBehavior(value: string | undefined, param: string, fallback: Behavior): Behavior {
  if (value === undefined || value.trim() === '') return fallback;
  const v = value.trim();
  const found = BEHAVIORS.find((b) => b.toLowerCase() === v.toLowerCase());
  if (!found) throw new ArcaError('INVALID_CONFIG', `${param} '${value}' is not one of ${BEHAVIORS.join(', ')}`);
  return found;
}

/** Optional shard capabilities, found by duck typing on the built providers. */
export interface ShardCapabilities {
  /** Free and total bytes of the shard's storage. */
  freeSpace?(): Promise<{ free: number; total: number }>;
  /** False while the shard is known to be down (a remote peer within its checkPeriod, a state-aware store failing its check). */
  available?(): boolean | Promise<boolean>;
  /** Streams a binary whose SHA-1 is known straight into the shard (verifying it there). */
  putBinary?(sha1: string, open: () => Promise<AsyncIterable<Uint8Array>>, size: number): Promise<void>;
  /** A state-aware shard that does not take new writes. */
  writeEnabled?: boolean;
}

/** One shard of a sharding provider: a built sub-provider with its zone and write flag. */
export interface Shard {
  /** The provider id (a peer's remote shard: `<dynamic id>@<nodeId>`). */
  id: string;
  provider: BinaryProvider & ShardCapabilities;
  zone: string;
  writeEnabled: boolean;
  /** A shard on this node's own disks. */
  local: boolean;
}

/** Availability answers in flight, so concurrent operations share one probe per shard. */
const probing = new WeakMap<object, Promise<boolean>>();

export function isAvailable(s: Shard): Promise<boolean> {
  if (!s.provider.available) return Promise.resolve(true);
  let p = probing.get(s.provider);
  if (!p) {
    p = Promise.resolve()
      .then(() => s.provider.available!())
      .then((ok) => ok !== false, () => false)
      .finally(() => probing.delete(s.provider));
    probing.set(s.provider, p);
  }
  return p;
}

export async function isWritable(s: Shard): Promise<boolean> {
  return s.writeEnabled && s.provider.writeEnabled !== false && (await isAvailable(s));
}

/** The shards for which `test` holds, in their order (tests run concurrently). */
export async function filterShards(shards: Shard[], test: (s: Shard) => Promise<boolean>): Promise<Shard[]> {
  const ok = await Promise.all(shards.map(test));
  return shards.filter((_, i) => ok[i]);
}

const ZERO = '0'.repeat(40);

/** Free space of a shard: its own report, else statfs of a file-system shard's store directory. */
export async function freeSpaceOf(s: Shard): Promise<{ free: number; total: number } | undefined> {
  try {
    if (s.provider.freeSpace) return await s.provider.freeSpace();
    const pathOf = (s.provider as { pathOf?: (sha1: string) => string }).pathOf;
    if (typeof pathOf !== 'function') return undefined;
    const st = await statfs(dirname(dirname(pathOf.call(s.provider, ZERO))));
    return { free: st.bavail * st.bsize, total: st.blocks * st.bsize };
  } catch {
    return undefined;
  }
}

function rotate<T>(items: T[], by: number): T[] {
  if (items.length === 0) return items;
  const k = ((by % items.length) + items.length) % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/**
 * Orders shards for one operation. `turn` is a counter the caller increments per operation
 * (round robin); `space` holds free-space samples by shard id for the space behaviours;
 * `localZone` is the zone of this node's own shards (crossNetworkStrategy).
 */
export function orderShards(
  behavior: Behavior,
  shards: Shard[],
  turn: number,
  space: Map<string, { free: number; total: number } | undefined> = new Map(),
): Shard[] {
  switch (behavior) {
    case 'roundRobin':
      return rotate(shards, turn);
    case 'freeSpace':
    case 'percentageFreeSpace': {
      const score = (s: Shard) => {
        const sp = space.get(s.id);
        if (!sp) return -1;
        return behavior === 'freeSpace' ? sp.free : sp.total > 0 ? sp.free / sp.total : 0;
      };
      // Equal scores keep a round-robin order, so equally free shards share the load.
      return rotate(shards, turn)
        .map((s, i) => ({ s, i, score: score(s) }))
        .sort((a, b) => b.score - a.score || a.i - b.i)
        .map((x) => x.s);
    }
    case 'crossNetworkStrategy': {
      // This node's own shards first, then shards in other zones (spread round robin), then
      // the remaining remote shards of the local zone.
      const local = shards.filter((s) => s.local);
      const localZones = new Set(local.map((s) => s.zone));
      const remote = shards.filter((s) => !s.local);
      const otherZone = remote.filter((s) => !localZones.has(s.zone));
      const sameZone = remote.filter((s) => localZones.has(s.zone));
      return [...local, ...rotate(otherZone, turn), ...rotate(sameZone, turn)];
    }
  }
}
