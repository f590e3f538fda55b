import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { applyActions, holderLive, planDelete, planEnsure, planReclaim, planRelease, type PoolLicense, type PoolNode, type RuleOptions } from './pool-rules.js';

const DAY = 86_400_000;
const OPTS: RuleOptions = { staleMs: 30_000, expiryWindowMs: 7 * DAY };

function setup() {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const lic = (hash: string, days: number, nodeId: string | null = null, usable = true): PoolLicense => ({ hash, expiresAt: clock.now() + days * DAY, nodeId, usable });
  const node = (id: string, state = 'RUNNING', ageMs = 0): PoolNode => ({ id, state, lastHeartbeat: clock.now() - ageMs });
  return { clock, lic, node };
}

describe('allocation by latest expiry', () => {
  it('a starting node takes the free license with the latest expiry', () => {
    const { clock, lic, node } = setup();
    const pool = [lic('a', 100), lic('b', 300), lic('c', 200), lic('d', 400, 'n1')];
    const plan = planEnsure(pool, [node('n1'), node('n2', 'STARTING')], 'n2', clock.now(), OPTS);
    expect(plan).toEqual({ outcome: 'acquired', hash: 'b', actions: [{ kind: 'assign', hash: 'b', to: 'n2' }] });
  });

  it('three nodes starting one after the other take the licenses in order of expiry; the fourth gets none', () => {
    const { clock, lic, node } = setup();
    let pool = [lic('a', 100), lic('b', 300), lic('c', 200)];
    const nodes = [node('n1'), node('n2'), node('n3'), node('n4')];
    const got: (string | undefined)[] = [];
    for (const n of nodes) {
      const plan = planEnsure(pool, nodes, n.id, clock.now(), OPTS);
      pool = applyActions(pool, plan.actions);
      got.push(plan.hash);
    }
    expect(got).toEqual(['b', 'c', 'a', undefined]);
    expect(planEnsure(pool, nodes, 'n4', clock.now(), OPTS).outcome).toBe('none');
  });

  it('equal expiries are broken by hash, so every node computes the same choice', () => {
    const { clock, lic, node } = setup();
    const plan = planEnsure([lic('zz', 50), lic('aa', 50)], [node('n1')], 'n1', clock.now(), OPTS);
    expect(plan.hash).toBe('aa');
  });

  it('a node that holds a license keeps it, even when a later one is free', () => {
    const { clock, lic, node } = setup();
    const plan = planEnsure([lic('a', 100, 'n1'), lic('b', 900)], [node('n1')], 'n1', clock.now(), OPTS);
    expect(plan).toEqual({ outcome: 'kept', hash: 'a', actions: [] });
  });

  it('licenses this node cannot verify are never taken, and one it holds is given back', () => {
    const { clock, lic, node } = setup();
    const plan = planEnsure([lic('foreign', 900, 'n1', false), lic('ok', 10)], [node('n1')], 'n1', clock.now(), OPTS);
    expect(plan.actions).toEqual([
      { kind: 'release', hash: 'foreign', from: 'n1' },
      { kind: 'assign', hash: 'ok', to: 'n1' },
    ]);
    expect(planEnsure([lic('foreign', 900, null, false)], [node('n1')], 'n1', clock.now(), OPTS).outcome).toBe('none');
  });
});

describe('return on stop', () => {
  it('a stopping node gives its license back', () => {
    const { lic } = setup();
    expect(planRelease([lic('a', 10, 'n1'), lic('b', 10, 'n2')], 'n1')).toEqual([{ kind: 'release', hash: 'a', from: 'n1' }]);
  });

  it('licenses of STOPPED, removed and stale nodes return to the pool; STOPPING and fresh ones stay', () => {
    const { clock, lic, node } = setup();
    const pool = [lic('s', 10, 'stopped'), lic('g', 10, 'gone'), lic('u', 10, 'stale'), lic('p', 10, 'stopping'), lic('r', 10, 'fresh'), lic('x', 10, 'starting')];
    const nodes = [node('stopped', 'STOPPED'), node('stale', 'RUNNING', 30_001), node('stopping', 'STOPPING', 1000), node('fresh', 'RUNNING', 30_000), node('starting', 'STARTING')];
    expect(planReclaim(pool, nodes, clock.now(), OPTS).map((a) => a.hash)).toEqual(['s', 'g', 'u']);
  });

  it('a node killed while holding the best license: after the stale period a new node gets it', () => {
    const { clock, lic, node } = setup();
    const pool = [lic('best', 900, 'n1'), lic('worse', 100)];
    const at = (n1Age: number) => [node('n1', 'RUNNING', n1Age), node('n2', 'STARTING')];
    expect(planEnsure(pool, at(0), 'n2', clock.now(), OPTS).hash).toBe('worse');
    clock.advance(31_000);
    const plan = planEnsure(pool, at(31_000), 'n2', clock.now(), OPTS);
    expect(plan.actions).toEqual([
      { kind: 'release', hash: 'best', from: 'n1' },
      { kind: 'assign', hash: 'best', to: 'n2' },
    ]);
  });

  it('a node that is stopping or stopped takes no license (its last processes may still tick)', () => {
    const { clock, lic, node } = setup();
    expect(planEnsure([lic('a', 100)], [node('n1', 'STOPPED')], 'n1', clock.now(), OPTS)).toEqual({ actions: [], hash: undefined, outcome: 'none' });
    expect(planEnsure([lic('a', 1, 'n1'), lic('b', 100)], [node('n1', 'STOPPING')], 'n1', clock.now(), OPTS)).toEqual({ actions: [], hash: 'a', outcome: 'kept' });
  });

  it('a node always counts itself as live (its own heartbeat may lag while it starts)', () => {
    const { clock, lic, node } = setup();
    const plan = planEnsure([lic('a', 100, 'n1')], [node('n1', 'STARTING', 120_000)], 'n1', clock.now(), OPTS);
    expect(plan).toEqual({ outcome: 'kept', hash: 'a', actions: [] });
    expect(holderLive(undefined, clock.now(), OPTS.staleMs)).toBe(false);
  });
});

describe('swap before expiry', () => {
  it('switches to a free later license once within the window, not before', () => {
    const { clock, lic, node } = setup();
    const pool = [lic('old', 10, 'n1'), lic('new', 365)];
    expect(planEnsure(pool, [node('n1')], 'n1', clock.now(), OPTS).outcome).toBe('kept');
    clock.advance(3 * DAY - 1);
    expect(planEnsure(pool, [node('n1', 'RUNNING')], 'n1', clock.now(), OPTS).outcome).toBe('kept');
    clock.advance(1);
    const plan = planEnsure(pool, [node('n1')], 'n1', clock.now(), OPTS);
    expect(plan).toEqual({
      outcome: 'swapped',
      hash: 'new',
      actions: [
        { kind: 'release', hash: 'old', from: 'n1' },
        { kind: 'assign', hash: 'new', to: 'n1' },
      ],
    });
  });

  it('keeps an expiring (or expired) license when no later one is free: licenses are perpetual', () => {
    const { clock, lic, node } = setup();
    const pool = [lic('old', 2, 'n1'), lic('older', 1), lic('taken', 365, 'n2')];
    const nodes = [node('n1'), node('n2')];
    expect(planEnsure(pool, nodes, 'n1', clock.now(), OPTS)).toEqual({ outcome: 'expiring', hash: 'old', actions: [] });
    clock.advance(30 * DAY);
    expect(planEnsure(pool, [node('n1'), node('n2')], 'n1', clock.now(), OPTS).hash).toBe('old');
  });

  it('the license released by a swap is free for the next node, and swaps never go back', () => {
    const { clock, lic, node } = setup();
    let pool = [lic('old', 5, 'n1'), lic('new', 365)];
    const nodes = [node('n1'), node('n2')];
    pool = applyActions(pool, planEnsure(pool, nodes, 'n1', clock.now(), OPTS).actions);
    const second = planEnsure(pool, nodes, 'n2', clock.now(), OPTS);
    expect(second.hash).toBe('old');
    pool = applyActions(pool, second.actions);
    expect(planEnsure(pool, nodes, 'n1', clock.now(), OPTS).outcome).toBe('kept');
    expect(planEnsure(pool, nodes, 'n2', clock.now(), OPTS).outcome).toBe('expiring');
  });
});

describe('delete rules', () => {
  it('deletes a free license, and one held by a dead node', () => {
    const { clock, lic, node } = setup();
    const plan = planDelete([lic('free', 10), lic('dead', 10, 'n9'), lic('used', 10, 'n1')], [node('n1')], ['free', 'dead'], clock.now(), OPTS);
    expect(plan.results.map((r) => [r.hash, r.ok])).toEqual([
      ['free', true],
      ['dead', true],
    ]);
    const after = applyActions([lic('free', 10), lic('dead', 10, 'n9'), lic('used', 10, 'n1')], plan.actions);
    expect(after.map((l) => [l.hash, l.nodeId])).toEqual([['used', 'n1']]);
  });

  it('refuses a license in use when no alternative is free', () => {
    const { clock, lic, node } = setup();
    const pool = [lic('a', 10, 'n1'), lic('b', 10, 'n2')];
    const plan = planDelete(pool, [node('n1'), node('n2')], ['a'], clock.now(), OPTS);
    expect(plan.actions).toEqual([]);
    expect(plan.results).toEqual([{ hash: 'a', ok: false, reason: 'in-use', node: 'n1', message: "License is in use by node 'n1' and no free license can replace it" }]);
  });

  it('deletes a license in use when a free one exists; the holder switches to the latest free one', () => {
    const { clock, lic, node } = setup();
    const pool = [lic('a', 10, 'n1'), lic('f1', 50), lic('f2', 80)];
    const plan = planDelete(pool, [node('n1')], ['a'], clock.now(), OPTS);
    expect(plan.results[0]).toMatchObject({ ok: true, node: 'n1', replacedBy: 'f2' });
    expect(applyActions(pool, plan.actions).map((l) => [l.hash, l.nodeId])).toEqual([
      ['f1', null],
      ['f2', 'n1'],
    ]);
  });

  it('a license deleted in the same request is no alternative, and one alternative serves one holder', () => {
    const { clock, lic, node } = setup();
    const pool = [lic('a', 10, 'n1'), lic('b', 10, 'n2'), lic('f', 50)];
    const plan = planDelete(pool, [node('n1'), node('n2')], ['a', 'b', 'f', 'nope'], clock.now(), OPTS);
    expect(plan.results.map((r) => [r.hash, r.ok, r.ok ? undefined : r.reason])).toEqual([
      ['a', false, 'in-use'],
      ['b', false, 'in-use'],
      ['f', true, undefined],
      ['nope', false, 'not-found'],
    ]);
    const two = planDelete(pool, [node('n1'), node('n2')], ['a', 'b'], clock.now(), OPTS);
    expect(two.results.map((r) => r.ok)).toEqual([true, false]);
  });

  it('a license held by a node stale past the period is free: deleting it needs no alternative', () => {
    const { clock, lic, node } = setup();
    const pool = [lic('a', 10, 'n1')];
    expect(planDelete(pool, [node('n1', 'RUNNING', 29_000)], ['a'], clock.now(), OPTS).results[0].ok).toBe(false);
    expect(planDelete(pool, [node('n1', 'RUNNING', 31_000)], ['a'], clock.now(), OPTS).results[0].ok).toBe(true);
  });
});
