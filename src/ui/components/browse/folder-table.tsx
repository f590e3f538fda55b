import { useEffect, useMemo, useRef, useState } from 'react';
import { api, storageUrl } from '../../api';
import { Link } from '../../router';
import { formatDate, formatSize } from '../common';
import { CopyButton } from '../copy-button';
import { SortableTable, type Column } from '../sortable-table';
import type { RepoSummary } from '../setup-snippets';
import { browseHref } from '../tree';
import { ItemIcon } from './icons';
import { isInternal } from './internal';

/** A child as `?details=1` lists it (docs/rest-api.md). */
export interface DetailedChild {
  uri: string;
  folder: boolean;
  size: number;
  created?: string;
  createdBy?: string;
  lastModified?: string;
  modifiedBy?: string;
  downloadCount?: number;
  /** The member repository (a virtual repository's merged listing). */
  repo?: string;
  /** A merged folder: every member holding it. */
  repos?: string[];
}

export interface FolderPage {
  children?: DetailedChild[];
  next?: string;
}

/** Children fetched per request after the first: the API's largest page. */
export const TABLE_PAGE = 1000;
/** Children the item's own request brings (the first rows show sooner); the table fetches the next 800 at once. */
export const FIRST_PAGE = 200;

export function folderQuery(after?: string, limit = FIRST_PAGE): string {
  return `?limit=${limit}&details=1${after ? `&after=${encodeURIComponent(after)}` : ''}`;
}

interface Entry extends DetailedChild {
  name: string;
  path: string;
}

/**
 * A folder's content as a table: name (ellipsised, full name on hover, copy button), the
 * member repository in a virtual repository, size, last modified, created by and downloads;
 * sortable (names and versions in natural order), filterable, 100 rows a page. The first
 * 1,000 children come with the folder's own request; a bigger folder loads 1,000 more on
 * demand (sorting and filtering then apply to what is loaded, and the table says so).
 */
export function FolderTable({
  repo,
  path,
  first,
  showInternal,
  onShowInternal,
}: {
  repo: RepoSummary;
  path: string;
  first: FolderPage;
  showInternal: boolean;
  onShowInternal: (on: boolean) => void;
}) {
  const [extra, setExtra] = useState<{ children: DetailedChild[]; next?: string; loading?: boolean; error?: string }>();
  useEffect(() => setExtra(undefined), [first]);
  // The first request brought FIRST_PAGE children; the rest of the first thousand follow at once.
  const autoLoaded = useRef<FolderPage | undefined>(undefined);
  useEffect(() => {
    if (!first.next || autoLoaded.current === first || extra) return;
    autoLoaded.current = first;
    loadMore(TABLE_PAGE - FIRST_PAGE);
  });
  const next = extra ? extra.next : first.next;
  const all = useMemo(() => [...(first.children ?? []), ...(extra?.children ?? [])], [first, extra]);
  const internal = all.filter((c) => isInternal(repo.packageType, c.uri.slice(1))).length;
  const entries: Entry[] = useMemo(
    () =>
      all
        .filter((c) => showInternal || !isInternal(repo.packageType, c.uri.slice(1)))
        .map((c) => {
          const name = c.uri.replace(/^\//, '');
          return { ...c, name, path: path ? `${path}/${name}` : name };
        }),
    [all, showInternal, repo.packageType, path],
  );
  const virtual = repo.type === 'VIRTUAL';

  const loadMore = (limit = TABLE_PAGE) => {
    setExtra((e) => ({ children: e?.children ?? [], next, loading: true }));
    api<FolderPage>(`${storageUrl(repo.key, path)}${folderQuery(next, limit)}`).then(
      (page) => setExtra((e) => ({ children: [...(e?.children ?? []), ...(page.children ?? [])], next: page.next })),
      (err: Error) => setExtra((e) => ({ children: e?.children ?? [], next, error: err.message })),
    );
  };

  const columns: Column<Entry>[] = useMemo(() => [
    {
      id: 'name',
      header: 'Name',
      value: (e) => `${e.folder ? '0' : '1'}${e.name}`,
      render: (e) => (
        <span className="name-cell">
          <ItemIcon folder={e.folder} />
          <Link to={browseHref(repo.key, e.path)} className="ellipsis" title={e.name}>
            {e.folder ? `${e.name}/` : e.name}
          </Link>
          <CopyButton text={e.name} label={`Copy the name ${e.name}`} className="small" />
        </span>
      ),
    },
    ...(virtual
      ? [
          {
            id: 'member',
            header: 'From',
            value: (e: Entry) => (e.repos ?? [e.repo ?? '']).join(', '),
            render: (e: Entry) => (
              <span className="members">
                {(e.repos ?? (e.repo ? [e.repo] : [])).map((m) => (
                  <Link key={m} to={browseHref(m, e.path)} className="member">
                    {m}
                  </Link>
                ))}
              </span>
            ),
          },
        ]
      : []),
    { id: 'size', header: 'Size', numeric: true, value: (e) => (e.folder ? undefined : e.size), render: (e) => (e.folder ? '' : formatSize(e.size)) },
    { id: 'modified', header: 'Modified', value: (e) => e.lastModified, render: (e) => <span className="nowrap">{formatDate(e.lastModified)}</span>, secondary: true },
    { id: 'createdBy', header: 'Created by', value: (e) => e.createdBy, secondary: true },
    { id: 'downloads', header: 'Downloads', numeric: true, value: (e) => (e.folder ? undefined : (e.downloadCount ?? 0)) },
  ], [repo.key, virtual]);

  return (
    <div className="folder-table">
      <SortableTable
        items={entries}
        columns={columns}
        rowKey={(e) => e.name}
        caption={`Content of ${repo.key}/${path}`}
        testId="folder-table"
        empty="This folder is empty."
        filterLabel="Filter this folder"
        initialSort={{ id: 'name', dir: 'ascending' }}
        rowProps={(e) => ({ 'data-name': e.name })}
        toolbar={
          <label className="inline check">
            <input type="checkbox" checked={showInternal} onChange={(e) => onShowInternal(e.target.checked)} /> Show internal files
            {internal > 0 && !showInternal ? ` (${internal} hidden)` : ''}
          </label>
        }
      />
      {next && (
        <p className="toolbar" role="status">
          <span className="muted">
            {all.length.toLocaleString()} entries loaded; the folder has more. Sorting and filtering apply to the entries loaded.
          </span>
          <button type="button" onClick={() => loadMore()} disabled={extra?.loading}>
            Load {TABLE_PAGE.toLocaleString()} more
          </button>
        </p>
      )}
      {extra?.error && (
        <p className="error" role="alert">
          {extra.error}
        </p>
      )}
    </div>
  );
}
