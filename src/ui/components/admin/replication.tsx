import { useState, type FormEvent } from 'react';
import { api } from '../../api';
import { ErrorBox, Field, formatDate, Notice } from '../common';
import { ConfirmButton } from '../confirm-button';
import { useAction, useAsync } from '../hooks';
import '../../styles/admin.css';

interface Target {
  url?: string;
  username?: string;
  enabled: boolean;
  cronExp: string;
  enableEventReplication: boolean;
  syncDeletes: boolean;
  syncProperties: boolean;
}

interface TargetStatus {
  url: string;
  status: string;
  lastCompleted: string | null;
  message: string | null;
  queue?: { pending: number; failed: number; lagSeconds: number };
}

interface Status {
  status: string;
  lastCompleted: string | null;
  targets: TargetStatus[];
  blocked: boolean;
  runRequested: string | null;
  message?: string | null;
}

const CONFIG = (key: string) => `/artifactory/api/replications/${encodeURIComponent(key)}`;
const STATUS = (key: string) => `/artifactory/api/replication/${encodeURIComponent(key)}`;

/** The server's defaults for a new push or pull (services/replication/replication-config.ts). */
const NEW_TARGET = { url: '', username: '', password: '', cronExp: '0 0 * * * ?', enabled: true, enableEventReplication: false, syncDeletes: false, syncProperties: true };

/**
 * Replication of one repository (docs/replication.md): a local repository pushes to targets
 * (several: multi-push), a remote one pulls from its upstream. Shows the configuration, the
 * status of the last runs and the event queue, and runs it now.
 */
export function ReplicationSection({ repoKey, rclass }: { repoKey: string; rclass: string }) {
  const push = rclass === 'local';
  // The list of every replication (no 404 in the console for a repository without one).
  const config = useAsync(
    (signal) => api<Array<Target & { repoKey: string }>>('/artifactory/api/replications', { signal }).then((all) => all.filter((c) => c.repoKey === repoKey)),
    `replication-config:${repoKey}`,
  );
  const status = useAsync((signal) => api<Status>(STATUS(repoKey), { signal }), `replication-status:${repoKey}`, 10_000);
  const [form, setForm] = useState({ ...NEW_TARGET });
  const save = useAction();
  const run = useAction();
  const targets = config.data ?? [];

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save.run(async () => {
      const { url, username, password, ...common } = form;
      if (push) {
        const target = { ...common, url: url.trim(), username, ...(password ? { password } : {}) };
        await api(`/artifactory/api/replications/multiple/${encodeURIComponent(repoKey)}`, { method: 'POST', json: { replications: [target] } });
      } else {
        await api(CONFIG(repoKey), { method: 'PUT', json: { ...common, repoKey } });
      }
      setForm({ ...NEW_TARGET });
      config.reload();
      status.reload();
      return push ? `Push target ${url.trim()} saved.` : 'Pull replication saved.';
    });
  };

  const byUrl = new Map((status.data?.targets ?? []).map((t) => [t.url, t]));
  return (
    <section className="card" aria-labelledby="replication-title">
      <h2 id="replication-title">Replication</h2>
      <p className="muted">{push ? 'This local repository pushes its changes to other repositories (targets).' : 'This remote repository pulls its upstream’s content on a schedule.'}</p>
      <ErrorBox error={config.error ?? status.error} />
      {status.data && (
        <dl className="kv" data-testid="replication-status">
          <dt>Status</dt>
          <dd>
            {status.data.status}
            {status.data.blocked && ' (blocked)'}
          </dd>
          <dt>Last completed</dt>
          <dd>{formatDate(status.data.lastCompleted) || 'never'}</dd>
          {status.data.runRequested && (
            <>
              <dt>Run requested</dt>
              <dd>{formatDate(status.data.runRequested)}</dd>
            </>
          )}
          {status.data.message && (
            <>
              <dt>Message</dt>
              <dd>{status.data.message}</dd>
            </>
          )}
        </dl>
      )}
      {targets.length > 0 && (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Table of replication targets">
          <table data-testid="replication-targets">
            <caption className="sr-only">Replication {push ? 'targets' : 'configuration'}</caption>
            <thead>
              <tr>
                {push && <th scope="col">Target</th>}
                <th scope="col">Schedule</th>
                <th scope="col">Enabled</th>
                <th scope="col">On events</th>
                {push && <th scope="col">Status</th>}
                {push && <th scope="col">Queue</th>}
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {targets.map((t) => {
                const s = t.url ? byUrl.get(t.url) : undefined;
                return (
                  <tr key={t.url ?? 'pull'}>
                    {push && (
                      <th scope="row" className="mono">
                        <span className="ellipsis" title={t.url}>
                          {t.url}
                        </span>
                      </th>
                    )}
                    <td className="mono">{t.cronExp}</td>
                    <td>{t.enabled ? 'yes' : 'no'}</td>
                    <td>{t.enableEventReplication ? 'yes' : 'no'}</td>
                    {push && <td>{s ? `${s.status}${s.lastCompleted ? `, ${formatDate(s.lastCompleted)}` : ''}` : ''}</td>}
                    {push && <td className="num">{s?.queue ? `${s.queue.pending} pending, ${s.queue.failed} failed` : ''}</td>}
                    <td>
                      <ConfirmButton
                        label="Remove"
                        accessibleLabel={`Remove replication ${t.url ?? ''}`.trim()}
                        question={push ? `Stop replicating to ${t.url}?` : 'Remove the pull replication?'}
                        onConfirm={async () => {
                          await api(`${CONFIG(repoKey)}${push && t.url ? `?url=${encodeURIComponent(t.url)}` : ''}`, { method: 'DELETE' });
                          config.reload();
                          status.reload();
                        }}
                      />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {targets.length > 0 && (
        <p className="toolbar">
          <button type="button" disabled={run.busy} onClick={() => void run.run(async () => {
            const r = await api<{ message: string }>(`/artifactory/api/replication/execute/${encodeURIComponent(repoKey)}`, { method: 'POST' });
            status.reload();
            return r.message;
          })}>
            Run replication now
          </button>
        </p>
      )}
      <ErrorBox error={run.error} />
      <Notice>{run.message}</Notice>
      {(push || targets.length === 0) && (
        <form onSubmit={submit} aria-label={push ? 'Add a push target' : 'Configure pull replication'}>
          <h3>{push ? 'Add a push target' : 'Pull on a schedule'}</h3>
          {push && (
            <>
              <Field id="repl-url" label="Target repository URL" hint="e.g. https://other-site/artifactory/libs-local">
                <input id="repl-url" type="url" required aria-describedby="repl-url-hint" value={form.url} onChange={(e) => setForm({ ...form, url: e.target.value })} />
              </Field>
              <div className="row">
                <Field id="repl-user" label="Username on the target">
                  <input id="repl-user" autoComplete="off" value={form.username} onChange={(e) => setForm({ ...form, username: e.target.value })} />
                </Field>
                <Field id="repl-password" label="Password or token">
                  <input id="repl-password" type="password" autoComplete="new-password" value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} />
                </Field>
              </div>
            </>
          )}
          <Field id="repl-cron" label="Schedule (cron expression)" hint="Seconds first, as the seed's: 0 0 * * * ? runs every hour">
            <input id="repl-cron" required aria-describedby="repl-cron-hint" className="mono" value={form.cronExp} onChange={(e) => setForm({ ...form, cronExp: e.target.value })} />
          </Field>
          {(
            [
              ['enabled', 'Enabled'],
              ['enableEventReplication', push ? 'Push each change as it happens (event replication)' : 'Follow the upstream’s events'],
              ['syncDeletes', 'Delete what the source no longer has'],
              ['syncProperties', 'Copy properties'],
            ] as const
          ).map(([k, label]) => (
            <label key={k} className="inline" htmlFor={`repl-${k}`}>
              <input id={`repl-${k}`} type="checkbox" checked={form[k]} onChange={(e) => setForm({ ...form, [k]: e.target.checked })} />
              {label}
            </label>
          ))}
          <ErrorBox error={save.error} />
          <Notice>{save.message}</Notice>
          <p className="toolbar">
            <button type="submit" className="primary" disabled={save.busy}>
              {push ? 'Add target' : 'Save pull replication'}
            </button>
          </p>
        </form>
      )}
    </section>
  );
}
