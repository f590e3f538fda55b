import { api } from '../api';
import { adminRoute, DataTable, EditDeleteCell, NewButton, useFreshList } from '../components/admin-list';
import { ErrorBox, Loading, Page } from '../components/common';
import type { RepoSummary } from '../components/setup-snippets';
import { browseHref } from '../components/tree';
import { Link, type PageProps } from '../router';
import { RepoForm } from './repo-form';

function RepoTable({ created }: { created?: string }) {
  const { list: repos, setExpect } = useFreshList<RepoSummary>('/artifactory/api/repositories', (r) => r.key, 'repos', created);
  return (
    <Page title="Repositories" actions={<NewButton to="/admin/repositories/new">New repository</NewButton>}>
      <ErrorBox error={repos.error} />
      <Loading when={repos.loading && !repos.data} />
      {repos.data && (
        <DataTable
          items={repos.data}
          headers={['Key', 'Class', 'Package type', 'Description', 'URL']}
          empty="No repositories yet."
          testId="repos-table"
          row={(r) => (
            <tr key={r.key}>
              <th scope="row">
                <Link to={browseHref(r.key)}>{r.key}</Link>
              </th>
              <td>{r.type.toLowerCase()}</td>
              <td>{r.packageType}</td>
              <td>{r.description}</td>
              <td className="mono">{r.url}</td>
              <EditDeleteCell
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
            </tr>
          )}
        />
      )}
    </Page>
  );
}

/** `/admin/repositories`, `…/new`, `…/edit/{key}`. */
export default function RepositoriesPage({ route }: PageProps) {
  return adminRoute(route, '/admin/repositories', (key) => <RepoForm editKey={key} />, (created) => <RepoTable created={created} />);
}
