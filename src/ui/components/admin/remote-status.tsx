import { useState } from 'react';
import { api } from '../../api';
import { formatDate } from '../common';
import { useAsync } from '../hooks';
import '../../styles/admin.css';

export interface RemoteStatus {
  upstream: string;
  state: 'online' | 'offline' | 'assumed-offline' | 'failing' | 'unknown';
  assumedOfflineUntil?: string;
  lastError?: string;
  lastErrorAt?: string;
}

export interface ConnectionTest {
  ok: boolean;
  url: string;
  status?: number;
  message: string;
  elapsedMs: number;
}

const STATE_LABEL: Record<RemoteStatus['state'], string> = {
  online: 'online',
  offline: 'offline (cache only)',
  'assumed-offline': 'assumed offline',
  failing: 'failing',
  unknown: 'not contacted yet',
};

const base = (key: string) => `/artifactory/api/repositories/${encodeURIComponent(key)}`;

/** The "Test connection" button and its answer (announced politely), for one remote repository. */
export function TestConnection({ repoKey, onTested }: { repoKey: string; onTested?: () => void }) {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ConnectionTest | { ok: false; message: string } | undefined>();
  const test = async () => {
    setBusy(true);
    setResult(undefined);
    try {
      setResult(await api<ConnectionTest>(`${base(repoKey)}/testConnection`, { method: 'POST' }));
    } catch (err) {
      setResult({ ok: false, message: (err as Error).message });
    } finally {
      setBusy(false);
      onTested?.();
    }
  };
  return (
    <span className="test-connection">
      <button type="button" onClick={() => void test()} disabled={busy} aria-label={`Test connection of ${repoKey}`}>
        {busy ? 'Testing…' : 'Test connection'}
      </button>{' '}
      <span role="status" data-testid={`test-result-${repoKey}`} className={result ? (result.ok ? 'status-online' : 'status-failing') : undefined}>
        {result && `${result.ok ? '✓' : '✗'} ${result.message}`}
      </span>
    </span>
  );
}

/** A remote's upstream, its state as this node saw it, and its last error. */
export function RemoteStatusView({ repoKey, compact }: { repoKey: string; compact?: boolean }) {
  const status = useAsync((signal) => api<RemoteStatus>(`${base(repoKey)}/remoteStatus`, { signal }), `remote-status:${repoKey}`);
  const s = status.data;
  if (status.error) return <span className="muted">status unavailable</span>;
  if (!s) return <span className="skeleton" aria-hidden="true" />;
  const pill = <span className={`status-pill status-${s.state}`}>{STATE_LABEL[s.state]}</span>;
  if (compact) {
    return (
      <>
        <span className="remote-status">
          <span className="ellipsis mono" title={s.upstream}>
            {s.upstream}
          </span>{' '}
          {pill}
        </span>
        {s.lastError && s.state !== 'online' && (
          <div className="ellipsis muted" title={`${s.lastError} (${formatDate(s.lastErrorAt)})`}>
            Last error: {s.lastError}
          </div>
        )}
        <div>
          <TestConnection repoKey={repoKey} onTested={status.reload} />
        </div>
      </>
    );
  }
  return (
    <div className="card" aria-labelledby={`upstream-${repoKey}`}>
      <h2 id={`upstream-${repoKey}`}>Upstream</h2>
      <dl className="kv">
        <dt>URL</dt>
        <dd className="mono">{s.upstream}</dd>
        <dt>Status</dt>
        <dd>
          {pill}
          {s.assumedOfflineUntil && ` until ${formatDate(s.assumedOfflineUntil)}`}
        </dd>
        <dt>Last error</dt>
        <dd>{s.lastError ? `${s.lastError} (${formatDate(s.lastErrorAt)})` : 'none seen by this node'}</dd>
      </dl>
      <p className="toolbar">
        <TestConnection repoKey={repoKey} onTested={status.reload} />
      </p>
    </div>
  );
}
