import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../test/helpers/databases.js';
import { ArcaError } from '../../core/errors.js';
import { everyMs } from './schedule.js';
import { FakeCluster, gatedTask, quickTask } from './testing/cluster.js';

const params = (raw: unknown) => {
  if (raw !== undefined && (typeof raw !== 'object' || raw === null)) throw new ArcaError('BAD_REQUEST', 'expected an object');
  return { label: String((raw as { label?: unknown } | undefined)?.label ?? 'none') };
};

describe.each(DIALECTS)('cluster tasks on demand on %s', (dialect) => {
  let cluster: FakeCluster;
  beforeEach(async () => {
    cluster = await FakeCluster.open(dialect);
  });
  afterEach(async () => {
    await cluster.close();
  });

  it('runs at once on the node asked, with its parameters, and reports the run', async () => {
    const { task, runs } = gatedTask('export', { params });
    const a = await cluster.node('a', [task]);
    const requested = await a.service.request('export', { label: 'nightly' }, 'admin');
    expect(requested.run).toMatchObject({ task: 'export', trigger: 'manual', status: 'RUNNING', nodeId: 'a', requestedBy: 'admin', params: { label: 'nightly' } });
    expect(runs.map((r) => r.params)).toEqual([{ label: 'nightly' }]);
    const pending = await a.service.wait(requested, 20);
    expect(pending.status).toBe('RUNNING');
    runs[0].finish();
    const done = await a.service.wait(requested, 5_000);
    expect(done).toMatchObject({ status: 'SUCCEEDED', counts: { done: 1 }, endedAt: expect.any(String) });
    expect(await a.service.run(requested.run.id)).toEqual(done);
    expect((await a.service.list())[0]).toMatchObject({ name: 'export', schedule: null, nextRunAt: null, running: null, queued: 0, lastRun: { id: requested.run.id } });
  });

  it('refuses unknown tasks and bad parameters', async () => {
    const { task } = gatedTask('export', { params });
    const a = await cluster.node('a', [task]);
    await expect(a.service.request('nope', undefined, 'admin')).rejects.toThrow(/No cluster task 'nope'; the tasks are: export/);
    await expect(a.service.request('export', 'text', 'admin')).rejects.toThrow(/expected an object/);
    await expect(a.service.run('missing')).rejects.toThrow(/No task run/);
  });

  it('queues a request made while the task runs, and the scheduler runs it next', async () => {
    const { task, runs } = gatedTask('export');
    const a = await cluster.node('a', [task]);
    const b = await cluster.node('b', [task]);
    const first = await a.service.request('export', undefined, 'admin');
    const second = await b.service.request('export', undefined, 'alice');
    expect(second.run.status).toBe('QUEUED');
    await cluster.tick(a, b);
    expect(runs).toHaveLength(1);
    runs[0].finish();
    await a.service.wait(first, 5_000);
    await cluster.tick(b);
    expect(runs.map((r) => r.nodeId)).toEqual(['a', 'b']);
    runs[1].finish();
    expect(await b.service.wait(second, 5_000)).toMatchObject({ status: 'SUCCEEDED', nodeId: 'b', requestedBy: 'alice' });
  });

  it('a node with taskAffinity none queues the request for an eligible node', async () => {
    const { task, ranOn } = quickTask('export');
    const a = await cluster.node('a', [task], { taskAffinity: 'none' });
    const b = await cluster.node('b', [task]);
    const requested = await a.service.request('export', undefined, 'admin');
    expect(requested.run).toMatchObject({ status: 'QUEUED', nodeId: null });
    await cluster.tick(a);
    expect(ranOn).toEqual([]);
    await cluster.tick(b);
    expect(await a.service.wait(requested, 5_000)).toMatchObject({ status: 'SUCCEEDED', nodeId: 'b', result: { node: 'b' } });
  });

  it('a stopping node hands its running task over, and another node completes it', async () => {
    const { task, runs } = gatedTask('backup', { schedule: everyMs(60_000) });
    const a = await cluster.node('a', [task]);
    const b = await cluster.node('b', [task]);
    cluster.clock.advance(60_000);
    await cluster.tick(a);
    expect(runs.map((r) => r.nodeId)).toEqual(['a']);
    await a.scheduler.stop(5_000);
    await cluster.tick(b);
    expect(runs.map((r) => [r.nodeId, r.attempt])).toEqual([['a', 1], ['b', 2]]);
    runs[1].finish();
    await b.runner.idle();
    const rows = await cluster.runs('backup');
    expect(rows.map((r) => [r.node_id, r.status, r.trigger_type])).toEqual([
      ['a', 'ABANDONED', 'schedule'],
      ['b', 'SUCCEEDED', 'schedule'],
    ]);
    expect(rows[0].error).toMatch(/Node 'a' stopped during the run; handed over/);
    expect(Number(rows[1].slot)).toBe(Number(rows[0].slot));
  });

  it('lists runs newest first, filtered by task and status', async () => {
    const one = quickTask('one');
    const two = quickTask('two');
    const a = await cluster.node('a', [one.task, two.task]);
    for (const name of ['one', 'two', 'one']) {
      await a.service.wait(await a.service.request(name, undefined, 'admin'), 5_000);
      cluster.clock.advance(1000);
    }
    expect((await a.service.runs({})).map((r) => r.task)).toEqual(['one', 'two', 'one']);
    expect((await a.service.runs({ task: 'one', limit: 1 })).length).toBe(1);
    expect((await a.service.runs({ status: 'FAILED' })).length).toBe(0);
  });
});
