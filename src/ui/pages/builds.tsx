import { api, ApiError } from '../api';
import { ErrorBox, formatDate, Page } from '../components/common';
import { Copyable } from '../components/copy-button';
import { useAsync } from '../components/hooks';
import { Facts } from '../components/packages/parts';
import { SortableTable, type Column } from '../components/sortable-table';
import { Link, type PageProps } from '../router';
import '../styles/packages.css';

const BUILD = '/artifactory/api/build';
const seg = (s: string) => encodeURIComponent(s);
/** `/{name}` as the API lists it (names percent-encoded) → the name. */
const fromUri = (uri: string) => decodeURIComponent(uri.replace(/^\//, ''));

interface Entry {
  id?: string;
  name?: string;
  type?: string;
  sha1?: string;
  sha256?: string;
  md5?: string;
  scopes?: string[];
}
interface Module {
  id: string;
  type?: string;
  artifacts?: Entry[];
  dependencies?: Entry[];
}
interface Status {
  status: string;
  comment?: string;
  repository?: string;
  timestamp?: string;
  user?: string;
  ciUser?: string;
}
interface BuildInfo {
  name: string;
  number: string;
  started?: string;
  url?: string;
  agent?: { name?: string; version?: string };
  buildAgent?: { name?: string; version?: string };
  principal?: string;
  vcs?: Array<{ url?: string; revision?: string; branch?: string }>;
  vcsRevision?: string;
  vcsUrl?: string;
  modules?: Module[];
  statuses?: Status[];
}

/** A 404 means "no builds" here, not an error. */
async function orEmpty<T>(p: Promise<T>, empty: T): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return empty;
    throw err;
  }
}

const runHref = (name: string, number: string, started?: string) => `/builds/${seg(name)}/${seg(number)}${started ? `?started=${encodeURIComponent(started)}` : ''}`;

function BuildList() {
  const list = useAsync(async (signal) => {
    // No build-info repository yet: no builds, and no 404 to ask for.
    const repos = await api<unknown[]>('/artifactory/api/repositories?packageType=buildinfo', { signal });
    if (repos.length === 0) return { builds: [] };
    return orEmpty(api<{ builds: Array<{ uri: string; lastStarted?: string }> }>(BUILD, { signal }), { builds: [] });
  }, 'builds');
  const rows = (list.data?.builds ?? []).map((b) => ({ name: fromUri(b.uri), last: b.lastStarted }));
  const columns: Column<(typeof rows)[number]>[] = [
    { id: 'name', header: 'Build', value: (r) => r.name, render: (r) => <Link to={`/builds/${seg(r.name)}`} className="ellipsis" title={r.name}>{r.name}</Link> },
    { id: 'last', header: 'Last run started', value: (r) => (r.last ? Date.parse(r.last) : undefined), render: (r) => formatDate(r.last) },
  ];
  return (
    <Page title="Builds">
      <ErrorBox error={list.error} />
      {list.loading && !list.data && <div className="skeleton" aria-hidden="true" />}
      {list.data && <SortableTable items={rows} columns={columns} rowKey={(r) => r.name} caption="Builds" testId="builds" filterLabel="Filter builds" empty="No builds published yet (jf rt build-publish, or PUT /api/build)." initialSort={{ id: 'last', dir: 'descending' }} pageSize={50} />}
    </Page>
  );
}

function BuildRuns({ name }: { name: string }) {
  const runs = useAsync((signal) => api<{ buildsNumbers: Array<{ uri: string; started?: string }> }>(`${BUILD}/${seg(name)}`, { signal }), name);
  const rows = (runs.data?.buildsNumbers ?? []).map((r) => ({ number: fromUri(r.uri), started: r.started }));
  const columns: Column<(typeof rows)[number]>[] = [
    { id: 'number', header: 'Run', value: (r) => r.number, render: (r) => <Link to={runHref(name, r.number, r.started)}>{r.number}</Link> },
    { id: 'started', header: 'Started', value: (r) => (r.started ? Date.parse(r.started) : undefined), render: (r) => formatDate(r.started) },
  ];
  return (
    <Page title={`Build ${name}`}>
      <p className="toolbar">
        <Link to="/builds">← All builds</Link>
      </p>
      <ErrorBox error={runs.error} />
      {runs.loading && !runs.data && <div className="skeleton" aria-hidden="true" />}
      {runs.data && <SortableTable items={rows} columns={columns} rowKey={(r) => `${r.number}|${r.started}`} caption={`Runs of ${name}`} testId="build-runs" filterLabel="Filter runs" initialSort={{ id: 'started', dir: 'descending' }} pageSize={50} />}
    </Page>
  );
}

interface EntryRow extends Entry {
  module: string;
  key: string;
}

function entryColumns(kind: 'artifact' | 'dependency'): Column<EntryRow>[] {
  return [
    { id: 'module', header: 'Module', value: (r) => r.module, render: (r) => <span className="ellipsis" title={r.module}>{r.module}</span>, secondary: true },
    { id: 'name', header: kind === 'artifact' ? 'Artifact' : 'Dependency', value: (r) => r.name ?? r.id, render: (r) => <span className="ellipsis" title={r.name ?? r.id}>{r.name ?? r.id}</span> },
    { id: 'type', header: 'Type', value: (r) => r.type },
    ...(kind === 'dependency' ? [{ id: 'scopes', header: 'Scopes', value: (r: EntryRow) => (r.scopes ?? []).join(', '), secondary: true }] : []),
    {
      id: 'sha1',
      header: 'SHA-1',
      value: (r) => r.sha1,
      render: (r) =>
        r.sha1 ? (
          <span className="toolbar">
            <Copyable text={r.sha1} label={`Copy the SHA-1 of ${r.name ?? r.id}`}>{`${r.sha1.slice(0, 10)}…`}</Copyable>
            <Link to={`/search?mode=checksum&q=${r.sha1}`} aria-label={`Find ${r.name ?? r.id} in the repositories`}>
              Find
            </Link>
          </span>
        ) : (
          ''
        ),
    },
  ];
}

function BuildRun({ name, number, started }: { name: string; number: string; started?: string }) {
  const run = useAsync((signal) => api<{ buildInfo: BuildInfo }>(`${BUILD}/${seg(name)}/${seg(number)}${started ? `?started=${encodeURIComponent(started)}` : ''}`, { signal }), `${name}/${number}/${started}`);
  const b = run.data?.buildInfo;
  const modules = b?.modules ?? [];
  const rowsOf = (kind: 'artifacts' | 'dependencies'): EntryRow[] => modules.flatMap((m) => (m[kind] ?? []).map((e, i) => ({ ...e, module: m.id, key: `${m.id}|${i}` })));
  const vcs = b?.vcs?.[0];
  return (
    <Page title={`Build ${name} #${number}`}>
      <p className="toolbar">
        <Link to="/builds">← All builds</Link>
        <Link to={`/builds/${seg(name)}`}>All runs of {name}</Link>
      </p>
      <ErrorBox error={run.error} />
      {run.loading && !b && <div className="skeleton" aria-hidden="true" />}
      {b && (
        <>
          <section className="card" aria-labelledby="run-title">
            <h2 id="run-title">Run</h2>
            <Facts
              items={[
                ['Started', formatDate(b.started)],
                ['Agent', [b.agent?.name, b.agent?.version].filter(Boolean).join(' ')],
                ['Build agent', [b.buildAgent?.name, b.buildAgent?.version].filter(Boolean).join(' ')],
                ['Principal', b.principal],
                ['CI URL', b.url],
                ['VCS', [vcs?.url ?? b.vcsUrl, vcs?.branch, vcs?.revision ?? b.vcsRevision].filter(Boolean).join(' · ')],
                ['Last status', b.statuses?.length ? b.statuses[b.statuses.length - 1].status : 'not promoted'],
              ]}
            />
          </section>
          <section className="card" aria-labelledby="modules-title">
            <h2 id="modules-title">Modules</h2>
            <SortableTable
              items={modules}
              columns={[
                { id: 'id', header: 'Module', value: (m: Module) => m.id, render: (m: Module) => <span className="ellipsis" title={m.id}>{m.id}</span> },
                { id: 'type', header: 'Type', value: (m: Module) => m.type },
                { id: 'artifacts', header: 'Artifacts', numeric: true, value: (m: Module) => m.artifacts?.length ?? 0 },
                { id: 'dependencies', header: 'Dependencies', numeric: true, value: (m: Module) => m.dependencies?.length ?? 0 },
              ]}
              rowKey={(m) => m.id}
              caption="Modules"
              testId="build-modules"
              empty="No modules."
            />
          </section>
          <section className="card" aria-labelledby="artifacts-title">
            <h2 id="artifacts-title">Artifacts</h2>
            <SortableTable items={rowsOf('artifacts')} columns={entryColumns('artifact')} rowKey={(r) => r.key} caption="Artifacts" testId="build-artifacts" filterLabel="Filter artifacts" empty="No artifacts." pageSize={50} />
          </section>
          <section className="card" aria-labelledby="deps-title">
            <h2 id="deps-title">Dependencies</h2>
            <SortableTable items={rowsOf('dependencies')} columns={entryColumns('dependency')} rowKey={(r) => r.key} caption="Dependencies" testId="build-dependencies" filterLabel="Filter dependencies" empty="No dependencies." pageSize={50} />
          </section>
          <section className="card" aria-labelledby="promotions-title">
            <h2 id="promotions-title">Promotion history</h2>
            <SortableTable
              items={(b.statuses ?? []).map((s, i) => ({ ...s, i }))}
              columns={[
                { id: 'timestamp', header: 'When', value: (s) => (s.timestamp ? Date.parse(s.timestamp) : undefined), render: (s) => formatDate(s.timestamp) },
                { id: 'status', header: 'Status', value: (s) => s.status },
                { id: 'repository', header: 'Target repository', value: (s) => s.repository },
                { id: 'user', header: 'By', value: (s) => s.user ?? s.ciUser, secondary: true },
                { id: 'comment', header: 'Comment', value: (s) => s.comment, secondary: true },
              ]}
              rowKey={(s) => String(s.i)}
              caption="Promotion history"
              testId="build-promotions"
              empty="Never promoted."
              initialSort={{ id: 'timestamp', dir: 'descending' }}
            />
          </section>
        </>
      )}
    </Page>
  );
}

/** `/builds`, `/builds/{name}`, `/builds/{name}/{number}[?started=]`: the Build Info browser. */
export default function BuildsPage({ route }: PageProps) {
  const parts = route.path.replace(/^\/builds\/?/, '').split('/').filter(Boolean).map((s) => decodeURIComponent(s));
  if (parts.length >= 2) return <BuildRun name={parts[0]} number={parts[1]} started={route.query.get('started') ?? undefined} />;
  if (parts.length === 1) return <BuildRuns name={parts[0]} />;
  return <BuildList />;
}
