import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../test/helpers/databases.js';
import { everyMs } from './schedule.js';
import { FakeCluster, gatedTask, LEASE_MS, quickTask, settle } from './testing/cluster.js';

const MINUTE = 60_000;

describe.each(DIALECTS)('cluster task scheduler on %s', (dialect) => {
  let cluster: FakeCluster;
  beforeEach(async () => {
    cluster = await FakeCluster.open(dialect);
  });
  afterEach(async () => {
    await cluster.close();
  });

  it('runs a scheduled task exactly once per slot across three nodes', async () => {
    const { task, ranOn } = quickTask('sweep', { schedule: everyMs(MINUTE) });
    const nodes = [await cluster.node('a', [task]), await cluster.node('b', [task]), await cluster.node('c', [task])];
    await cluster.tick(...nodes);
    expect(ranOn).toEqual([]);
    for (let slot = 1; slot <= 3; slot++) {
      cluster.clock.advance(MINUTE);
      await cluster.tick(...nodes);
      await cluster.tick(...nodes);
      await Promise.all(nodes.map((n) => n.runner.idle()));
      expect(ranOn).toHaveLength(slot);
    }
    const runs = await cluster.runs('sweep');
    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(runs.map((r) => Number(r.slot) - Date.UTC(2026, 0, 1))).toEqual([MINUTE, 2 * MINUTE, 3 * MINUTE]);
    expect(runs.every((r) => r.trigger_type === 'schedule' && r.ended_at !== null && r.counts !== null)).toBe(true);
  });

  it('runs once for slots missed while no node was up, then keeps to the schedule', async () => {
    const { task, ranOn } = quickTask('sweep', { schedule: everyMs(MINUTE) });
    const a = await cluster.node('a', [task]);
    await cluster.tick(a);
    cluster.clock.advance(10 * MINUTE + 5_000);
    await cluster.tick(a);
    await a.runner.idle();
    await cluster.tick(a);
    expect(ranOn).toHaveLength(1);
    const [info] = await a.service.list();
    expect(info).toMatchObject({ name: 'sweep', schedule: 'every 60s', nextRunAt: new Date(Date.UTC(2026, 0, 1) + 11 * MINUTE).toISOString() });
    expect(info.lastRun).toMatchObject({ status: 'SUCCEEDED', nodeId: 'a', counts: { items: 1 } });
  });

  it('leaves nodes with taskAffinity none out', async () => {
    const { task, ranOn } = quickTask('sweep', { schedule: everyMs(MINUTE) });
    const a = await cluster.node('a', [task], { taskAffinity: 'none' });
    const b = await cluster.node('b', [task], { taskAffinity: 'none' });
    for (let i = 0; i < 3; i++) {
      cluster.clock.advance(MINUTE);
      await cluster.tick(a, b);
    }
    expect(ranOn).toEqual([]);
    expect(await a.service.eligibility()).toMatchObject({ eligible: false, mode: 'affinity' });
    const c = await cluster.node('c', [task], { taskAffinity: 'any' });
    await cluster.tick(a, b, c);
    await c.runner.idle();
    expect(ranOn).toEqual(['c']);
  });

  it('with only legacy primary flags, only the primary runs tasks', async () => {
    const { task, ranOn } = quickTask('sweep', { schedule: everyMs(MINUTE) });
    const member1 = await cluster.node('m1', [task], { explicit: false });
    const member2 = await cluster.node('m2', [task], { explicit: false });
    const primary = await cluster.node('p', [task], { explicit: false, primary: true });
    for (let i = 0; i < 4; i++) {
      cluster.clock.advance(MINUTE);
      await cluster.tick(member1, member2);
      await cluster.tick(primary, member1, member2);
      await primary.runner.idle();
    }
    expect(ranOn).toEqual(['p', 'p', 'p', 'p']);
    expect(await member1.service.eligibility()).toMatchObject({ eligible: false, mode: 'legacy-primary' });
    // A crashed primary keeps the rule (tasks wait for it); a cleanly stopped one does not.
    await cluster.db.updateTable('cluster_nodes').set({ server_state: 'STOPPED' }).where('server_id', '=', 'p').execute();
    cluster.clock.advance(MINUTE);
    await cluster.tick(member1);
    await member1.runner.idle();
    expect(ranOn).toEqual(['p', 'p', 'p', 'p', 'm1']);
  });

  it('takes a task over from a node that died once its lease expires, and fences the dead node’s late writes', async () => {
    const { task, runs } = gatedTask('backup', { schedule: everyMs(MINUTE) });
    const a = await cluster.node('a', [task]);
    const b = await cluster.node('b', [task]);
    cluster.clock.advance(MINUTE);
    await cluster.tick(a);
    await cluster.tick(b);
    expect(runs.map((r) => r.nodeId)).toEqual(['a']);
    // Node a dies: it neither renews nor finishes. Until the lease expires b keeps off.
    cluster.clock.advance(LEASE_MS - 1);
    await cluster.tick(b);
    expect(runs).toHaveLength(1);
    cluster.clock.advance(1);
    await cluster.tick(b);
    expect(runs.map((r) => [r.nodeId, r.attempt])).toEqual([['a', 1], ['b', 2]]);
    runs[1].finish();
    await b.runner.idle();
    // The dead node wakes up and tries to write under its old lease: rejected.
    const late = cluster.db.transaction().execute(async (trx) => {
      await runs[0].ctx.fence(trx);
      await trx.insertInto('system_config').values({ config_key: 'late', config_value: '1', modified: 0 }).execute();
    });
    await expect(late).rejects.toThrow(/no longer held/);
    runs[0].finish();
    await a.runner.idle();
    const rows = await cluster.runs('backup');
    expect(rows.map((r) => [r.node_id, r.attempt, r.status])).toEqual([
      ['a', 1, 'ABANDONED'],
      ['b', 2, 'SUCCEEDED'],
    ]);
    expect(rows[0].error).toMatch(/lease of node 'a'.*taken over by node 'b'/);
    expect(Number(rows[1].slot)).toBe(Number(rows[0].slot));
    expect(Number(rows[1].fencing_token)).toBeGreaterThan(Number(rows[0].fencing_token));
  });

  it('a running node renews its lease, so nobody takes the task from it', async () => {
    const { task, runs } = gatedTask('backup', { schedule: everyMs(MINUTE) });
    const a = await cluster.node('a', [task]);
    const b = await cluster.node('b', [task]);
    cluster.clock.advance(MINUTE);
    await cluster.tick(a);
    for (let i = 0; i < 6; i++) {
      cluster.clock.advance(LEASE_MS / 2);
      await cluster.tick(a, b);
    }
    expect(runs).toHaveLength(1);
    runs[0].finish();
    await a.runner.idle();
    expect((await cluster.runs('backup')).map((r) => [r.node_id, r.status])).toEqual([['a', 'SUCCEEDED']]);
  });

  it('gives up on a slot after the last attempt', async () => {
    const { task, runs } = gatedTask('backup', { schedule: everyMs(10 * MINUTE) });
    const nodes = [await cluster.node('a', [task], { maxAttempts: 2 }), await cluster.node('b', [task], { maxAttempts: 2 }), await cluster.node('c', [task], { maxAttempts: 2 })];
    cluster.clock.advance(10 * MINUTE);
    await cluster.tick(nodes[0]);
    cluster.clock.advance(LEASE_MS);
    await cluster.tick(nodes[1]);
    cluster.clock.advance(LEASE_MS);
    await cluster.tick(nodes[2]);
    expect(runs.map((r) => r.nodeId)).toEqual(['a', 'b']);
    const rows = await cluster.runs('backup');
    expect(rows.map((r) => r.status)).toEqual(['ABANDONED', 'ABANDONED']);
    expect(rows[1].error).toMatch(/no attempts left \(2\)/);
    for (const r of runs) r.finish();
    await settle();
  });

  it('records a failure with its error and does not retry the slot', async () => {
    const { task, runs } = gatedTask('flaky', { schedule: everyMs(MINUTE) });
    const a = await cluster.node('a', [task]);
    cluster.clock.advance(MINUTE);
    await cluster.tick(a);
    runs[0].fail(new Error('disk on fire'));
    await a.runner.idle();
    await cluster.tick(a);
    expect(runs).toHaveLength(1);
    expect((await a.service.runs({ task: 'flaky' }))[0]).toMatchObject({ status: 'FAILED', error: 'disk on fire', nodeId: 'a' });
  });

  it('never runs two tasks of one group at the same time anywhere', async () => {
    const gc = gatedTask('gc', { group: 'storage', schedule: everyMs(MINUTE) });
    const backup = gatedTask('backup', { group: 'storage', schedule: everyMs(MINUTE) });
    const a = await cluster.node('a', [gc.task, backup.task]);
    const b = await cluster.node('b', [gc.task, backup.task]);
    cluster.clock.advance(MINUTE);
    await cluster.tick(a, b);
    await cluster.tick(a, b);
    expect(gc.runs.length + backup.runs.length).toBe(1);
    (gc.runs[0] ?? backup.runs[0]).finish();
    await Promise.all([a.runner.idle(), b.runner.idle()]);
    await cluster.tick(a, b);
    expect(gc.runs.length + backup.runs.length).toBe(2);
    (gc.runs[0] && backup.runs[0] ? [gc.runs[0], backup.runs[0]] : []).forEach((r) => r.finish());
    await Promise.all([a.runner.idle(), b.runner.idle()]);
    expect((await cluster.runs()).map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  });
});
