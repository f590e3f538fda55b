import type { LockManager } from '../../cluster/locks/lock-manager.js';
import { TaskRunner } from '../../cluster/tasks/task-runner.js';
import { TaskScheduler } from '../../cluster/tasks/task-scheduler.js';
import { TaskService } from '../../cluster/tasks/task-service.js';
import { clusterTasks, type TaskDeps } from '../cluster-tasks.js';
import type { Wired } from '../lifecycle.js';
import type { NodeConfig } from './config.js';

/**
 * Cluster-wide tasks (GC, backup, import, scrub…): every process can run one on demand; the
 * scheduler is started only in the process that runs the node's singletons (server.ts). At
 * close the scheduler hands its running tasks over within `arca.shutdownTimeoutSecs`.
 */
export async function clusterTaskService(cfg: NodeConfig, deps: Omit<TaskDeps, keyof NodeConfig> & { locks: LockManager }): Promise<Wired<TaskService>> {
  const { system, identity, log, clock } = cfg;
  const { database, locks } = deps;
  const tasks = await clusterTasks({ ...cfg, ...deps });
  const maxAttempts = system.number('arca.tasks.maxAttempts');
  const taskLog = log.child({ component: 'tasks' });
  const runner = new TaskRunner(database, locks, clock, new Map(tasks.map((t) => [t.name, t])), {
    nodeId: identity.nodeId,
    leaseMs: system.number('arca.tasks.leaseSecs') * 1000,
    maxAttempts,
    retentionMs: system.number('arca.tasks.runRetentionDays') * 86_400_000,
    timers: true,
    log: taskLog,
  });
  const scheduler = new TaskScheduler(database, locks, clock, tasks, runner, {
    self: { nodeId: identity.nodeId, taskAffinity: identity.taskAffinity, explicit: identity.taskAffinityExplicit !== false, primary: identity.primary },
    tickMs: system.number('arca.tasks.tickSecs') * 1000,
    maxAttempts,
    log: taskLog,
  });
  const handOverMs = system.number('arca.shutdownTimeoutSecs') * 1000;
  return { value: new TaskService(database, clock, tasks, scheduler), close: () => scheduler.stop(handOverMs) };
}

/** Runs garbage collection now, as a cluster task run (waits for it; returns its counts). */
export function gcOnDemand(tasks: TaskService): () => Promise<unknown> {
  return async () => {
    const run = await tasks.wait(await tasks.request('gc', undefined, null), 3_600_000);
    return { ...run.counts, runId: run.id, status: run.status, nodeId: run.nodeId };
  };
}
