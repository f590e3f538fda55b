import { useState } from 'react';
import { api } from '../api';
import { ErrorBox, Field, formatDate, Loading, Notice, Page } from '../components/common';
import { useAction, useAsync } from '../components/hooks';
import '../styles/admin.css';

interface TaskRun {
  id: string;
  task: string;
  status: string;
  nodeId?: string | null;
  trigger?: string;
  attempt?: number;
  queuedAt?: string;
  startedAt?: string | null;
  endedAt?: string | null;
  requestedBy?: string | null;
  error?: string | null;
  result?: Record<string, unknown> | null;
  counts?: Record<string, number> | null;
}

const STATUSES = ['', 'QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'ABANDONED'];

interface Task {
  name: string;
  description: string;
  group: string;
  schedule: string | null;
  nextRunAt: string | null;
  running: TaskRun | null;
  queued: number;
  lastRun: TaskRun | null;
}

/** Tasks that need parameters a button cannot give (import needs a path: POST …/tasks/import/run with {"path"}). */
const NEEDS_PARAMETERS = new Set(['import']);

/** The registered tasks with their schedule, next run and last run, and "Run now". */
function ScheduledTasks({ onRun }: { onRun: () => void }) {
  const tasks = useAsync((signal) => api<{ node: { id: string; eligible: boolean; reason?: string }; tasks: Task[] }>('/artifactory/api/system/tasks', { signal }), 'tasks', 5000);
  const action = useAction();
  const runNow = (name: string) =>
    void action.run(async () => {
      const run = await api<TaskRun>(`/artifactory/api/system/tasks/${encodeURIComponent(name)}/run`, { method: 'POST', json: {} });
      tasks.reload();
      onRun();
      return `Task ${name} ${run.status === 'QUEUED' ? 'queued' : run.status === 'RUNNING' ? 'started' : `run ${run.status.toLowerCase()}`} (run ${run.id.slice(0, 8)}).`;
    });
  return (
    <section aria-labelledby="tasks-title">
      <h2 id="tasks-title">Scheduled tasks</h2>
      <ErrorBox error={tasks.error} />
      <ErrorBox error={action.error} />
      <Notice>{action.message}</Notice>
      {tasks.data && !tasks.data.node.eligible && <p className="muted">This node does not run tasks ({tasks.data.node.reason}); runs requested here wait for a node that does.</p>}
      {!tasks.data ? (
        <div className="skeleton" aria-hidden="true" />
      ) : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Table of scheduled tasks">
          <table data-testid="tasks">
            <thead>
              <tr>
                <th scope="col">Task</th>
                <th scope="col">Schedule</th>
                <th scope="col">Next run</th>
                <th scope="col">Last run</th>
                <th scope="col" className="secondary">
                  What it does
                </th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tasks.data.tasks.map((t) => (
                <tr key={t.name}>
                  <th scope="row">{t.name}</th>
                  <td className="mono">{t.schedule ?? 'on demand'}</td>
                  <td>{t.nextRunAt ? formatDate(t.nextRunAt) : '—'}</td>
                  <td>
                    {t.running ? (
                      <span className="state state-RUNNING">RUNNING</span>
                    ) : t.lastRun ? (
                      <>
                        <span className={`state state-${t.lastRun.status}`}>{t.lastRun.status}</span> <span className="muted">{formatDate(t.lastRun.endedAt ?? t.lastRun.queuedAt)}</span>
                      </>
                    ) : (
                      <span className="muted">never</span>
                    )}
                    {t.queued > 0 && <span className="muted"> ({t.queued} queued)</span>}
                  </td>
                  <td className="secondary">
                    <span className="ellipsis task-description" title={t.description}>
                      {t.description}
                    </span>
                  </td>
                  <td className="actions">
                    {NEEDS_PARAMETERS.has(t.name) ? (
                      <span className="muted">needs parameters</span>
                    ) : (
                      <button type="button" disabled={action.busy} aria-label={`Run now: ${t.name}`} onClick={() => runNow(t.name)}>
                        Run now
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function summary(run: TaskRun): string {
  if (run.error) return run.error;
  const facts = run.counts ?? run.result;
  if (!facts) return '';
  return Object.entries(facts)
    .filter(([, v]) => typeof v !== 'object')
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(', ');
}

/** The cluster tasks (GC, backup, import…): schedules and Run now, then their runs, newest first, refreshed every 5 s. */
export default function TasksPage() {
  const [status, setStatus] = useState('');
  const runs = useAsync(
    (signal) => api<{ runs: TaskRun[] }>(`/artifactory/api/system/tasks/runs?limit=100${status ? `&status=${status}` : ''}`, { signal }),
    `runs:${status}`,
    5000,
  );
  return (
    <Page title="Tasks">
      <ScheduledTasks onRun={runs.reload} />
      <h2>Runs</h2>
      <div className="toolbar">
        <Field id="runs-status" label="Status">
          <select id="runs-status" value={status} onChange={(e) => setStatus(e.target.value)}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s || 'any'}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <ErrorBox error={runs.error} />
      <Loading when={runs.loading && !runs.data} />
      {runs.data && (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Table of task runs">
          <table data-testid="task-runs">
            <thead>
              <tr>
                <th scope="col">Task</th>
                <th scope="col">Status</th>
                <th scope="col">Node</th>
                <th scope="col">Started</th>
                <th scope="col">Ended</th>
                <th scope="col">Trigger</th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            <tbody>
              {runs.data.runs.length === 0 && (
                <tr>
                  <td colSpan={7} className="muted">
                    No runs.
                  </td>
                </tr>
              )}
              {runs.data.runs.map((r) => (
                <tr key={r.id}>
                  <th scope="row">{r.task}</th>
                  <td className={`state state-${r.status}`}>{r.status}</td>
                  <td>{r.nodeId ?? ''}</td>
                  <td>{formatDate(r.startedAt)}</td>
                  <td>{formatDate(r.endedAt)}</td>
                  <td>{r.requestedBy ? `${r.trigger ?? ''} by ${r.requestedBy}` : (r.trigger ?? '')}</td>
                  <td>{summary(r)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}
