import { useState, type FormEvent, type ReactNode } from 'react';
import { api } from '../api';
import { Link, type PageProps } from '../router';
import { ErrorBox, Page, TableFrame } from './common';
import { ConfirmButton } from './confirm-button';
import { loadFresh, meets, useAction, useAsync, type Expectation } from './hooks';

/**
 * An administration list read from `url`, loaded again (behind a balancer) until it shows the
 * item just created (`created`) or no longer shows the one just deleted (`setExpect`).
 */
export function useFreshList<T>(url: string, nameOf: (item: T) => string, key: string, created?: string) {
  const [expect, setExpect] = useState<Expectation>({ present: created });
  const list = useAsync(
    (signal) => loadFresh(() => api<T[]>(url, { signal }), (items) => meets(items.map(nameOf), expect), signal),
    `${key}:${expect.present ?? ''}:${expect.absent ?? ''}`,
  );
  return { list, setExpect };
}

/** A list table: column heads plus an unlabelled actions column, a row saying `empty` when there are no items. */
export function DataTable<T>({ items, headers, empty, testId, label, row }: { items: T[]; headers: string[]; empty?: string; testId?: string; label?: string; row: (item: T) => ReactNode }) {
  return (
    <TableFrame label={label ?? headers[0] ?? 'List'}>
      <table data-testid={testId}>
        <thead>
          <tr>
            {headers.map((h) => (
              <th key={h} scope="col">
                {h}
              </th>
            ))}
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {empty !== undefined && items.length === 0 && (
            <tr>
              <td colSpan={headers.length + 1} className="muted">
                {empty}
              </td>
            </tr>
          )}
          {items.map(row)}
        </tbody>
      </table>
    </TableFrame>
  );
}

/** The Edit link and the Delete button of one row of an administration list (`what` is e.g. "group"). */
export function EditDeleteCell({ what, name, editTo, question, groupLabel, onDelete }: { what: string; name: string; editTo: string; question?: string; groupLabel?: string; onDelete: () => Promise<void> }) {
  return (
    <td className="toolbar">
      <Link className="button" to={editTo} aria-label={`Edit ${what} ${name}`}>
        Edit
      </Link>
      <ConfirmButton label="Delete" accessibleLabel={`Delete ${what} ${name}`} question={question ?? `Delete ${what} ${name}?`} groupLabel={groupLabel} onConfirm={onDelete} />
    </td>
  );
}

/** The "New …" button of a list page's header. */
export function NewButton({ to, children }: { to: string; children: ReactNode }) {
  return (
    <Link className="button primary" to={to}>
      {children}
    </Link>
  );
}

/**
 * A create/edit form page: disabled until the current values arrived (so they cannot overwrite
 * what is typed), then the fields, the error of the last submit, and Save (or `createLabel`) / Cancel.
 */
export function EditForm({
  title,
  label,
  loadError,
  before,
  ready,
  editing,
  createLabel,
  cancelTo,
  action,
  onSubmit,
  children,
}: {
  title: string;
  label: string;
  loadError: Error | undefined;
  before?: ReactNode;
  ready: boolean;
  editing: boolean;
  createLabel: string;
  cancelTo: string;
  action: ReturnType<typeof useAction>;
  onSubmit: (e: FormEvent) => void;
  children: ReactNode;
}) {
  return (
    <Page title={title}>
      <ErrorBox error={loadError} />
      {before}
      <form className="card" onSubmit={onSubmit} aria-label={label}>
        <fieldset className="plain" disabled={!ready}>
          {children}
          <ErrorBox error={action.error} />
          <p className="toolbar">
            <button type="submit" className="primary" disabled={action.busy}>
              {editing ? 'Save' : createLabel}
            </button>
            <Link className="button" to={cancelTo}>
              Cancel
            </Link>
          </p>
        </fieldset>
      </form>
    </Page>
  );
}

/** `{base}` (the list, with `?created=`), `{base}/new` and `{base}/edit/{name}`. */
export function adminRoute(route: PageProps['route'], base: string, form: (name?: string) => ReactNode, list: (created?: string) => ReactNode): ReactNode {
  const rest = route.path.startsWith(base) ? route.path.slice(base.length).replace(/^\//, '') : route.path;
  if (rest === 'new') return form();
  if (rest.startsWith('edit/')) return form(decodeURIComponent(rest.slice('edit/'.length)));
  return list(route.query.get('created') ?? undefined);
}
