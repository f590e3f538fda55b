import { useState } from 'react';
import { api } from '../api';
import { ErrorBox, Field, formatDate, Loading, Page } from '../components/common';
import { useAsync } from '../components/hooks';

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

function summary(run: TaskRun): string {
  if (run.error) return run.error;
  const facts = run.counts ?? run.result;
  if (!facts) return '';
  return Object.entries(facts)
    .filter(([, v]) => typeof v !== 'object')
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(', ');
}

/** Runs of the cluster tasks (GC, backup, import…), newest first, refreshed every 5 s. */
export default function TasksPage() {
  const [status, setStatus] = useState('');
  const runs = useAsync(
    (signal) => api<{ runs: TaskRun[] }>(`/artifactory/api/system/tasks/runs?limit=100${status ? `&status=${status}` : ''}`, { signal }),
    `runs:${status}`,
    5000,
  );
  return (
    <Page title="Task runs">
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
        <div className="table-wrap">
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
