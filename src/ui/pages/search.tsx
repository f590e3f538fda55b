import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { ErrorBox, Field, formatDate, formatSize, Loading, Page } from '../components/common';
import { useAsync } from '../components/hooks';
import { SortableTable, type Column } from '../components/sortable-table';
import { browseHref } from '../components/tree';
import { Link, navigate, type PageProps } from '../router';

type Mode = 'name' | 'checksum' | 'property';

interface Result {
  uri: string;
  size?: string;
  lastModified?: string;
}

/** `{base}/api/storage/{repo}/{path}` → repository and path. */
export function itemOfStorageUri(uri: string): { repo: string; path: string } | undefined {
  const i = uri.indexOf('/api/storage/');
  if (i < 0) return undefined;
  const [repo, ...rest] = uri
    .slice(i + '/api/storage/'.length)
    .split('/')
    .map((s) => decodeURIComponent(s));
  return repo ? { repo, path: rest.join('/') } : undefined;
}

/** The search request for a mode and its text; undefined when there is nothing to search. */
export function searchUrl(mode: Mode, q: string, repos: string): string | undefined {
  const text = q.trim();
  if (!text) return undefined;
  const params = new URLSearchParams();
  if (mode === 'name') params.set('name', text);
  else if (mode === 'checksum') {
    const kind = /^[0-9a-f]{64}$/i.test(text) ? 'sha256' : /^[0-9a-f]{32}$/i.test(text) ? 'md5' : 'sha1';
    params.set(kind, text);
  } else {
    // key=value pairs separated by spaces or semicolons; a value may list alternatives with commas
    for (const pair of text.split(/[;\s]+/).filter(Boolean)) {
      const eq = pair.indexOf('=');
      params.append(eq < 0 ? pair : pair.slice(0, eq), eq < 0 ? '' : pair.slice(eq + 1));
    }
  }
  if (repos.trim()) params.set('repos', repos.trim());
  const path = mode === 'name' ? 'artifact' : mode === 'checksum' ? 'checksum' : 'prop';
  return `/artifactory/api/search/${path}?${params.toString()}`;
}

const COLUMNS: Column<Result>[] = [
  {
    id: 'item',
    header: 'Item',
    value: (r) => {
      const item = itemOfStorageUri(r.uri);
      return item ? `${item.repo}/${item.path}` : r.uri;
    },
    render: (r) => {
      const item = itemOfStorageUri(r.uri);
      const text = item ? `${item.repo}/${item.path}` : r.uri;
      return item ? (
        <Link to={browseHref(item.repo, item.path)} className="ellipsis" title={text}>
          {text}
        </Link>
      ) : (
        text
      );
    },
  },
  { id: 'size', header: 'Size', numeric: true, value: (r) => (r.size === undefined ? undefined : Number(r.size)), render: (r) => (r.size !== undefined ? formatSize(Number(r.size)) : ''), secondary: true },
  { id: 'modified', header: 'Last modified', value: (r) => (r.lastModified ? Date.parse(r.lastModified) : undefined), render: (r) => formatDate(r.lastModified), secondary: true },
];

const LABELS: Record<Mode, { label: string; hint: string }> = {
  name: { label: 'File name', hint: 'Wildcards * and ? allowed; a plain word matches anywhere in the name' },
  checksum: { label: 'Checksum', hint: 'SHA-256, SHA-1 or MD5 (recognised by length)' },
  property: { label: 'Properties', hint: 'key=value pairs separated by spaces or semicolons, e.g. build.number=42 vcs.branch=main' },
};

/** Search by name, checksum or property; the query lives in the address so results can be linked. */
export default function SearchPage({ route }: PageProps) {
  const mode = (['name', 'checksum', 'property'].includes(route.query.get('mode') ?? '') ? route.query.get('mode') : 'name') as Mode;
  const q = route.query.get('q') ?? '';
  const repos = route.query.get('repos') ?? '';
  const [form, setForm] = useState({ mode, q, repos });
  const url = searchUrl(mode, q, repos);
  const results = useAsync(
    (signal) => (url ? api<{ results: Result[] }>(url, { signal, headers: { 'x-result-detail': 'info' } }) : Promise.resolve({ results: [] })),
    url ?? '',
  );

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const p = new URLSearchParams({ mode: form.mode, q: form.q });
    if (form.repos) p.set('repos', form.repos);
    navigate(`/search?${p.toString()}`);
  };

  return (
    <Page title="Search">
      <form className="card" onSubmit={submit} aria-label="Search artifacts">
        <fieldset>
          <legend>Search by</legend>
          {(['name', 'checksum', 'property'] as Mode[]).map((m) => (
            <label key={m} className="inline">
              <input type="radio" name="mode" value={m} checked={form.mode === m} onChange={() => setForm({ ...form, mode: m })} />
              {m}
            </label>
          ))}
        </fieldset>
        <Field id="search-q" label={LABELS[form.mode].label} hint={LABELS[form.mode].hint}>
          <input id="search-q" type="search" value={form.q} onChange={(e) => setForm({ ...form, q: e.target.value })} />
        </Field>
        <Field id="search-repos" label="Repositories" hint="Comma-separated keys; empty searches all you can read">
          <input id="search-repos" value={form.repos} onChange={(e) => setForm({ ...form, repos: e.target.value })} />
        </Field>
        <p className="toolbar">
          <button type="submit" className="primary">
            Search
          </button>
        </p>
      </form>
      <ErrorBox error={results.error} />
      <Loading when={results.loading && !!url} />
      {url && results.data && (
        <p className="muted" role="status">
          {results.data.results.length} result{results.data.results.length === 1 ? '' : 's'}
        </p>
      )}
      {url && results.data && (
        <SortableTable
          items={results.data.results}
          columns={COLUMNS}
          rowKey={(r) => r.uri}
          caption={`${results.data.results.length} result${results.data.results.length === 1 ? '' : 's'}`}
          testId="search-results"
          filterLabel={results.data.results.length > 10 ? 'Filter results' : undefined}
          empty="Nothing found."
          pageSize={50}
        />
      )}
      {url && (
        <p className="muted">
          Looking for a package by format, name and version? <Link to="/packages">Search packages</Link>.
        </p>
      )}
    </Page>
  );
}
