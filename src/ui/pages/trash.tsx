import { useState, type FormEvent } from 'react';
import { api, encodePath } from '../api';
import { ErrorBox, Field, formatDate, formatSize, Notice, Page } from '../components/common';
import { ConfirmButton } from '../components/confirm-button';
import { useAction, useAsync } from '../components/hooks';
import { SortableTable, type Column } from '../components/sortable-table';
import { navigate, type PageProps } from '../router';
import { useUser } from '../session';
import '../styles/packages.css';

const TRASH = 'auto-trashcan';
const PAGE = 100;

interface TrashItem {
  repo: string;
  path: string;
  name: string;
  size?: number;
  properties?: Array<{ key: string; value: string }>;
}

interface Row {
  /** `{repo}/{path}` inside the trash: where it was. */
  where: string;
  repo: string;
  path: string;
  size?: number;
  deletedBy?: string;
  deletedAt?: number;
}

/** The AQL query for one page of trashed files whose original place contains `q`. */
export function trashQuery(q: string, offset: number, limit: number): string {
  const crit = [`{"repo":"${TRASH}"}`];
  if (q.trim()) {
    const p = JSON.stringify(`*${q.trim()}*`);
    crit.push(`{"$or":[{"name":{"$match":${p}}},{"path":{"$match":${p}}}]}`);
  }
  return `items.find({"$and":[${crit.join(',')}]}).include("repo","path","name","size","property").sort({"$asc":["path","name"]}).offset(${offset}).limit(${limit})`;
}

function rowOf(it: TrashItem): Row {
  const where = it.path && it.path !== '.' ? `${it.path}/${it.name}` : it.name;
  const prop = (k: string) => it.properties?.find((p) => p.key === k)?.value;
  const slash = where.indexOf('/');
  const time = Number(prop('trash.time'));
  return {
    where,
    repo: prop('trash.originalRepository') ?? where.slice(0, slash),
    path: prop('trash.originalPath') ?? where.slice(slash + 1),
    size: it.size,
    deletedBy: prop('trash.deletedBy'),
    deletedAt: Number.isFinite(time) && time > 0 ? time : undefined,
  };
}

const restoreUrl = (where: string, to?: string) => `/artifactory/api/trash/restore/${encodePath(where)}${to ? `?to=${encodeURIComponent(to)}` : ''}`;

/** Restore by path: for anyone who may manage the original repository (the trash itself is listed to administrators only). */
function RestoreForm({ onDone }: { onDone: () => void }) {
  const [form, setForm] = useState({ path: '', to: '' });
  const action = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      await api(restoreUrl(form.path.trim().replace(/^\/+/, ''), form.to.trim() || undefined), { method: 'POST' });
      onDone();
      return `Restored ${form.path.trim()}${form.to.trim() ? ` to ${form.to.trim()}` : ''}.`;
    });
  };
  return (
    <form className="card trash-form" onSubmit={submit} aria-labelledby="restore-title">
      <h2 id="restore-title" style={{ flexBasis: '100%' }}>
        Restore a path
      </h2>
      <Field id="restore-path" label="Deleted path (repository/path)" hint="A file or a folder, e.g. libs-local/org/acme">
        <input id="restore-path" required value={form.path} onChange={(e) => setForm({ ...form, path: e.target.value })} />
      </Field>
      <Field id="restore-to" label="Restore to (optional)" hint="repository/path of a local repository; empty: where it was">
        <input id="restore-to" value={form.to} onChange={(e) => setForm({ ...form, to: e.target.value })} />
      </Field>
      <button type="submit" disabled={action.busy}>
        Restore
      </button>
      <ErrorBox error={action.error} />
      <Notice>{action.message}</Notice>
    </form>
  );
}

function TrashList({ q, page }: { q: string; page: number }) {
  const [version, setVersion] = useState(0);
  const list = useAsync((signal) => api<{ results: TrashItem[] }>('/artifactory/api/search/aql', { body: trashQuery(q, page * PAGE, PAGE + 1), contentType: 'text/plain', signal }), `${q}|${page}|${version}`);
  const action = useAction();
  const reload = () => setVersion((v) => v + 1);
  const rows = (list.data?.results ?? []).slice(0, PAGE).map(rowOf);
  const more = (list.data?.results.length ?? 0) > PAGE;
  const columns: Column<Row>[] = [
    { id: 'where', header: 'Deleted item', value: (r) => r.where, render: (r) => <span className="ellipsis" title={r.where}>{r.where}</span> },
    { id: 'by', header: 'Deleted by', value: (r) => r.deletedBy, secondary: true },
    { id: 'at', header: 'Deleted', value: (r) => r.deletedAt, render: (r) => formatDate(r.deletedAt), secondary: true },
    { id: 'size', header: 'Size', numeric: true, value: (r) => r.size, render: (r) => (r.size === undefined ? '' : formatSize(r.size)), secondary: true },
    {
      id: 'actions',
      header: 'Actions',
      srOnlyHeader: true,
      render: (r) => (
        <span className="toolbar">
          <button
            type="button"
            aria-label={`Restore ${r.where}`}
            disabled={action.busy}
            onClick={() =>
              void action.run(async () => {
                await api(restoreUrl(r.where), { method: 'POST' });
                reload();
                return `Restored ${r.repo}/${r.path}.`;
              })
            }
          >
            Restore
          </button>
          <ConfirmButton
            label="Delete"
            inline
            accessibleLabel={`Delete ${r.where} for good`}
            confirmLabel="Yes, delete for good"
            groupLabel={`Delete ${r.where} for good?`}
            onConfirm={async () => {
              await api(`/artifactory/api/trash/clean/${encodePath(r.where)}`, { method: 'DELETE' });
              reload();
            }}
          />
        </span>
      ),
    },
  ];
  return (
    <>
      <div className="toolbar">
        <ConfirmButton
          label="Empty the trash can"
          confirmLabel="Yes, delete everything for good"
          question="Delete everything in the trash can for good?"
          onConfirm={async () => {
            await api('/artifactory/api/trash/empty', { method: 'POST' });
            reload();
          }}
        />
      </div>
      <ErrorBox error={list.error ?? action.error} />
      <Notice>{action.message}</Notice>
      {list.loading && !list.data && <div className="skeleton" aria-hidden="true" />}
      {list.data && <div className="trash-list"><SortableTable items={rows} columns={columns} rowKey={(r) => r.where} caption="Trash can" testId="trash" empty={q ? 'Nothing in the trash matches.' : 'The trash can is empty.'} pageSize={PAGE} /></div>}
      {(page > 0 || more) && (
        <nav className="pager toolbar" aria-label="Trash pages">
          <button type="button" disabled={page === 0} onClick={() => navigate(`/trash?${new URLSearchParams({ q, page: String(page - 1) })}`)}>
            Previous
          </button>
          <span>Page {page + 1}</span>
          <button type="button" disabled={!more} onClick={() => navigate(`/trash?${new URLSearchParams({ q, page: String(page + 1) })}`)}>
            Next
          </button>
        </nav>
      )}
      <RestoreForm onDone={reload} />
    </>
  );
}

/** `/trash`: what local repositories' deletes kept (search, restore, delete for good, empty). */
export default function TrashPage({ route }: PageProps) {
  const user = useUser();
  const q = route.query.get('q') ?? '';
  const page = Math.max(0, Number(route.query.get('page') ?? 0) || 0);
  const [text, setText] = useState(q);
  return (
    <Page title="Trash can">
      <p className="muted">Deletes in local repositories land here while the trash can is on, and leave after the retention period. Restoring puts items back where they were (or where you say).</p>
      {user.admin ? (
        <>
          <form
            className="card trash-form"
            role="search"
            aria-label="Search the trash can"
            onSubmit={(e) => {
              e.preventDefault();
              navigate(`/trash${text.trim() ? `?${new URLSearchParams({ q: text.trim() })}` : ''}`);
            }}
          >
            <Field id="trash-q" label="Name or path contains">
              <input id="trash-q" type="search" value={text} onChange={(e) => setText(e.target.value)} />
            </Field>
            <button type="submit" className="primary">
              Search
            </button>
          </form>
          <TrashList q={q} page={page} />
        </>
      ) : (
        <>
          <p>The trash can is listed to administrators only. If you may manage a repository, you can restore what was deleted from it by its path.</p>
          <RestoreForm onDone={() => undefined} />
        </>
      )}
    </Page>
  );
}
