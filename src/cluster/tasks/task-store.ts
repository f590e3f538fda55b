import { randomUUID } from 'node:crypto';
import type { Insertable, Selectable } from 'kysely';
import { isoDate } from '../../core/clock.js';
import type { Db } from '../../db/items.js';
import type { TaskRunsTable } from '../../db/schema.js';
import { orIgnore } from '../../db/dialect.js';
import type { RunStatus, RunTrigger, TaskRun } from './types.js';

export type RunRow = Selectable<TaskRunsTable>;

const MAX_ERROR = 4000;

const parse = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

export function toTaskRun(r: RunRow): TaskRun {
  const iso = (v: number | null) => (v === null ? null : isoDate(Number(v)));
  return {
    id: r.run_id,
    task: r.task_name,
    trigger: r.trigger_type as RunTrigger,
    slot: iso(r.slot),
    attempt: Number(r.attempt),
    status: r.status as RunStatus,
    nodeId: r.node_id,
    fencingToken: r.fencing_token === null ? null : Number(r.fencing_token),
    queuedAt: isoDate(Number(r.queued_at)),
    startedAt: iso(r.started_at),
    endedAt: iso(r.ended_at),
    requestedBy: r.requested_by,
    params: parse(r.params),
    result: parse(r.result),
    counts: parse(r.counts),
    error: r.error,
  };
}

export function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.length > MAX_ERROR ? `${text.slice(0, MAX_ERROR - 1)}…` : text;
}

export interface NewRun {
  task: string;
  trigger: RunTrigger;
  status: 'QUEUED' | 'RUNNING';
  now: number;
  slot?: number | null;
  attempt?: number;
  nodeId?: string;
  token?: number;
  requestedBy?: string | null;
  /** Already serialised (JSON) or undefined. */
  params?: string | null;
}

export async function insertRun(db: Db, run: NewRun): Promise<RunRow> {
  const row: Insertable<TaskRunsTable> = {
    run_id: randomUUID(),
    task_name: run.task,
    trigger_type: run.trigger,
    slot: run.slot ?? null,
    attempt: run.attempt ?? 1,
    status: run.status,
    node_id: run.status === 'RUNNING' ? (run.nodeId ?? null) : null,
    fencing_token: run.status === 'RUNNING' ? (run.token ?? null) : null,
    queued_at: run.now,
    started_at: run.status === 'RUNNING' ? run.now : null,
    ended_at: null,
    requested_by: run.requestedBy ?? null,
    params: run.params ?? null,
    result: null,
    counts: null,
    error: null,
  };
  await db.insertInto('task_runs').values(row).execute();
  return row as RunRow;
}

/** Runs of these tasks in these states, oldest first. */
export async function runsIn(db: Db, tasks: string[], statuses: RunStatus[]): Promise<RunRow[]> {
  if (tasks.length === 0) return [];
  return db
    .selectFrom('task_runs')
    .selectAll()
    .where('task_name', 'in', tasks)
    .where('status', 'in', statuses)
    .orderBy('queued_at')
    .orderBy('run_id')
    .execute();
}

export async function getRun(db: Db, id: string): Promise<RunRow | undefined> {
  return db.selectFrom('task_runs').selectAll().where('run_id', '=', id).executeTakeFirst();
}

export interface RunFilter {
  task?: string;
  status?: string;
  limit?: number;
}

/** Newest first. */
export async function listRuns(db: Db, filter: RunFilter = {}): Promise<RunRow[]> {
  let q = db.selectFrom('task_runs').selectAll();
  if (filter.task) q = q.where('task_name', '=', filter.task);
  if (filter.status) q = q.where('status', '=', filter.status);
  return q
    .orderBy('queued_at', 'desc')
    .orderBy('run_id', 'desc')
    .limit(filter.limit ?? 100)
    .execute();
}

/** The last finished run of each of these tasks. */
export async function lastFinished(db: Db, task: string): Promise<RunRow | undefined> {
  return db
    .selectFrom('task_runs')
    .selectAll()
    .where('task_name', '=', task)
    .where('status', 'in', ['SUCCEEDED', 'FAILED', 'ABANDONED'])
    .orderBy('ended_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export interface ScheduleRow {
  task_name: string;
  schedule: string;
  next_run_at: number;
}

export async function schedules(db: Db): Promise<Map<string, ScheduleRow>> {
  const rows = await db.selectFrom('task_schedules').select(['task_name', 'schedule', 'next_run_at']).execute();
  return new Map(rows.map((r) => [r.task_name, { ...r, next_run_at: Number(r.next_run_at) }]));
}

/**
 * Records this node's schedule of a task. A new task starts at its next scheduled time; a
 * changed schedule (another interval or cron) replaces the row's, and its next time.
 */
export async function syncSchedule(db: Db, task: string, text: string, next: number, now: number): Promise<void> {
  await orIgnore(db, db.insertInto('task_schedules').values({ task_name: task, schedule: text, next_run_at: next, modified: now }), 'task_name').execute();
  await db
    .updateTable('task_schedules')
    .set({ schedule: text, next_run_at: next, modified: now })
    .where('task_name', '=', task)
    .where('schedule', '<>', text)
    .execute();
}

/** Removes finished runs that ended before `before`. */
export async function pruneRuns(db: Db, task: string, before: number): Promise<void> {
  await db
    .deleteFrom('task_runs')
    .where('task_name', '=', task)
    .where('status', 'in', ['SUCCEEDED', 'FAILED', 'ABANDONED'])
    .where('ended_at', '<', before)
    .execute();
}
