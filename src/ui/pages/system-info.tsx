import { api } from '../api';
import { ErrorBox, formatDate, Page } from '../components/common';
import { useAsync } from '../components/hooks';
import '../styles/admin.css';

interface SystemInfo {
  version: string;
  revision: string;
  releaseDate: string;
  nodeId: string;
  startTime: string;
  uptimeSecs: number;
  runtime: string;
  platform: string;
  database: string;
  binaryStore: Array<{ id: string; type: string; depth: number; role: string }>;
}

interface NodeStatus {
  id: string;
  state: string;
  role: string;
  url: string | null;
  lastHeartbeat: string;
  version: string;
  taskAffinity?: string;
}

const DATABASES: Record<string, string> = { sqlite: 'SQLite (embedded)', postgres: 'PostgreSQL', postgresql: 'PostgreSQL', mysql: 'MySQL', mariadb: 'MariaDB' };

function uptime(secs: number): string {
  const d = Math.floor(secs / 86_400);
  const h = Math.floor((secs % 86_400) / 3600);
  const m = Math.floor((secs % 3600) / 60);
  return d > 0 ? `${d} d ${h} h` : h > 0 ? `${h} h ${m} min` : `${m} min`;
}

/** `/admin/system`: version, runtime, database, the binary store chain and the cluster's nodes. */
export default function SystemInfoPage() {
  const info = useAsync((signal) => api<SystemInfo>('/artifactory/api/system/info', { signal }), 'system-info');
  const status = useAsync((signal) => api<{ nodes: NodeStatus[] }>('/artifactory/api/system/status', { signal }), 'system-nodes', 10_000);
  const i = info.data;
  return (
    <Page title="System">
      <ErrorBox error={info.error ?? status.error} />
      {!i ? (
        <div className="skeleton" aria-hidden="true" />
      ) : (
        <div className="row">
          <section className="card grow" aria-labelledby="sys-version">
            <h2 id="sys-version">Version</h2>
            <dl className="kv" data-testid="system-facts">
              <dt>Arca</dt>
              <dd>
                {i.version} <span className="muted mono">({i.revision})</span>
              </dd>
              <dt>Built</dt>
              <dd>{formatDate(i.releaseDate)}</dd>
              <dt>Runtime</dt>
              <dd>
                {i.runtime} on {i.platform}
              </dd>
              <dt>This node</dt>
              <dd>
                {i.nodeId}, up {uptime(i.uptimeSecs)}
              </dd>
              <dt>Database</dt>
              <dd data-testid="system-database">{DATABASES[i.database] ?? i.database}</dd>
            </dl>
          </section>
          <section className="card grow" aria-labelledby="sys-binstore">
            <h2 id="sys-binstore">Binary store chain</h2>
            <ol className="chain" data-testid="system-binstore">
              {i.binaryStore.map((p, n) => (
                <li key={`${p.id}-${n}`} style={{ marginLeft: `${p.depth * 1.2}rem` }}>
                  <span className="mono">{p.type}</span> <span className="muted">id {p.id}{p.role !== 'provider' ? `, ${p.role}` : ''}</span>
                </li>
              ))}
            </ol>
            <p className="muted">From etc/binarystore.xml; `arca binarystore show` prints every parameter.</p>
          </section>
        </div>
      )}
      <section aria-labelledby="sys-nodes">
        <h2 id="sys-nodes">Nodes</h2>
        {!status.data ? (
          <div className="skeleton" aria-hidden="true" />
        ) : (
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Table of nodes">
            <table data-testid="system-nodes">
              <thead>
                <tr>
                  <th scope="col">Node</th>
                  <th scope="col">State</th>
                  <th scope="col">Role</th>
                  <th scope="col">Version</th>
                  <th scope="col" className="secondary">
                    Last heartbeat
                  </th>
                </tr>
              </thead>
              <tbody>
                {status.data.nodes.map((n) => (
                  <tr key={n.id}>
                    <th scope="row">{n.id}</th>
                    <td className={`state state-${n.state}`}>{n.state}</td>
                    <td>{n.role.toLowerCase()}</td>
                    <td>{n.version}</td>
                    <td className="secondary">{formatDate(n.lastHeartbeat)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </Page>
  );
}
