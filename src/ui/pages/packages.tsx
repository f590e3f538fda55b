import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { ErrorBox, Field, formatDate, formatSize, Page } from '../components/common';
import { DockerTags } from '../components/docker-panel';
import { ChartPanel, CratePanel, DebianView, GemView, GoModulePanel, RpmPackagePanel, unescapeGo } from '../components/format-panels';
import { useAsync } from '../components/hooks';
import { NpmPackagePanel } from '../components/package-panel';
import { FORMAT_KEYS, FORMATS, formatOfType, packageHref, packageOfItem, packageQuery, type AqlItem, type Format, type PackageHit } from '../components/packages/package-search';
import { MavenView, PypiView } from '../components/packages/views';
import { SortableTable, type Column } from '../components/sortable-table';
import { browseHref } from '../components/tree';
import { Link, navigate, type PageProps } from '../router';
import '../styles/packages.css';

/** Package files read per page (a package version may have several: a wheel and an sdist…). */
const PAGE = 50;

interface Repo {
  key: string;
  type: string;
  packageType: string;
}

async function search(format: Format | '', name: string, version: string, page: number, signal: AbortSignal) {
  const repos = (await api<Repo[]>('/artifactory/api/repositories', { signal })).filter((r) => r.type !== 'VIRTUAL' && formatOfType(r.packageType) && (!format || formatOfType(r.packageType) === format));
  if (repos.length === 0) return { hits: [] as PackageHit[], more: false, files: 0 };
  const formatOf = new Map(repos.map((r) => [r.key, formatOfType(r.packageType)!]));
  const formats = format ? [format] : [...new Set(formatOf.values())];
  const q = packageQuery(formats, repos.map((r) => r.key), name, version, page * PAGE, PAGE + 1);
  const res = await api<{ results: AqlItem[] }>('/artifactory/api/search/aql', { body: q, contentType: 'text/plain', signal });
  const items = res.results.slice(0, PAGE);
  const seen = new Map<string, PackageHit>();
  for (const it of items) {
    const h = packageOfItem(formatOf.get(it.repo)!, it);
    if (!h) continue;
    const key = `${h.repo}|${h.name}|${h.version}`;
    const prev = seen.get(key);
    if (prev) prev.size = (prev.size ?? 0) + (h.size ?? 0);
    else seen.set(key, h);
  }
  return { hits: [...seen.values()], more: res.results.length > PAGE, files: items.length };
}

const shownVersion = (h: PackageHit) => (h.format === 'go' ? unescapeGo(h.version) : h.version);

function PackageSearch({ query }: { query: URLSearchParams }) {
  const format = (FORMAT_KEYS as string[]).includes(query.get('format') ?? '') ? (query.get('format') as Format) : '';
  const name = query.get('name') ?? '';
  const version = query.get('version') ?? '';
  const page = Math.max(0, Number(query.get('page') ?? 0) || 0);
  const [form, setForm] = useState({ format, name, version });
  const key = `${format}|${name}|${version}|${page}`;
  const results = useAsync((signal) => search(format, name, version, page, signal), key);
  const go = (p: number, f = form) => {
    const params = new URLSearchParams();
    if (f.format) params.set('format', f.format);
    if (f.name.trim()) params.set('name', f.name.trim());
    if (f.version.trim()) params.set('version', f.version.trim());
    if (p > 0) params.set('page', String(p));
    navigate(`/packages${params.size ? `?${params}` : ''}`);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    go(0);
  };
  const columns: Column<PackageHit>[] = [
    { id: 'name', header: 'Package', value: (h) => h.display, render: (h) => <Link to={packageHref(h)} className="ellipsis" title={h.display}>{h.display}</Link> },
    { id: 'version', header: 'Version', value: shownVersion },
    { id: 'format', header: 'Format', value: (h) => FORMATS[h.format].label },
    { id: 'repo', header: 'Repository', value: (h) => h.repo, secondary: true },
    { id: 'size', header: 'Size', numeric: true, value: (h) => h.size, render: (h) => (h.size === undefined ? '' : formatSize(h.size)), secondary: true },
    { id: 'created', header: 'Created', value: (h) => (h.created ? Date.parse(h.created) : undefined), render: (h) => formatDate(h.created), secondary: true },
  ];
  return (
    <>
      <form className="card packages-form" onSubmit={submit} aria-label="Search packages">
        <Field id="pkg-format" label="Format">
          <select id="pkg-format" value={form.format} onChange={(e) => setForm({ ...form, format: e.target.value as Format | '' })}>
            <option value="">All formats</option>
            {FORMAT_KEYS.map((f) => (
              <option key={f} value={f}>
                {FORMATS[f].label}
              </option>
            ))}
          </select>
        </Field>
        <Field id="pkg-name" label="Name contains">
          <input id="pkg-name" type="search" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
        </Field>
        <Field id="pkg-version" label="Version contains">
          <input id="pkg-version" type="search" value={form.version} onChange={(e) => setForm({ ...form, version: e.target.value })} />
        </Field>
        <button type="submit" className="primary">
          Search packages
        </button>
      </form>
      <ErrorBox error={results.error} />
      {results.loading && !results.data && <div className="skeleton" aria-hidden="true" />}
      {results.data && (
        <section aria-label="Packages found">
          <p className="muted" role="status">
            {results.data.hits.length} package version{results.data.hits.length === 1 ? '' : 's'} on page {page + 1} (newest files first, {PAGE} files a page)
          </p>
          <SortableTable items={results.data.hits} columns={columns} rowKey={(h) => `${h.repo}|${h.name}|${h.version}`} caption="Packages found" testId="package-results" empty="No package matches." />
          {(page > 0 || results.data.more) && (
            <nav className="pager toolbar" aria-label="Result pages">
              <button type="button" disabled={page === 0} onClick={() => go(page - 1, { format, name, version })}>
                Previous
              </button>
              <span>Page {page + 1}</span>
              <button type="button" disabled={!results.data.more} onClick={() => go(page + 1, { format, name, version })}>
                Next
              </button>
            </nav>
          )}
        </section>
      )}
    </>
  );
}

/** `/packages/{format}/{repo}/{name}?version=`: one package's view. */
function PackageView({ format, repo, name, version }: { format: Format; repo: string; name: string; version?: string }) {
  const [g, a] = name.split(':');
  const browsePath = format === 'maven' ? `${g.replace(/\./g, '/')}/${a}` : format === 'docker' || format === 'npm' ? name : format === 'go' ? `${name}/@v` : '';
  return (
    <>
      <p className="toolbar">
        <Link to="/packages">← All packages</Link>
        <Link to={browseHref(repo, browsePath)}>Browse {browsePath ? `${repo}/${browsePath}` : repo}</Link>
      </p>
      {format === 'npm' && <NpmPackagePanel repo={repo} name={name} version={version} />}
      {format === 'maven' && <MavenView repo={repo} groupId={g} artifactId={a ?? ''} version={version} />}
      {format === 'pypi' && <PypiView repo={repo} project={name} version={version} />}
      {format === 'docker' && <DockerTags repo={repo} image={name} />}
      {format === 'go' && <GoModulePanel repo={repo} module={name} version={version ?? ''} />}
      {format === 'cargo' && <CratePanel repo={repo} name={name} version={version ?? ''} />}
      {format === 'gems' && <GemView repo={repo} name={name} version={version} />}
      {format === 'helm' && <ChartPanel repo={repo} name={name} version={version ?? ''} />}
      {format === 'debian' && <DebianView repo={repo} name={name} version={version} />}
      {format === 'rpm' && <RpmPackagePanel repo={repo} name={name} version={version} />}
    </>
  );
}

/** `/packages`: search packages by format, name and version; `/packages/{format}/{repo}/{name}`: a package's versions, install command, dependencies and readme. */
export default function PackagesPage({ route }: PageProps) {
  const rest = route.path.replace(/^\/packages\/?/, '').split('/').filter(Boolean).map((s) => decodeURIComponent(s));
  if (rest.length >= 3 && (FORMAT_KEYS as string[]).includes(rest[0])) {
    const [format, repo, ...name] = rest;
    const full = name.join('/');
    const shown = format === 'go' ? unescapeGo(full) : full;
    return (
      <Page title={`${FORMATS[format as Format].label} package ${shown}`}>
        <PackageView format={format as Format} repo={repo} name={full} version={route.query.get('version') ?? undefined} />
      </Page>
    );
  }
  return (
    <Page title="Packages">
      <PackageSearch query={route.query} />
    </Page>
  );
}
