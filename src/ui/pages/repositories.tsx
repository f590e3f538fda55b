import { useMemo, useState } from 'react';
import { api } from '../api';
import { adminRoute, EditDeleteButtons, NewButton, SavedNotice, useFreshList } from '../components/admin-list';
import { PackageIcon } from '../components/admin/package-icon';
import { RemoteStatusView } from '../components/admin/remote-status';
import { Tabs } from '../components/admin/tabs';
import { ErrorBox, Field, formatSize, Page } from '../components/common';
import { useAsync } from '../components/hooks';
import type { RepoSummary } from '../components/setup-snippets';
import { SortableTable, type Column } from '../components/sortable-table';
import { browseHref } from '../components/tree';
import { Link, type PageProps } from '../router';
import { RepoForm } from './repo-form';
import '../styles/admin.css';

type Tab = 'all' | 'local' | 'remote' | 'virtual';
const TABS: Array<{ value: Tab; label: string }> = [
  { value: 'all', label: 'All' },
  { value: 'local', label: 'Local' },
  { value: 'remote', label: 'Remote' },
  { value: 'virtual', label: 'Virtual' },
];

interface StorageRow {
  repoKey: string;
  filesCount: number;
  usedSpaceInBytes: number;
}

/** Files and bytes per repository from the storage summary (served from its last calculation). */
function useRepoCounts() {
  const info = useAsync((signal) => api<{ repositoriesSummaryList: StorageRow[] }>('/artifactory/api/storageinfo', { signal }), 'storageinfo');
  return useMemo(() => new Map((info.data?.repositoriesSummaryList ?? []).map((r) => [r.repoKey, r])), [info.data]);
}

function RepoTable({ created, saved }: { created?: string; saved?: string }) {
  const { list: repos, setExpect } = useFreshList<RepoSummary>('/artifactory/api/repositories', (r) => r.key, 'repos', created);
  const counts = useRepoCounts();
  const [tab, setTab] = useState<Tab>('all');
  const [type, setType] = useState('');
  const all = repos.data ?? [];
  const types = [...new Set(all.map((r) => r.packageType.toLowerCase()))].sort();
  const shown = all.filter((r) => (tab === 'all' || r.type.toLowerCase() === tab) && (!type || r.packageType.toLowerCase() === type));
  const count = (t: Tab) => (t === 'all' ? all.length : all.filter((r) => r.type.toLowerCase() === t).length);

  const columns: Column<RepoSummary>[] = [
    {
      id: 'key',
      header: 'Key',
      value: (r) => r.key,
      render: (r) => (
        <span className="repo-key">
          <PackageIcon type={r.packageType} />
          <Link to={browseHref(r.key)} className="ellipsis" title={r.key}>
            {r.key}
          </Link>
        </span>
      ),
    },
    { id: 'type', header: 'Package type', value: (r) => r.packageType },
    { id: 'class', header: 'Class', value: (r) => r.type.toLowerCase(), secondary: true },
    { id: 'files', header: 'Files', numeric: true, secondary: true, value: (r) => counts.get(r.key)?.filesCount, render: (r) => (counts.has(r.key) ? counts.get(r.key)!.filesCount.toLocaleString() : '') },
    { id: 'size', header: 'Size', numeric: true, secondary: true, value: (r) => counts.get(r.key)?.usedSpaceInBytes, render: (r) => (counts.has(r.key) ? formatSize(counts.get(r.key)!.usedSpaceInBytes) : '') },
    {
      id: 'details',
      header: tab === 'remote' ? 'Upstream' : 'Upstream or description',
      value: (r) => r.description ?? '',
      render: (r) =>
        r.type === 'REMOTE' ? (
          <div className="remote-cell">
            <RemoteStatusView repoKey={r.key} compact />
          </div>
        ) : (
          <span className="ellipsis" title={r.description}>
            {r.description}
          </span>
        ),
    },
    {
      id: 'actions',
      header: 'Actions',
      srOnlyHeader: true,
      render: (r) => (
        <EditDeleteButtons
          what="repository"
          name={r.key}
          editTo={`/admin/repositories/edit/${encodeURIComponent(r.key)}`}
          question={`Delete ${r.key} and everything in it?`}
          groupLabel={`Confirm deletion of ${r.key}`}
          onDelete={async () => {
            await api(`/artifactory/api/repositories/${encodeURIComponent(r.key)}`, { method: 'DELETE' });
            setExpect({ absent: r.key });
          }}
        />
      ),
    },
  ];

  return (
    <Page title="Repositories" actions={<NewButton to="/admin/repositories/new">New repository</NewButton>}>
      <SavedNotice what="Repository" created={created} saved={saved} />
      <ErrorBox error={repos.error} />
      <Tabs id="repo-tabs" label="Repository classes" tabs={TABS.map((t) => ({ ...t, label: repos.data ? `${t.label} (${count(t.value)})` : t.label }))} value={tab} onChange={setTab}>
        {!repos.data ? (
          <div className="skeleton" aria-hidden="true" />
        ) : (
          <SortableTable
            items={shown}
            columns={columns}
            rowKey={(r) => r.key}
            caption="Repository list"
            testId="repos-table"
            empty={all.length === 0 ? 'No repositories yet.' : 'No repository of this kind.'}
            filterLabel="Filter repositories"
            initialSort={{ id: 'key', dir: 'ascending' }}
            toolbar={
              <Field id="repo-type-filter" label="Package type">
                <select id="repo-type-filter" value={type} onChange={(e) => setType(e.target.value)}>
                  <option value="">all types</option>
                  {types.map((t) => (
                    <option key={t} value={t}>
                      {t}
                    </option>
                  ))}
                </select>
              </Field>
            }
          />
        )}
      </Tabs>
    </Page>
  );
}

/** `/admin/repositories`, `…/new`, `…/edit/{key}`. */
export default function RepositoriesPage({ route }: PageProps) {
  return adminRoute(route, '/admin/repositories', (key) => <RepoForm editKey={key} />, (created, saved) => <RepoTable created={created} saved={saved} />);
}
