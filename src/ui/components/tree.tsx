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
}

export function browseHref(repo: string, path = ''): string {
  return `/browse/${encodeURIComponent(repo)}${path ? `/${encodePath(path)}` : ''}`;
}

/** The folder's children, folders first, each group by name. */
export async function loadChildren(repo: string, path: string, signal?: AbortSignal): Promise<Array<{ name: string; folder: boolean }>> {
  const info = await api<FolderInfo>(storageUrl(repo, path), { signal });
  return (info.children ?? [])
    .map((c) => ({ name: c.uri.replace(/^\//, ''), folder: c.folder }))
    .sort((a, b) => (a.folder === b.folder ? a.name.localeCompare(b.name) : a.folder ? -1 : 1));
}

function Folder({ repo, path, label, kind, selected, version }: { repo: string; path: string; label: string; kind?: string; selected: Selection; version: number }) {
  const onPath = selected.repo === repo && (path === '' || selected.path === path || selected.path.startsWith(`${path}/`));
  const [open, setOpen] = useState(onPath);
  useEffect(() => {
    if (onPath) setOpen(true);
  }, [onPath]);
  const children = useAsync((signal) => (open ? loadChildren(repo, path, signal) : Promise.resolve([])), open ? `${repo}/${path}#${version}` : 'closed');
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
          {children.error && <li className="error">{children.error.message}</li>}
          {children.data?.length === 0 && !children.loading && <li className="muted">(empty)</li>}
          {children.data?.map((c) => {
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
