import { api } from '../api';
import { ErrorBox, formatDate, Loading, Page, TableFrame } from '../components/common';
import { useAsync } from '../components/hooks';

interface NodeStatus {
  id: string;
  state: string;
  role: string;
  url: string | null;
  startTime: string;
  lastHeartbeat: string;
  version: string;
  revision: string;
  releaseDate: string;
  membershipPort: number;
}

export const HA_REFRESH_MS = 3000;

/** The seed's High Availability table, from `/api/system/status`, refreshed every few seconds. */
export default function HaPage() {
  const status = useAsync((signal) => api<{ nodes: NodeStatus[] }>('/artifactory/api/system/status', { signal }), 'ha', HA_REFRESH_MS);
  const nodes = status.data?.nodes ?? [];
  const running = nodes.filter((n) => n.state === 'RUNNING').length;
  return (
    <Page title="High Availability">
      <p className="muted">
        {status.data ? `${nodes.length} node${nodes.length === 1 ? '' : 's'}, ${running} running.` : ''} Refreshes every {HA_REFRESH_MS / 1000} s
        {status.at ? `; last update ${status.at.toLocaleTimeString()}` : ''}.
      </p>
      <ErrorBox error={status.error} />
      <Loading when={status.loading && !status.data} />
      {status.data && (
        <TableFrame label="Cluster nodes">
          <table data-testid="ha-table">
            <thead>
              <tr>
                <th scope="col">ID</th>
                <th scope="col">Start Time</th>
                <th scope="col">URL</th>
                <th scope="col">Membership Port</th>
                <th scope="col">State</th>
                <th scope="col">Role</th>
                <th scope="col">Last Heartbeat</th>
                <th scope="col">Version</th>
                <th scope="col">Revision</th>
                <th scope="col">Release Date</th>
              </tr>
            </thead>
            <tbody>
              {nodes.map((n) => (
                <tr key={n.id} data-node-id={n.id}>
                  <th scope="row">{n.id}</th>
                  <td>{formatDate(n.startTime)}</td>
                  <td>{n.url ?? ''}</td>
                  <td className="num">{n.membershipPort}</td>
                  <td className={`state state-${n.state}`} data-testid="node-state">
                    {n.state}
                  </td>
                  <td>{n.role}</td>
                  <td>{formatDate(n.lastHeartbeat)}</td>
                  <td>{n.version}</td>
                  <td>{n.revision}</td>
                  <td>{formatDate(n.releaseDate)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableFrame>
      )}
    </Page>
  );
}
