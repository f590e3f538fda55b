import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
import type { Database } from '../../db/database.js';
import type { Schema } from '../../db/schema.js';
import { LockLostError, type LockLease, type LockManager } from '../locks/lock-manager.js';
import { errorText, getRun, insertRun, pruneRuns, toTaskRun, type RunRow } from './task-store.js';
import type { ClusterTask, TaskOutcome, TaskRun } from './types.js';

export interface RunnerOptions {
  nodeId: string;
  /** Lease of a running task (`arca.tasks.leaseSecs`); renewed every third of it. */
  leaseMs: number;
  /** Runs of one slot or request, counting takeovers and hand-overs (`arca.tasks.maxAttempts`). */
  maxAttempts: number;
  /** Finished runs older than this are deleted (`arca.tasks.runRetentionDays`). */
  retentionMs: number;
  /** Renew leases on a timer (off in fake-clock tests, which call renewDue). */
  timers: boolean;
  log: Logger;
}

/**
 * Chooses, inside the fenced transaction that holds the group's lock, the run to start (and
 * marks it RUNNING with this lease); undefined when there is nothing to do.
 */
export type Picker = (trx: Transaction<Schema>, lease: LockLease, now: number) => Promise<RunRow | undefined>;

export interface StartedRun {
  run: TaskRun;
  done: Promise<TaskRun>;
}

interface ActiveRun {
  row: RunRow;
  task: ClusterTask;
  lease: LockLease;
  lastRenew: number;
  controller: AbortController;
  stopping: boolean;
  timer?: NodeJS.Timeout;
}

export const lockNameOf = (group: string) => `task:${group}`;

/**
 * Runs cluster tasks in this process: one run per task group at a time, each under the
 * group's lock, whose lease is renewed while the run lasts and whose fencing token guards
 * every write the run makes, its final record included.
 */
export class TaskRunner {
  /** Lock owner: the node id, and this process, so two processes of a node never share a lease. */
  readonly owner: string;
  private readonly active = new Map<string, ActiveRun>();
  private readonly done = new Set<Promise<TaskRun>>();
  private stopping = false;

  constructor(
    private readonly database: Database,
    private readonly locks: LockManager,
    private readonly clock: Clock,
    private readonly tasks: Map<string, ClusterTask>,
    private readonly options: RunnerOptions,
  ) {
    this.owner = `${options.nodeId}/${process.pid}/${randomUUID().slice(0, 8)}`;
  }

  busy(group: string): boolean {
    return this.active.has(group);
  }

  get running(): number {
    return this.active.size;
  }

  /** Takes the group's lock; `pick` chooses a run under it, which then runs in the background. */
  async start(group: string, pick: Picker): Promise<StartedRun | undefined> {
    if (this.stopping || this.active.has(group)) return undefined;
    const leaseMs = this.options.leaseMs;
    const lease = await this.locks.tryAcquire(lockNameOf(group), this.owner, leaseMs);
    if (!lease) return undefined;
    let row: RunRow | undefined;
    try {
      row = await this.database.db.transaction().execute(async (trx) => {
        await this.locks.assertHeld(trx, lease, leaseMs);
        return pick(trx, lease, this.clock.now());
      });
    } catch (err) {
      await this.locks.release(lease).catch(() => undefined);
      throw err;
    }
    if (!row) {
      await this.locks.release(lease);
      return undefined;
    }
    const task = this.tasks.get(row.task_name);
    if (!task) throw new Error(`No task '${row.task_name}' is registered`);
    const a: ActiveRun = { row, task, lease, lastRenew: this.clock.now(), controller: new AbortController(), stopping: false };
    if (this.options.timers) {
      a.timer = setInterval(() => void this.renew(a), Math.max(1000, Math.floor(leaseMs / 3)));
      a.timer.unref();
    }
    this.active.set(group, a);
    const done = this.execute(a).finally(() => {
      this.active.delete(group);
      this.done.delete(done);
    });
    this.done.add(done);
    return { run: toTaskRun(row), done };
  }

  /** Renews the lease of every run whose last renewal is a third of a lease old (the scheduler's tick calls this). */
  async renewDue(): Promise<void> {
    await Promise.all([...this.active.values()].map((a) => (this.clock.now() - a.lastRenew >= this.options.leaseMs / 3 ? this.renew(a) : undefined)));
  }

  private async renew(a: ActiveRun): Promise<void> {
    try {
      const renewed = await this.locks.renew(a.lease, this.options.leaseMs);
      if (renewed) {
        a.lease = renewed;
        a.lastRenew = this.clock.now();
        return;
      }
      this.options.log.warn({ task: a.task.name, runId: a.row.run_id }, 'task lease lost to another node; stopping the run');
      a.controller.abort(new LockLostError(a.lease, undefined));
    } catch (err) {
      // The database may be back before the lease matters; the next renewal tries again.
      this.options.log.warn({ err, task: a.task.name }, 'task lease renewal failed');
    }
  }

  private async execute(a: ActiveRun): Promise<TaskRun> {
    const { row, task } = a;
    const log = this.options.log.child({ task: task.name, runId: row.run_id, attempt: row.attempt });
    log.info({ trigger: row.trigger_type, token: a.lease.token }, 'cluster task started');
    const started = this.clock.now();
    let outcome: { status: 'SUCCEEDED' | 'FAILED' | 'ABANDONED'; out?: TaskOutcome; error?: string };
    try {
      const params = row.params === null ? undefined : JSON.parse(row.params);
      const out = await task.run(
        {
          runId: row.run_id,
          nodeId: this.options.nodeId,
          attempt: Number(row.attempt),
          signal: a.controller.signal,
          log,
          fence: (trx) => this.locks.assertHeld(trx, a.lease, this.options.leaseMs),
        },
        params,
      );
      outcome = { status: 'SUCCEEDED', out };
    } catch (err) {
      outcome = a.stopping
        ? { status: 'ABANDONED', error: `Node '${this.options.nodeId}' stopped during the run; handed over` }
        : { status: 'FAILED', error: errorText(err) };
      if (!a.stopping) log.error({ err }, 'cluster task failed');
    } finally {
      if (a.timer) clearInterval(a.timer);
    }
    try {
      await this.database.db.transaction().execute(async (trx) => {
        await this.locks.assertHeld(trx, a.lease);
        const now = this.clock.now();
        await trx
          .updateTable('task_runs')
          .set({
            status: outcome.status,
            ended_at: now,
            result: outcome.out?.result ? JSON.stringify(outcome.out.result) : null,
            counts: outcome.out?.counts ? JSON.stringify(outcome.out.counts) : null,
            error: outcome.error ?? null,
          })
          .where('run_id', '=', row.run_id)
          .execute();
        if (outcome.status === 'ABANDONED' && Number(row.attempt) < this.options.maxAttempts) {
          await insertRun(trx, {
            task: task.name,
            trigger: row.trigger_type as 'schedule' | 'manual',
            status: 'QUEUED',
            now,
            slot: row.slot,
            attempt: Number(row.attempt) + 1,
            requestedBy: row.requested_by,
            params: row.params,
          });
        }
        await pruneRuns(trx, task.name, now - this.options.retentionMs);
      });
      log.info({ status: outcome.status, ms: this.clock.now() - started, counts: outcome.out?.counts }, 'cluster task finished');
    } catch (err) {
      if (err instanceof LockLostError) log.warn({ status: outcome.status }, 'cluster task outcome not recorded: another node took the task over');
      else log.error({ err }, 'cluster task outcome not recorded');
    }
    await this.locks.release(a.lease).catch(() => undefined);
    const final = await getRun(this.database.db, row.run_id).catch(() => undefined);
    return final ? toTaskRun(final) : toTaskRun(row);
  }

  /**
   * Stops taking work, asks running tasks to stop, and waits up to `waitMs` for them. A run
   * that stops is recorded ABANDONED and queued again, so another node finishes it; one that
   * does not stop in time is taken over once its lease expires.
   */
  async stop(waitMs: number): Promise<void> {
    this.stopping = true;
    for (const a of this.active.values()) {
      a.stopping = true;
      a.controller.abort(new Error('node stopping'));
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.done]), new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
    for (const a of this.active.values()) if (a.timer) clearInterval(a.timer);
  }

  /** Resolves once every run started so far has finished (tests). */
  async idle(): Promise<void> {
    while (this.done.size > 0) await Promise.allSettled([...this.done]);
  }
}
