import type { ReactNode } from 'react';
import { ErrorBox, formatDate, formatSize } from '../common';
import { CopyButton } from '../copy-button';
import { naturalCompare } from '../natural';
import { SortableTable, type Column } from '../sortable-table';
import '../../styles/packages.css';

export interface VersionRow {
  version: string;
  note?: string;
  date?: string;
  size?: number;
}

/** Versions newest first in natural order (1.10.0 above 1.9.2), whatever order the API gave. */
export function sortVersionsDesc<T extends { version: string }>(rows: T[]): T[] {
  return rows.slice().sort((a, b) => naturalCompare(b.version, a.version));
}

/** A package's versions as a sortable table (natural version order, newest first), with dates, sizes and notes when known. */
export function VersionsTable({ testId, rows, onPick }: { testId: string; rows: VersionRow[]; onPick?: (version: string) => void }) {
  const columns: Column<VersionRow>[] = [
    {
      id: 'version',
      header: 'Version',
      value: (r) => r.version,
      render: onPick
        ? (r) => (
            <button type="button" className="link" onClick={() => onPick(r.version)} aria-label={`Show version ${r.version}`}>
              {r.version}
            </button>
          )
        : undefined,
    },
  ];
  if (rows.some((r) => r.date)) columns.push({ id: 'date', header: 'Published', value: (r) => (r.date ? Date.parse(r.date) || r.date : undefined), render: (r) => formatDate(r.date), secondary: true });
  if (rows.some((r) => r.size !== undefined)) columns.push({ id: 'size', header: 'Size', numeric: true, value: (r) => r.size, render: (r) => (r.size === undefined ? '' : formatSize(r.size)) });
  if (rows.some((r) => r.note)) columns.push({ id: 'note', header: 'Note', value: (r) => r.note });
  return (
    <SortableTable
      items={rows}
      columns={columns}
      rowKey={(r) => `${r.version}|${r.note ?? ''}`}
      caption="Versions"
      testId={testId}
      empty="No versions."
      filterLabel={rows.length > 10 ? 'Filter versions' : undefined}
      initialSort={{ id: 'version', dir: 'descending' }}
      pageSize={25}
    />
  );
}

/** A client command with its copy button. */
export function InstallCommand({ command, label = 'Install', testId }: { command: string; label?: string; testId?: string }) {
  if (!command) return null;
  return (
    <div className="pkg-command">
      <pre data-testid={testId} aria-label={label} tabIndex={0}>
        {command}
      </pre>
      <CopyButton text={command} label={`Copy the ${label.toLowerCase()} command`} />
    </div>
  );
}

/** A readme as plain preformatted text: never rendered as HTML (it is whatever the publisher wrote). */
export function Readme({ text, id }: { text?: string; id: string }) {
  if (!text || !text.trim()) return null;
  return (
    <>
      <h3 id={`${id}-readme`}>Readme</h3>
      <pre className="pkg-readme" data-testid={`${id}-readme`} tabIndex={0} aria-labelledby={`${id}-readme`}>
        {text.length > 100_000 ? `${text.slice(0, 100_000)}\n…` : text}
      </pre>
    </>
  );
}

/** Dependencies as "name requirement" items. */
export function Dependencies({ deps, id, title = 'Dependencies' }: { deps?: Array<{ name: string; req?: string; note?: string }>; id: string; title?: string }) {
  if (!deps) return null;
  return (
    <>
      <h3>{title}</h3>
      {deps.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <ul className="pkg-deps" data-testid={`${id}-deps`}>
          {deps.map((d) => (
            <li key={`${d.name}|${d.req ?? ''}|${d.note ?? ''}`}>
              <code>{d.name}</code> {d.req && <span>{d.req}</span>} {d.note && <span className="muted">({d.note})</span>}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** Label/value facts (a `<dl>`). */
export function Facts({ items }: { items: Array<[string, ReactNode]> }) {
  const shown = items.filter(([, v]) => v !== undefined && v !== null && v !== '');
  if (shown.length === 0) return null;
  return (
    <dl className="pkg-facts">
      {shown.map(([k, v]) => (
        <div key={k} style={{ display: 'contents' }}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** One package's card: heading, error, facts, versions, command, dependencies, readme. */
export function PackageCard({ id, title, error, loading, children }: { id: string; title: string; error?: Error; loading?: boolean; children?: ReactNode }) {
  return (
    <section className="card pkg" aria-labelledby={`${id}-title`} data-testid={`${id}-package`}>
      <h2 id={`${id}-title`}>{title}</h2>
      <ErrorBox error={error} />
      {loading && <div className="skeleton" aria-hidden="true" />}
      {children}
    </section>
  );
}
