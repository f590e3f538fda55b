import { lazy, Suspense, useCallback, useEffect, useRef, useState } from 'react';
import { ErrorBox, Page } from '../components/common';
import { loadFresh, useAsync } from '../components/hooks';
import { markBrowseOpen, prefetchAtLoad, take } from '../components/browse/prefetch';
import { ItemDetails, itemUrl, prefetchItem, type BrowseContext } from '../components/item-details';
import type { RepoSummary } from '../components/setup-snippets';
import { SortableTable, type Column } from '../components/sortable-table';
import { browseHref, RepoTree } from '../components/tree';
import { Link, type PageProps } from '../router';
import { useUser } from '../session';

const REPOS_URL = '/artifactory/api/repositories';

// A reload of a browse URL asks for the repository list and the item at once (prefetch.ts).
prefetchAtLoad((path) => {
  const sel = selectionOf(path);
  return sel.repo ? [REPOS_URL, itemUrl(sel.repo, sel.path)] : [REPOS_URL];
});

const SetupSnippets = lazy(() => import('../components/setup-snippets').then((m) => ({ default: m.SetupSnippets })));

/** `/browse/{repo}/{path…}` → the repository key and the path inside it. */
export function selectionOf(routePath: string): { repo: string; path: string } {
  const rest = routePath.replace(/^\/(browse\/?)?/, '');
  const segs = rest.split('/').filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  return { repo: segs[0] ?? '', path: segs.slice(1).join('/') };
}

const REPO_COLUMNS: Column<RepoSummary>[] = [
  {
    id: 'key',
    header: 'Key',
    value: (r) => r.key,
    render: (r) => (
      <Link to={browseHref(r.key)} className="ellipsis" title={r.key}>
        {r.key}
      </Link>
    ),
  },
  { id: 'type', header: 'Type', value: (r) => r.type.toLowerCase() },
  { id: 'packageType', header: 'Package type', value: (r) => r.packageType },
  { id: 'description', header: 'Description', value: (r) => r.description ?? '', secondary: true },
];

function RepoList({ repos }: { repos: RepoSummary[] }) {
  return (
    <div className="card">
      <h2>Repositories you can read</h2>
      <SortableTable items={repos} columns={REPO_COLUMNS} rowKey={(r) => r.key} caption="Repositories you can read" testId="browse-repos" filterLabel="Filter repositories" initialSort={{ id: 'key', dir: 'ascending' }} />
    </div>
  );
}

/** The repository browser: a tree on the left, the selected repository, folder or file on the right. */
export function BrowsePage({ route }: PageProps) {
  const user = useUser();
  const [version, setVersion] = useState(0);
  const [showInternal, setShowInternal] = useState(false);
  const changed = useCallback(() => setVersion((v) => v + 1), []);
  const sel = selectionOf(route.path);
  // The item's request starts now, beside the repository list's (the first content sooner).
  const started = useRef('');
  if (sel.repo && started.current !== `${sel.repo}/${sel.path}#${version}`) {
    started.current = `${sel.repo}/${sel.path}#${version}`;
    prefetchItem(sel.repo, sel.path);
  }
  useEffect(() => {
    markBrowseOpen(true);
    return () => markBrowseOpen(false);
  }, []);
  // A repository just created through another node may take a moment to reach the answering one.
  const repos = useAsync(
    (signal) => loadFresh(() => take<RepoSummary[]>(REPOS_URL, signal), (list) => !sel.repo || list.some((r) => r.key === sel.repo), signal, 6),
    `repos#${version}:${sel.repo}`,
  );
  const repo = repos.data?.find((r) => r.key === sel.repo);
  const title = sel.repo ? `${sel.repo}${sel.path ? `/${sel.path}` : ''}` : 'Browse';
  const ctx: BrowseContext | undefined = repo && repos.data ? { repo, repos: repos.data, user, version, onChanged: changed, showInternal, onShowInternal: setShowInternal } : undefined;
  return (
    <Page title={title}>
      <ErrorBox error={repos.error} />
      {!repos.data && !repos.error && <div className="skeleton browse-skeleton" aria-hidden="true" />}
      {repos.data && (
        <div className="browser">
          <RepoTree repos={repos.data} selected={sel} version={version} showInternal={showInternal} />
          <div className="browse-main">
            {!sel.repo && (repos.data.length === 0 ? <p>No repositories yet.</p> : <RepoList repos={repos.data} />)}
            {sel.repo && !repo && <ErrorBox error={`Repository '${sel.repo}' does not exist or you may not read it`} />}
            {ctx && <ItemDetails ctx={ctx} path={sel.path} />}
            {repo && sel.path === '' && (
              <Suspense fallback={null}>
                <SetupSnippets repo={repo} user={user.name} />
              </Suspense>
            )}
          </div>
        </div>
      )}
    </Page>
  );
}
