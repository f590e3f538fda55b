import { useEffect, useState } from 'react';
import { api, encodePath, storageUrl } from '../api';
import { Link } from '../router';
import { useAsync } from './hooks';
import type { RepoSummary } from './setup-snippets';

export interface Selection {
  repo: string;
  path: string;
}

interface FolderInfo {
  children?: Array<{ uri: string; folder: boolean }>;
  /** Token of the next page of children (docs/rest-api.md, paging). */
  next?: string;
}

interface Child {
  name: string;
  folder: boolean;
}

/** Children asked for at a time: a folder of any size opens at once; "Show more" fetches the next page. */
const PAGE = 500;

export function browseHref(repo: string, path = ''): string {
  return `/browse/${encodeURIComponent(repo)}${path ? `/${encodePath(path)}` : ''}`;
}

/** Folders first, each group by name. */
function byKindThenName(a: Child, b: Child): number {
  return a.folder === b.folder ? a.name.localeCompare(b.name) : a.folder ? -1 : 1;
}

/** One page of the folder's children (the first, or the one `after` names) and the next page's token. */
export async function loadChildren(repo: string, path: string, signal?: AbortSignal, after?: string): Promise<{ children: Child[]; next?: string }> {
  const query = `?limit=${PAGE}${after ? `&after=${encodeURIComponent(after)}` : ''}`;
  const info = await api<FolderInfo>(`${storageUrl(repo, path)}${query}`, { signal });
  return { children: (info.children ?? []).map((c) => ({ name: c.uri.replace(/^\//, ''), folder: c.folder })), next: info.next };
}

function Folder({ repo, path, label, kind, selected, version }: { repo: string; path: string; label: string; kind?: string; selected: Selection; version: number }) {
  const onPath = selected.repo === repo && (path === '' || selected.path === path || selected.path.startsWith(`${path}/`));
  const [open, setOpen] = useState(onPath);
  useEffect(() => {
    if (onPath) setOpen(true);
  }, [onPath]);
  const key = open ? `${repo}/${path}#${version}` : 'closed';
  const first = useAsync((signal) => (open ? loadChildren(repo, path, signal) : Promise.resolve({ children: [] as Child[], next: undefined })), key);
  const [more, setMore] = useState<{ key: string; children: Child[]; next?: string; error?: string }>();
  const extra = more?.key === key ? more : undefined;
  const next = extra ? extra.next : first.data?.next;
  const shown = [...(first.data?.children ?? []), ...(extra?.children ?? [])].sort(byKindThenName);
  const showMore = () =>
    loadChildren(repo, path, undefined, next).then(
      (page) => setMore({ key, children: [...(extra?.children ?? []), ...page.children], next: page.next }),
      (err: Error) => setMore({ key, children: extra?.children ?? [], next, error: err.message }),
    );
  const current = selected.repo === repo && selected.path === path;
  return (
    <li>
      <button type="button" className="toggle" aria-expanded={open} aria-label={`${open ? 'Collapse' : 'Expand'} ${label}`} onClick={() => setOpen(!open)}>
        {open ? '▾' : '▸'}
      </button>
      <Link to={browseHref(repo, path)} aria-current={current ? 'page' : undefined}>
        {path === '' ? label : `${label}/`}
      </Link>
      {kind && <span className="kind">{kind}</span>}
      {open && (
        <ul>
          {first.error && <li className="error">{first.error.message}</li>}
          {shown.length === 0 && !first.loading && <li className="muted">(empty)</li>}
          {shown.map((c) => {
            const p = path ? `${path}/${c.name}` : c.name;
            return c.folder ? (
              <Folder key={c.name} repo={repo} path={p} label={c.name} selected={selected} version={version} />
            ) : (
              <li key={c.name} className="file">
                <span className="toggle" aria-hidden="true" />
                <Link to={browseHref(repo, p)} aria-current={selected.repo === repo && selected.path === p ? 'page' : undefined}>
                  {c.name}
                </Link>
              </li>
            );
          })}
          {extra?.error && <li className="error">{extra.error}</li>}
          {next && (
            <li>
              <button type="button" className="more" onClick={showMore}>
                Show more
              </button>
            </li>
          )}
        </ul>
      )}
    </li>
  );
}

/** The repository tree: repositories, then their folders and files, loaded when expanded. */
export function RepoTree({ repos, selected, version }: { repos: RepoSummary[]; selected: Selection; version: number }) {
  return (
    <nav className="tree" aria-label="Repository tree">
      <ul>
        {repos.map((r) => (
          <Folder key={r.key} repo={r.key} path="" label={r.key} kind={`${r.packageType} ${r.type.toLowerCase()}`} selected={selected} version={version} />
        ))}
      </ul>
    </nav>
  );
}
