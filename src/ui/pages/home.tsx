import { api } from '../api';
import { ErrorBox, formatDate, formatSize, Page } from '../components/common';
import { useAsync } from '../components/hooks';
import { Icon, PackageTypeIcon } from '../components/icons';
import { Link } from '../router';
import { useUser } from '../session';
import '../styles/home.css';

interface RepoSummary {
  key: string;
  type: string;
  packageType: string;
}

interface StorageInfo {
  binariesSummary: { binariesCount: string; binariesSize: string; artifactsSize: string; optimization: string; artifactsCount: string };
  fileStoreSummary: { storageType: string; usedSpace: string; freeSpace: string };
}

interface NodeStatus {
  id: string;
  state: string;
}

interface AqlItem {
  repo: string;
  path: string;
  name: string;
  size: number;
  created: string;
  created_by?: string;
}

const RECENT_DAYS = 7;
const RECENT_COUNT = 8;

/**
 * The last files deployed: an AQL query over the last week only (the (repo, created) index
 * bounds the rows read), newest first, of the repositories the caller may read.
 */
function recentQuery(): string {
  const since = new Date(Date.now() - RECENT_DAYS * 86_400_000).toISOString();
  return `items.find({"type":"file","created":{"$gt":"${since}"}}).include("repo","path","name","size","created","created_by").sort({"$desc":["created"]}).limit(${RECENT_COUNT})`;
}

function browseTo(repo: string, path: string, name: string): string {
  const parts = [repo, ...(path && path !== '.' ? path.split('/') : []), name];
  return `/browse/${parts.map(encodeURIComponent).join('/')}`;
}

function Stat({ label, value, to }: { label: string; value: string | number | undefined; to?: string }) {
  const body = (
    <>
      <span className="stat-value">{value ?? <span className="skeleton skeleton-inline" />}</span>
      <span className="stat-label">{label}</span>
    </>
  );
  return <li className="stat">{to ? <Link to={to}>{body}</Link> : body}</li>;
}

/** Home: repository counts, storage, the files deployed lately and, for administrators, the cluster's health. */
export default function HomePage() {
  const user = useUser();
  const repos = useAsync((signal) => api<RepoSummary[]>('/artifactory/api/repositories', { signal }), 'home-repos');
  const recent = useAsync((signal) => api<{ results: AqlItem[] }>('/artifactory/api/search/aql', { body: recentQuery(), signal }).then((r) => r.results), `home-recent:${user.anonymous}`);
  const storage = useAsync((signal) => (user.admin ? api<StorageInfo>('/artifactory/api/storageinfo', { signal }) : Promise.resolve(undefined)), `home-storage:${user.admin}`);
  const status = useAsync((signal) => (user.admin ? api<{ nodes: NodeStatus[] }>('/artifactory/api/system/status', { signal }) : Promise.resolve(undefined)), `home-status:${user.admin}`, 10_000);

  const list = repos.data ?? [];
  const byClass = (c: string) => (repos.data ? list.filter((r) => r.type.toLowerCase() === c).length : undefined);
  const types = new Map<string, number>();
  for (const r of list) types.set(r.packageType.toLowerCase(), (types.get(r.packageType.toLowerCase()) ?? 0) + 1);
  const nodes = status.data?.nodes ?? [];
  const running = nodes.filter((n) => n.state === 'RUNNING').length;

  return (
    <Page title="Home">
      <ErrorBox error={repos.error} />
      <section aria-labelledby="home-repos" className="card">
        <h2 id="home-repos">Repositories</h2>
        <ul className="stats">
          <Stat label="repositories" value={repos.data ? list.length : undefined} to="/browse" />
          <Stat label="local" value={byClass('local')} />
          <Stat label="remote" value={byClass('remote')} />
          <Stat label="virtual" value={byClass('virtual')} />
        </ul>
        {types.size > 0 && (
          <ul className="type-counts" aria-label="Repositories by package type">
            {[...types.entries()]
              .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
              .map(([t, n]) => (
                <li key={t}>
                  <PackageTypeIcon type={t} size={18} />
                  <span>{t}</span>
                  <span className="muted">{n}</span>
                </li>
              ))}
          </ul>
        )}
      </section>
      {user.admin && (
        <div className="home-grid">
          <section aria-labelledby="home-storage" className="card">
            <h2 id="home-storage">Storage</h2>
            <ErrorBox error={storage.error} />
            <ul className="stats">
              <Stat label="artifacts" value={storage.data?.binariesSummary.artifactsCount} />
              <Stat label="artifacts' size" value={storage.data?.binariesSummary.artifactsSize} />
              <Stat label="binaries stored" value={storage.data?.binariesSummary.binariesSize} />
              <Stat label="deduplication" value={storage.data?.binariesSummary.optimization} />
            </ul>
            {storage.data && (
              <p className="muted">
                {storage.data.fileStoreSummary.storageType} store; disk used {storage.data.fileStoreSummary.usedSpace}, free {storage.data.fileStoreSummary.freeSpace}.
              </p>
            )}
          </section>
          <section aria-labelledby="home-cluster" className="card">
            <h2 id="home-cluster">Cluster health</h2>
            <ErrorBox error={status.error} />
            {status.data ? (
              <>
                <p className={running === nodes.length ? 'health ok' : 'health warn'}>
                  <Icon name={running === nodes.length ? 'check' : 'warning'} />
                  {running} of {nodes.length} node{nodes.length === 1 ? '' : 's'} running
                </p>
                <ul className="node-states">
                  {nodes.map((n) => (
                    <li key={n.id}>
                      <Icon name="server" /> {n.id} <span className={`state state-${n.state}`}>{n.state}</span>
                    </li>
                  ))}
                </ul>
                <Link to="/admin/ha">High Availability details</Link>
              </>
            ) : (
              !status.error && <div className="skeleton skeleton-row" />
            )}
          </section>
        </div>
      )}
      <section aria-labelledby="home-recent" className="card">
        <h2 id="home-recent">Deployed in the last {RECENT_DAYS} days</h2>
        <ErrorBox error={recent.error} />
        {recent.data === undefined && !recent.error && (
          <>
            <div className="skeleton skeleton-row" />
            <div className="skeleton skeleton-row" />
          </>
        )}
        {recent.data && recent.data.length === 0 && <p className="muted">Nothing deployed lately.</p>}
        {recent.data && recent.data.length > 0 && (
          <ul className="recent">
            {recent.data.map((it) => (
              <li key={`${it.repo}/${it.path}/${it.name}`}>
                <Icon name="file" />
                <Link to={browseTo(it.repo, it.path, it.name)} className="ellipsis" title={`${it.repo}/${it.path === '.' ? '' : `${it.path}/`}${it.name}`}>
                  {it.name}
                </Link>
                <span className="muted ellipsis">{it.repo}</span>
                <span className="muted">{formatSize(it.size)}</span>
                <span className="muted">
                  {formatDate(it.created)}
                  {it.created_by ? ` by ${it.created_by}` : ''}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </Page>
  );
}
