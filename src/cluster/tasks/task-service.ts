import { isoDate, type Clock } from '../../core/clock.js';
import { ArcaError } from '../../core/errors.js';
import type { Database } from '../../db/database.js';
import type { Eligibility } from './affinity.js';
import { describeSchedule } from './schedule.js';
import type { TaskScheduler } from './task-scheduler.js';
import { getRun, insertRun, lastFinished, listRuns, runsIn, schedules, toTaskRun, type RunFilter } from './task-store.js';
import { groupOf, type ClusterTask, type TaskRun } from './types.js';

export interface TaskInfo {
  name: string;
  description: string;
  group: string;
  schedule: string | null;
  nextRunAt: string | null;
  running: TaskRun | null;
  queued: number;
  lastRun: TaskRun | null;
}

export interface RequestedRun {
  run: TaskRun;
  /** Set when the run started in this process. */
  done?: Promise<TaskRun>;
}

const FINAL = new Set(['SUCCEEDED', 'FAILED', 'ABANDONED']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The cluster tasks as the API sees them, in any process of any node: the registered tasks,
 * their runs, and runs on demand. A run requested on a node whose task affinity allows it
 * starts there at once (so a backup to a local directory lands on the node that was asked, as
 * the seed describes); otherwise, or while another run of its group holds the lock, it is
 * queued and the next eligible node's scheduler starts it.
 */
export class TaskService {
  private readonly byName: Map<string, ClusterTask>;

  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
    readonly tasks: ClusterTask[],
    readonly scheduler: TaskScheduler,
  ) {
    this.byName = new Map(tasks.map((t) => [t.name, t]));
  }

  get(name: string): ClusterTask {
    const task = this.byName.get(name);
    if (!task) throw new ArcaError('NOT_FOUND', `No cluster task '${name}'; the tasks are: ${[...this.byName.keys()].join(', ')}`);
    return task;
  }

  eligibility(): Promise<Eligibility> {
    return this.scheduler.eligibility();
  }

  async list(): Promise<TaskInfo[]> {
    const db = this.database.db;
    const [rows, open] = await Promise.all([schedules(db), runsIn(db, this.tasks.map((t) => t.name), ['QUEUED', 'RUNNING'])]);
    return Promise.all(
      this.tasks.map(async (t) => {
        const s = rows.get(t.name);
        const last = await lastFinished(db, t.name);
        const running = open.find((r) => r.task_name === t.name && r.status === 'RUNNING');
        return {
          name: t.name,
          description: t.description,
          group: groupOf(t),
          schedule: t.schedule ? (s?.schedule ?? describeSchedule(t.schedule)) : null,
          nextRunAt: t.schedule && s ? isoDate(s.next_run_at) : null,
          running: running ? toTaskRun(running) : null,
          queued: open.filter((r) => r.task_name === t.name && r.status === 'QUEUED').length,
          lastRun: last ? toTaskRun(last) : null,
        };
      }),
    );
  }

  async runs(filter: RunFilter): Promise<TaskRun[]> {
    return (await listRuns(this.database.db, filter)).map(toTaskRun);
  }

  async run(id: string): Promise<TaskRun> {
    const row = await getRun(this.database.db, id);
    if (!row) throw new ArcaError('NOT_FOUND', `No task run '${id}'`);
    return toTaskRun(row);
  }

  /** Starts a run of `name` now on this node when it may, else queues it. */
  async request(name: string, body: unknown, requestedBy: string | null): Promise<RequestedRun> {
    const task = this.get(name);
    const params = task.params ? task.params(body) : undefined;
    const serialised = params === undefined ? null : JSON.stringify(params);
    if ((await this.scheduler.eligibility()).eligible) {
      const started = await this.scheduler.runner.start(groupOf(task), this.scheduler.manualPicker(task, serialised, requestedBy));
      if (started) return started;
    }
    const row = await insertRun(this.database.db, { task: name, trigger: 'manual', status: 'QUEUED', now: this.clock.now(), requestedBy, params: serialised });
    return { run: toTaskRun(row) };
  }

  /** The run once it has finished, or as it is after `timeoutMs`. */
  async wait(requested: RequestedRun, timeoutMs: number): Promise<TaskRun> {
    const deadline = performance.now() + timeoutMs;
    if (requested.done) {
      let timer: NodeJS.Timeout | undefined;
      const out = await Promise.race([requested.done, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), timeoutMs)))]);
      clearTimeout(timer);
      return out ?? this.run(requested.run.id);
    }
    for (;;) {
      const run = await this.run(requested.run.id);
      if (FINAL.has(run.status) || performance.now() >= deadline) return run;
      await sleep(Math.min(250, Math.max(1, deadline - performance.now())));
    }
  }
}
