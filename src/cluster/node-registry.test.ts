import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../../test/helpers/databases.js';
import type { NodeIdentity } from '../config/node-identity.js';
import { FakeClock } from '../core/clock.js';
import { NodeRegistry, type VersionFacts } from './node-registry.js';

const identity = (nodeId: string, extra: Partial<NodeIdentity> = {}): NodeIdentity => ({
  nodeId,
  haEnabled: true,
  contextUrl: `http://${nodeId}:8081/artifactory`,
  membershipPort: 0,
  primary: false,
  taskAffinity: 'any',
  source: 'test',
  warnings: [],
  ...extra,
});
const V1: VersionFacts = { version: '1.4.2', revision: 'abc', releaseDate: '2026-11-01T00:00:00.000Z' };

describe.each(DIALECTS)('node registry on %s', (dialect) => {
  let t: TestDatabase;
  let clock: FakeClock;
  const make = (id: NodeIdentity, instanceId: string, version = V1, alive = true) =>
    new NodeRegistry(t.database, clock, id, version, { instanceId, processAlive: () => alive });

  beforeEach(async () => {
    t = await openTestDatabase(dialect);
    clock = new FakeClock();
  });
  afterEach(async () => {
    await t.drop();
  });

  it('goes STARTING → RUNNING → UNAVAILABLE without heartbeats → RUNNING again → STOPPED', async () => {
    const a = make(identity('art1', { primary: true, membershipPort: 10001 }), 'i-1');
    await a.register();
    expect((await a.list())[0]).toMatchObject({ id: 'art1', state: 'STARTING', role: 'PRIMARY', url: 'http://art1:8081/artifactory', membershipPort: 10001, taskAffinity: 'any', version: '1.4.2', revision: 'abc' });
    await a.setState('RUNNING');
    clock.advance(29_000);
    expect((await a.list())[0].state).toBe('RUNNING');
    clock.advance(2_000);
    expect((await a.list())[0].state).toBe('UNAVAILABLE');
    await a.heartbeat();
    const row = (await a.list())[0];
    expect(row.state).toBe('RUNNING');
    expect(Date.parse(row.lastHeartbeat)).toBe(clock.now());
    await a.setState('STOPPED');
    clock.advance(5_000);
    await a.heartbeat();
    expect((await a.list())[0].state).toBe('STOPPED');
  });

  it('refuses a second live node with the same id, and allows it once the first is stale or gone', async () => {
    const first = make(identity('art2'), 'i-1');
    await first.register();
    await first.setState('RUNNING');
    await expect(make(identity('art2'), 'i-2').register()).rejects.toThrow(/Node id 'art2' is already RUNNING/);
    // The same start of the node (a replaced worker) may register again.
    await expect(make(identity('art2'), 'i-1').register()).resolves.toBeUndefined();
    await first.setState('RUNNING');
    // A crashed instance on this host whose process is gone does not block a restart.
    await expect(make(identity('art2'), 'i-3', V1, false).register()).resolves.toBeUndefined();
    const third = make(identity('art2'), 'i-3');
    await third.setState('RUNNING');
    clock.advance(31_000);
    await expect(make(identity('art2'), 'i-4').register()).resolves.toBeUndefined();
  });

  it('refuses a node of another major.minor version and a second running primary', async () => {
    const a = make(identity('a', { primary: true }), 'i-a');
    await a.register();
    await a.setState('RUNNING');
    await expect(make(identity('b'), 'i-b', { ...V1, version: '1.5.0' }).register()).rejects.toThrow(/runs version 1.4.2; this node is 1.5.0/);
    await expect(make(identity('b'), 'i-b', { ...V1, version: '1.4.9' }).register()).resolves.toBeUndefined();
    await expect(make(identity('c', { primary: true }), 'i-c').register()).rejects.toThrow(/already the running PRIMARY/);
    expect((await a.list()).map((n) => [n.id, n.role])).toEqual([
      ['a', 'PRIMARY'],
      ['b', 'MEMBER'],
    ]);
  });

  it('reports STANDALONE outside HA', async () => {
    const s = make(identity('solo', { haEnabled: false, contextUrl: undefined }), 'i-s');
    await s.register();
    expect((await s.list())[0]).toMatchObject({ role: 'STANDALONE', url: null });
  });
});
