import { useMemo, useState, type ReactNode } from 'react';
import { TableFrame } from './common';
import { naturalCompare } from './natural';

export interface Column<T> {
  /** Unique per table; also the sort key in the URL-free state. */
  id: string;
  header: string;
  /** What the column sorts and filters by (numbers sort as numbers, strings naturally). */
  value?: (item: T) => string | number | undefined;
  /** The cell's content; `value` shown as text when absent. */
  render?: (item: T) => ReactNode;
  numeric?: boolean;
  /** Hidden below 700 px wide (secondary columns). */
  secondary?: boolean;
  /** A header read by screen readers only (an actions column). */
  srOnlyHeader?: boolean;
}

type Dir = 'ascending' | 'descending';

function compare(a: string | number | undefined, b: string | number | undefined): number {
  if (a === undefined || a === '') return b === undefined || b === '' ? 0 : 1;
  if (b === undefined || b === '') return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return naturalCompare(String(a), String(b));
}

/**
 * A table whose column heads sort (click or Enter; `aria-sort` says how), with a filter box over
 * the filterable columns and pages of `pageSize` rows. Sorting, filtering and paging happen in
 * the browser over `items`; callers with more rows than a page hold page through the API instead.
 */
export function SortableTable<T>({
  items,
  columns,
  rowKey,
  caption,
  testId,
  empty = 'Nothing here.',
  filterLabel,
  initialSort,
  pageSize = 100,
  rowProps,
  toolbar,
}: {
  items: T[];
  columns: Column<T>[];
  rowKey: (item: T) => string;
  caption?: string;
  testId?: string;
  empty?: string;
  /** Shows a filter box with this label ("Filter repositories"). */
  filterLabel?: string;
  initialSort?: { id: string; dir: Dir };
  pageSize?: number;
  rowProps?: (item: T) => Record<string, string | undefined>;
  /** Extra controls beside the filter box. */
  toolbar?: ReactNode;
}) {
  const [sort, setSort] = useState<{ id: string; dir: Dir } | undefined>(initialSort);
  const [filter, setFilter] = useState('');
  const [page, setPage] = useState(0);

  const shown = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    let rows = needle
      ? items.filter((it) => columns.some((c) => c.value && String(c.value(it) ?? '').toLowerCase().includes(needle)))
      : items.slice();
    const col = sort && columns.find((c) => c.id === sort.id);
    if (col?.value) {
      const sign = sort!.dir === 'ascending' ? 1 : -1;
      rows = rows.sort((a, b) => sign * compare(col.value!(a), col.value!(b)));
    }
    return rows;
  }, [items, columns, filter, sort]);

  const pages = Math.max(1, Math.ceil(shown.length / pageSize));
  const current = Math.min(page, pages - 1);
  const slice = shown.slice(current * pageSize, (current + 1) * pageSize);

  const toggle = (id: string) => {
    setSort((s) => (s?.id === id ? { id, dir: s.dir === 'ascending' ? 'descending' : 'ascending' } : { id, dir: 'ascending' }));
    setPage(0);
  };

  const filterId = testId ? `${testId}-filter` : undefined;
  return (
    <div className="sortable">
      {(filterLabel || toolbar) && (
        <div className="toolbar">
          {filterLabel && (
            <input
              id={filterId}
              type="search"
              className="filter"
              aria-label={filterLabel}
              placeholder={filterLabel}
              value={filter}
              onChange={(e) => {
                setFilter(e.target.value);
                setPage(0);
              }}
            />
          )}
          {toolbar}
        </div>
      )}
      <TableFrame label={caption ?? filterLabel ?? 'Table'}>
        <table data-testid={testId}>
          {caption && <caption className="sr-only">{caption}</caption>}
          <thead>
            <tr>
              {columns.map((c) => (
                <th key={c.id} scope="col" className={[c.numeric ? 'num' : '', c.secondary ? 'secondary' : ''].join(' ').trim() || undefined} aria-sort={sort?.id === c.id ? sort.dir : c.value ? 'none' : undefined}>
                  {c.srOnlyHeader ? (
                    <span className="sr-only">{c.header}</span>
                  ) : c.value ? (
                    <button type="button" className="sort" onClick={() => toggle(c.id)}>
                      {c.header}
                      <span aria-hidden="true" className="sort-mark">
                        {sort?.id === c.id ? (sort.dir === 'ascending' ? '▲' : '▼') : ''}
                      </span>
                    </button>
                  ) : (
                    c.header
                  )}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {slice.length === 0 && (
              <tr>
                <td colSpan={columns.length} className="muted">
                  {items.length === 0 ? empty : 'No row matches the filter.'}
                </td>
              </tr>
            )}
            {slice.map((it) => (
              <tr key={rowKey(it)} {...(rowProps?.(it) ?? {})}>
                {columns.map((c) => (
                  <td key={c.id} className={[c.numeric ? 'num' : '', c.secondary ? 'secondary' : ''].join(' ').trim() || undefined}>
                    {c.render ? c.render(it) : String(c.value?.(it) ?? '')}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </TableFrame>
      {pages > 1 && (
        <nav className="pager toolbar" aria-label={`${caption ?? 'Table'} pages`}>
          <button type="button" disabled={current === 0} onClick={() => setPage(current - 1)}>
            Previous
          </button>
          <span>
            Page {current + 1} of {pages} ({shown.length} rows)
          </span>
          <button type="button" disabled={current >= pages - 1} onClick={() => setPage(current + 1)}>
            Next
          </button>
        </nav>
      )}
    </div>
  );
}
