import { describe, expect, it } from 'vitest';
import type { BinaryProvider } from '../binary-provider.js';
import { orderShards, parseBehavior, type Shard } from './behaviors.js';

const shard = (id: string, local: boolean, zone: string): Shard => ({ id, local, zone, writeEnabled: true, provider: {} as BinaryProvider });
const ids = (s: Shard[]) => s.map((x) => x.id);

describe('shard ordering behaviours', () => {
  const a = shard('a', true, 'local');
  const b = shard('b', true, 'local');
  const c = shard('c', true, 'local');

  it('roundRobin starts one shard further on each turn', () => {
    expect([0, 1, 2, 3].map((t) => ids(orderShards('roundRobin', [a, b, c], t))[0])).toEqual(['a', 'b', 'c', 'a']);
    expect(ids(orderShards('roundRobin', [a, b, c], 1))).toEqual(['b', 'c', 'a']);
  });

  it('freeSpace prefers the most free bytes, percentageFreeSpace the highest free ratio', () => {
    const space = new Map([
      ['a', { free: 100, total: 1000 }],
      ['b', { free: 50, total: 100 }],
      ['c', { free: 300, total: 10_000 }],
    ]);
    expect(ids(orderShards('freeSpace', [a, b, c], 0, space))).toEqual(['c', 'a', 'b']);
    expect(ids(orderShards('percentageFreeSpace', [a, b, c], 0, space))).toEqual(['b', 'a', 'c']);
  });

  it('puts a shard of unknown free space last and breaks ties round robin', () => {
    const space = new Map([
      ['a', { free: 10, total: 100 }],
      ['b', { free: 10, total: 100 }],
    ]);
    expect(ids(orderShards('freeSpace', [a, b, c], 0, space))).toEqual(['a', 'b', 'c']);
    expect(ids(orderShards('freeSpace', [a, b, c], 1, space))).toEqual(['b', 'a', 'c']);
  });

  it('crossNetworkStrategy: local shards first, then other zones spread round robin, then remote shards of the local zone', () => {
    const local = shard('local', true, 'local');
    const r1 = shard('r1', false, 'remote');
    const r2 = shard('r2', false, 'remote');
    const same = shard('same-zone', false, 'local');
    expect(ids(orderShards('crossNetworkStrategy', [same, r1, local, r2], 0))).toEqual(['local', 'r1', 'r2', 'same-zone']);
    expect(ids(orderShards('crossNetworkStrategy', [same, r1, local, r2], 1))).toEqual(['local', 'r2', 'r1', 'same-zone']);
  });

  it('parses behaviour names case-insensitively and refuses unknown ones', () => {
    expect(parseBehavior('ROUNDROBIN', 'readBehavior', 'freeSpace')).toBe('roundRobin');
    expect(parseBehavior(undefined, 'readBehavior', 'freeSpace')).toBe('freeSpace');
    expect(() => parseBehavior('fastest', 'writeBehavior', 'roundRobin')).toThrow(/writeBehavior 'fastest' is not one of/);
  });
});
