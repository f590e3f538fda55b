import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Schema } from '../../db/schema.js';
import type { Schedule } from './schedule.js';

/** What a finished run reports: counts are numbers shown per run; result is anything else. */
export interface TaskOutcome {
  counts?: Record<string, number>;
  result?: Record<string, unknown>;
}

/** Handed to a task's `run`: who runs it, how to stop, and the fence for its transactions. */
export interface TaskRunContext {
  runId: string;
  nodeId: string;
  attempt: number;
  /** Aborted when the node stops or the run's lease is lost; long tasks check it between steps. */
  signal: AbortSignal;
  log: Logger;
  /**
   * Call inside every transaction that makes the task's work visible: throws LockLostError
   * (rolling the transaction back) when another node has taken the task over, and extends the
   * run's lease.
   */
  fence(trx: Transaction<Schema>): Promise<void>;
}

/**
 * A cluster-wide task: run by one node at a time, on a node whose taskAffinity allows it,
 * once per schedule across the cluster, and on demand. Register it in `src/node/cluster-tasks.ts`.
 */
export interface ClusterTask<P = unknown> {
  /** Lower-case letters, digits and dashes; shown in the API and kept in `task_runs`. */
  name: string;
  description: string;
  /** Tasks of one group never run at the same time anywhere in the cluster (default: the name). */
  group?: string;
  /** Undefined: on demand only. */
  schedule?: Schedule;
  /** Validates the JSON body of an on-demand run (throw ArcaError BAD_REQUEST); scheduled runs get `undefined`. */
  params?(raw: unknown): P;
  run(ctx: TaskRunContext, params: P): Promise<TaskOutcome>;
}

export type RunStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABANDONED';
export type RunTrigger = 'schedule' | 'manual';

/** One run as the API shows it. */
export interface TaskRun {
  id: string;
  task: string;
  trigger: RunTrigger;
  /** The scheduled time a schedule run serves. */
  slot: string | null;
  attempt: number;
  status: RunStatus;
  nodeId: string | null;
  fencingToken: number | null;
  queuedAt: string;
  startedAt: string | null;
  endedAt: string | null;
  requestedBy: string | null;
  params: unknown;
  result: Record<string, unknown> | null;
  counts: Record<string, number> | null;
  error: string | null;
}

export const TASK_NAME = /^[a-z][a-z0-9-]{0,63}$/;

export function groupOf(task: Pick<ClusterTask, 'name' | 'group'>): string {
  return task.group ?? task.name;
}
