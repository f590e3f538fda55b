import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
import type { Database } from '../../db/database.js';
import type { Schema } from '../../db/schema.js';
import type { LockLease, LockManager } from '../locks/lock-manager.js';
import { decideEligibility, readPeers, type Eligibility, type SelfAffinity } from './affinity.js';
import { describeSchedule, nextRunAfter, parseSchedule } from './schedule.js';
import { lockNameOf, type Picker, type TaskRunner } from './task-runner.js';
import { insertRun, runsIn, schedules, syncSchedule, type RunRow } from './task-store.js';
import { groupOf, type ClusterTask } from './types.js';

export interface SchedulerOptions {
  self: SelfAffinity;
  /** How often the scheduler looks for due work (`arca.tasks.tickSecs`). */
  tickMs: number;
  maxAttempts: number;
  log: Logger;
}

/**
 * Under the group's lock: every run still RUNNING belongs to a node whose lease ran out (a
 * live run would hold the lock). Each is marked ABANDONED and, while attempts remain, tried
 * again: the first one here and now (`resume`), the others queued.
 */
async function takeOverStale(
  trx: Transaction<Schema>,
  tasks: string[],
  lease: LockLease,
  now: number,
  nodeId: string,
  maxAttempts: number,
  resume: boolean,
): Promise<RunRow | undefined> {
  let resumed: RunRow | undefined;
  for (const r of await runsIn(trx, tasks, ['RUNNING'])) {
    const last = Number(r.attempt) >= maxAttempts;
    await trx
      .updateTable('task_runs')
      .set({
        status: 'ABANDONED',
        ended_at: now,
        error:
          `The lease of node '${r.node_id}' (token ${r.fencing_token}) expired before the run ended; ` +
          (last ? `no attempts left (${maxAttempts})` : `taken over by node '${nodeId}'`),
      })
      .where('run_id', '=', r.run_id)
      .execute();
    if (last) continue;
    const retry = { task: r.task_name, trigger: r.trigger_type as 'schedule' | 'manual', now, slot: r.slot, attempt: Number(r.attempt) + 1, requestedBy: r.requested_by, params: r.params };
    if (resume && !resumed) resumed = await insertRun(trx, { ...retry, status: 'RUNNING', nodeId, token: lease.token });
    else await insertRun(trx, { ...retry, status: 'QUEUED' });
  }
  return resumed;
}

/**
 * The cluster-wide scheduler of one node. Each tick it renews the leases of its own runs and,
 * when this node's task affinity allows, starts per task group at most one of: a run left
 * behind by a node that died (takeover), the oldest queued run, or the task's scheduled run
 * when its time has come. Which node starts it is decided by the group's lock; that the slot
 * runs once is guaranteed by moving `task_schedules.next_run_at` in the same fenced
 * transaction that records the run.
 */
export class TaskScheduler {
  private readonly groups = new Map<string, ClusterTask[]>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private synced = false;
  private lastEligibility: Eligibility | undefined;

  constructor(
    private readonly database: Database,
    private readonly locks: LockManager,
    private readonly clock: Clock,
    private readonly tasks: ClusterTask[],
    readonly runner: TaskRunner,
    private readonly options: SchedulerOptions,
  ) {
    for (const t of tasks) {
      const g = groupOf(t);
      this.groups.set(g, [...(this.groups.get(g) ?? []), t]);
    }
  }

  get nodeId(): string {
    return this.options.self.nodeId;
  }

  async eligibility(): Promise<Eligibility> {
    const e = decideEligibility(this.options.self, await readPeers(this.database.db));
    if (e.eligible !== this.lastEligibility?.eligible || e.mode !== this.lastEligibility?.mode) {
      this.options.log.info({ eligible: e.eligible, mode: e.mode }, `cluster tasks: ${e.reason}`);
    }
    this.lastEligibility = e;
    return e;
  }

  /** Records each scheduled task's schedule (a new task starts at its next scheduled time). */
  async syncSchedules(): Promise<void> {
    const now = this.clock.now();
    for (const t of this.tasks) {
      if (t.schedule) await syncSchedule(this.database.db, t.name, describeSchedule(t.schedule), nextRunAfter(t.schedule, now), now);
    }
    this.synced = true;
  }

  /** One pass; concurrent calls share it. */
  tick(): Promise<void> {
    this.ticking ??= this.pass().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async pass(): Promise<void> {
    await this.runner.renewDue();
    if (!this.synced) await this.syncSchedules();
    if (!(await this.eligibility()).eligible) return;
    const now = this.clock.now();
    const names = this.tasks.map((t) => t.name);
    const [due, open, locks] = await Promise.all([schedules(this.database.db), runsIn(this.database.db, names, ['QUEUED', 'RUNNING']), this.locks.list('task:')]);
    for (const [group, tasks] of this.groups) {
      if (this.runner.busy(group)) continue;
      if (locks.find((l) => l.name === lockNameOf(group))?.held) continue;
      const inGroup = new Set(tasks.map((t) => t.name));
      const waiting = open.some((r) => inGroup.has(r.task_name));
      const scheduled = tasks.some((t) => t.schedule && (due.get(t.name)?.next_run_at ?? Infinity) <= now);
      if (!waiting && !scheduled) continue;
      try {
        await this.runner.start(group, this.schedulePicker(tasks));
      } catch (err) {
        this.options.log.warn({ err, group }, 'could not start a cluster task');
      }
    }
  }

  /** Takeover first, then the oldest queued run, then the earliest due schedule. */
  private schedulePicker(tasks: ClusterTask[]): Picker {
    const names = tasks.map((t) => t.name);
    return async (trx, lease, now) => {
      const resumed = await takeOverStale(trx, names, lease, now, this.nodeId, this.options.maxAttempts, true);
      if (resumed) return resumed;
      const [queued] = await runsIn(trx, names, ['QUEUED']);
      if (queued) {
        const claimed = { status: 'RUNNING', node_id: this.nodeId, fencing_token: lease.token, started_at: now };
        await trx.updateTable('task_runs').set(claimed).where('run_id', '=', queued.run_id).where('status', '=', 'QUEUED').execute();
        return { ...queued, ...claimed };
      }
      const rows = await trx.selectFrom('task_schedules').selectAll().where('task_name', 'in', names).where('next_run_at', '<=', now).orderBy('next_run_at').execute();
      for (const s of rows) {
        if (!tasks.find((t) => t.name === s.task_name)?.schedule) continue;
        const next = nextRunAfter(parseSchedule(s.schedule), now);
        await trx.updateTable('task_schedules').set({ next_run_at: next, modified: now }).where('task_name', '=', s.task_name).execute();
        return insertRun(trx, { task: s.task_name, trigger: 'schedule', status: 'RUNNING', now, slot: Number(s.next_run_at), nodeId: this.nodeId, token: lease.token });
      }
      return undefined;
    };
  }

  /** For a run requested now on this node: leftovers of a dead node are queued, then this run starts. */
  manualPicker(task: ClusterTask, params: string | null, requestedBy: string | null): Picker {
    const names = this.groups.get(groupOf(task))!.map((t) => t.name);
    return async (trx, lease, now) => {
      await takeOverStale(trx, names, lease, now, this.nodeId, this.options.maxAttempts, false);
      return insertRun(trx, { task: task.name, trigger: 'manual', status: 'RUNNING', now, nodeId: this.nodeId, token: lease.token, requestedBy, params });
    };
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick().catch((err: unknown) => this.options.log.warn({ err }, 'cluster task scheduler pass failed')), this.options.tickMs);
    this.timer.unref();
    void this.tick().catch((err: unknown) => this.options.log.warn({ err }, 'cluster task scheduler pass failed'));
  }

  /** Stops scheduling and hands running tasks over (see TaskRunner.stop). */
  async stop(waitMs: number): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking?.catch(() => undefined);
    await this.runner.stop(waitMs);
  }
}
