import pino from 'pino';
import { FakeClock } from '../../../core/clock.js';
import type { DialectName } from '../../../db/database.js';
import { openTestDatabase, type TestDatabase } from '../../../db/testing/databases.js';
import type { LockManager } from '../../locks/lock-manager.js';
import { openLockManager } from '../../locks/open-lock-manager.js';
import type { SelfAffinity } from '../affinity.js';
import { TaskRunner } from '../task-runner.js';
import { TaskScheduler } from '../task-scheduler.js';
import { TaskService } from '../task-service.js';
import type { ClusterTask, TaskRunContext } from '../types.js';

export const LEASE_MS = 30_000;

/** One in-process "node": its own lock connections, runner, scheduler and service. */
export interface FakeNode {
  id: string;
  locks: LockManager;
  runner: TaskRunner;
  scheduler: TaskScheduler;
  service: TaskService;
}

export interface NodeSetup {
  taskAffinity?: 'any' | 'none';
  explicit?: boolean;
  primary?: boolean;
  /** Write the node's row in cluster_nodes (default true). */
  register?: boolean;
  maxAttempts?: number;
}

/** Several nodes on one fresh database of `dialect`, sharing a fake clock. */
export class FakeCluster {
  readonly clock = new FakeClock(Date.UTC(2026, 0, 1));
  readonly nodes: FakeNode[] = [];
  private constructor(readonly t: TestDatabase) {}

  static async open(dialect: DialectName): Promise<FakeCluster> {
    return new FakeCluster(await openTestDatabase(dialect));
  }

  get db() {
    return this.t.database.db;
  }

  async node(id: string, tasks: ClusterTask[], setup: NodeSetup = {}): Promise<FakeNode> {
    const self: SelfAffinity = { nodeId: id, taskAffinity: setup.taskAffinity ?? 'any', explicit: setup.explicit ?? true, primary: setup.primary ?? false };
    if (setup.register !== false) {
      await this.db
        .insertInto('cluster_nodes')
        .values({
          server_id: id, instance_id: id, start_time: this.clock.now(), context_url: null, membership_port: 0, server_state: 'RUNNING',
          server_role: self.primary ? 'PRIMARY' : 'MEMBER', last_heartbeat: this.clock.now(), version: '1.0.0', revision: 'x', release_date: 0,
          task_affinity: self.taskAffinity, task_affinity_set: self.explicit ? 1 : 0, host: 'test', pid: 1, advertised_ip: null,
        })
        .execute();
    }
    const log = pino({ level: 'silent' });
    const locks = await openLockManager(this.t.config, this.clock, { poolMaxActive: 3 });
    const maxAttempts = setup.maxAttempts ?? 3;
    const byName = new Map(tasks.map((t) => [t.name, t]));
    const runner = new TaskRunner(this.t.database, locks, this.clock, byName, { nodeId: id, leaseMs: LEASE_MS, maxAttempts, retentionMs: 30 * 86_400_000, timers: false, log });
    const scheduler = new TaskScheduler(this.t.database, locks, this.clock, tasks, runner, { self, tickMs: 5000, maxAttempts, log });
    // As at a node's start: a new scheduled task is first due at its next scheduled time.
    await scheduler.syncSchedules();
    const node = { id, locks, runner, scheduler, service: new TaskService(this.t.database, this.clock, tasks, scheduler) };
    this.nodes.push(node);
    return node;
  }

  /** Every given node ticks at the same time; then waits for the runs that finish by themselves. */
  async tick(...nodes: FakeNode[]): Promise<void> {
    await Promise.all(nodes.map((n) => n.scheduler.tick()));
  }

  async runs(task?: string) {
    let q = this.db.selectFrom('task_runs').selectAll().orderBy('queued_at').orderBy('attempt');
    if (task) q = q.where('task_name', '=', task);
    return q.execute();
  }

  async close(): Promise<void> {
    for (const n of this.nodes) {
      await n.scheduler.stop(100).catch(() => undefined);
      await n.locks.close();
    }
    await this.t.drop();
  }
}

/** A task whose runs wait until the test lets them finish (or fail). */
export function gatedTask(name: string, extra: Partial<ClusterTask> = {}) {
  const runs: { nodeId: string; attempt: number; ctx: TaskRunContext; params: unknown; finish(): void; fail(err: Error): void }[] = [];
  const task: ClusterTask = {
    name,
    description: `test task ${name}`,
    ...extra,
    run: (ctx, params) =>
      new Promise((resolve, reject) => {
        const entry = { nodeId: ctx.nodeId, attempt: ctx.attempt, ctx, params, finish: () => resolve({ counts: { done: 1 } }), fail: reject };
        runs.push(entry);
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true });
      }),
  };
  return { task, runs };
}

/** A task that finishes at once, recording which node ran it. */
export function quickTask(name: string, extra: Partial<ClusterTask> = {}) {
  const ranOn: string[] = [];
  const task: ClusterTask = {
    name,
    description: `test task ${name}`,
    ...extra,
    run: async (ctx) => {
      ranOn.push(ctx.nodeId);
      return { counts: { items: ranOn.length }, result: { node: ctx.nodeId } };
    },
  };
  return { task, ranOn };
}

export const settle = () => new Promise((r) => setTimeout(r, 20));
