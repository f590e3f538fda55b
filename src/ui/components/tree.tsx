import { useCallback, useEffect, useMemo, useRef, useState, type CSSProperties, type KeyboardEvent } from 'react';
import { api, encodePath, storageUrl } from '../api';
import { Link, navigate } from '../router';
import { ItemIcon } from './browse/icons';
import { isInternal } from './browse/internal';
import { naturalCompare } from './natural';
import type { RepoSummary } from './setup-snippets';
import '../styles/browse.css';

export interface Selection {
  repo: string;
  path: string;
}

interface FolderInfo {
  children?: Array<{ uri: string; folder: boolean; repo?: string; repos?: string[] }>;
  /** Token of the next page of children (docs/rest-api.md, paging). */
  next?: string;
}

export interface Child {
  name: string;
  folder: boolean;
  /** The member repository a virtual repository's child comes from (folders: every member holding it). */
  member?: string;
}

/** Children asked for at a time: a folder of any size opens at once; "Show more" fetches the next page. */
const PAGE = 200;

export function browseHref(repo: string, path = ''): string {
  return `/browse/${encodeURIComponent(repo)}${path ? `/${encodePath(path)}` : ''}`;
}

/** Folders first, each group in natural order (versions as numbers). */
export function byKindThenName(a: Child, b: Child): number {
  return a.folder === b.folder ? naturalCompare(a.name, b.name) : a.folder ? -1 : 1;
}

/** One page of the folder's children (the first, or the one `after` names) and the next page's token. */
export async function loadChildren(repo: string, path: string, signal?: AbortSignal, after?: string, virtual = false): Promise<{ children: Child[]; next?: string }> {
  // A virtual repository's merged listing names each child's member (`details`).
  const query = `?limit=${PAGE}${virtual ? '&details=1' : ''}${after ? `&after=${encodeURIComponent(after)}` : ''}`;
  const info = await api<FolderInfo>(`${storageUrl(repo, path)}${query}`, { signal });
  return { children: (info.children ?? []).map((c) => ({ name: c.uri.replace(/^\//, ''), folder: c.folder, member: c.repos ? c.repos.join(' + ') : c.repo })), next: info.next };
}

interface Loaded {
  children: Child[];
  next?: string;
  loading: boolean;
  error?: string;
}

/** A row of the tree as shown (depth first, only below expanded folders). */
interface Row {
  id: string;
  repo: RepoSummary;
  path: string;
  label: string;
  folder: boolean;
  level: number;
  parent?: string;
  member?: string;
  /** A "Show more" row of `parent`. */
  more?: boolean;
  setSize: number;
  posInSet: number;
}

const idOf = (repo: string, path: string) => `${repo}\u0000${path}`;
const TYPEAHEAD_MS = 700;

/**
 * The repository tree, a WAI-ARIA tree widget: repositories, then their folders and files,
 * loaded when expanded (200 children at a time, "Show more" for the next page). Keyboard:
 * Up/Down move, Right opens a folder or moves into it, Left closes it or moves to its parent,
 * Home/End, Enter or Space opens the item, and typing letters jumps to the next visible item
 * whose name starts with them. One item is in the tab order at a time (roving tabindex). A
 * filter box keeps the loaded items whose name holds the text, with their ancestors.
 */
export function RepoTree({ repos, selected, version, showInternal }: { repos: RepoSummary[]; selected: Selection; version: number; showInternal: boolean }) {
  const [expanded, setExpanded] = useState<Set<string>>(() => new Set());
  const [loaded, setLoaded] = useState<Map<string, Loaded>>(() => new Map());
  const [focusId, setFocusId] = useState<string>();
  const [filter, setFilter] = useState('');
  const items = useRef(new Map<string, HTMLLIElement>());
  const wantFocus = useRef(false);
  const typed = useRef({ text: '', at: 0 });
  const repoByKey = useMemo(() => new Map(repos.map((r) => [r.key, r])), [repos]);

  /** Folders whose first page was asked for (a failed one may be asked again). */
  const requested = useRef(new Set<string>());
  const load = useCallback(
    (repo: string, path: string, after?: string) => {
      const id = idOf(repo, path);
      const virtual = repoByKey.get(repo)?.type === 'VIRTUAL';
      setLoaded((m) => new Map(m).set(id, { children: m.get(id)?.children ?? [], next: m.get(id)?.next, loading: true }));
      loadChildren(repo, path, undefined, after, virtual).then(
        (page) =>
          setLoaded((m) => {
            const prev = after ? (m.get(id)?.children ?? []) : [];
            return new Map(m).set(id, { children: [...prev, ...page.children], next: page.next, loading: false });
          }),
        (err: Error) => {
          if (!after) requested.current.delete(id);
          setLoaded((m) => new Map(m).set(id, { children: m.get(id)?.children ?? [], next: m.get(id)?.next, loading: false, error: err.message }));
        },
      );
    },
    [repoByKey],
  );

  // A change (deploy, delete) reloads what is open.
  const seenVersion = useRef(version);
  useEffect(() => {
    if (seenVersion.current === version) return;
    seenVersion.current = version;
    for (const id of expanded) {
      const [repo, path] = id.split('\u0000');
      load(repo!, path!);
    }
  }, [version, expanded, load]);

  const open = useCallback(
    (repo: string, path: string) => {
      const id = idOf(repo, path);
      setExpanded((s) => (s.has(id) ? s : new Set(s).add(id)));
      if (!requested.current.has(id)) {
        requested.current.add(id);
        load(repo, path);
      }
    },
    [load],
  );

  // The selected item's ancestors are open, and the selected item takes the tab stop.
  useEffect(() => {
    if (!selected.repo || !repoByKey.has(selected.repo)) return;
    const segs = selected.path.split('/').filter(Boolean);
    open(selected.repo, '');
    for (let i = 1; i < segs.length; i++) open(selected.repo, segs.slice(0, i).join('/'));
    setFocusId(idOf(selected.repo, selected.path));
  }, [selected.repo, selected.path, open, repoByKey]);

  // A folder just selected (from the table, a link) opens too, once it is known to be a folder.
  const autoOpened = useRef('');
  useEffect(() => {
    const id = idOf(selected.repo, selected.path);
    if (!selected.path || autoOpened.current === id) return;
    const slash = selected.path.lastIndexOf('/');
    const parent = loaded.get(idOf(selected.repo, slash < 0 ? '' : selected.path.slice(0, slash)));
    const child = parent?.children.find((c) => c.name === selected.path.slice(slash + 1));
    if (!child) return;
    autoOpened.current = id;
    if (child.folder) open(selected.repo, selected.path);
  }, [selected.repo, selected.path, loaded, open]);

  const needle = filter.trim().toLowerCase();
  const rows = useMemo(() => {
    const out: Row[] = [];
    const matches = (repo: string, path: string, name: string): boolean => {
      if (!needle || name.toLowerCase().includes(needle)) return true;
      const id = idOf(repo, path);
      if (!expanded.has(id)) return false;
      return (loaded.get(id)?.children ?? []).some((c) => matches(repo, path ? `${path}/${c.name}` : c.name, c.name));
    };
    const walk = (repo: RepoSummary, path: string, level: number, parent: string) => {
      const l = loaded.get(parent);
      if (!l) return;
      const kids = l.children.filter((c) => (showInternal || !isInternal(repo.packageType, c.name)) && matches(repo.key, path ? `${path}/${c.name}` : c.name, c.name)).sort(byKindThenName);
      const size = kids.length + (l.next ? 1 : 0);
      kids.forEach((c, i) => {
        const p = path ? `${path}/${c.name}` : c.name;
        const id = idOf(repo.key, p);
        out.push({ id, repo, path: p, label: c.name, folder: c.folder, level, parent, member: c.member, setSize: size, posInSet: i + 1 });
        if (c.folder && expanded.has(id)) walk(repo, p, level + 1, id);
      });
      if (l.next) out.push({ id: `${parent}\u0000more`, repo, path, label: 'Show more…', folder: false, level, parent, more: true, setSize: size, posInSet: size });
    };
    const shownRepos = repos.filter((r) => matches(r.key, '', r.key)).sort((a, b) => naturalCompare(a.key, b.key));
    shownRepos.forEach((r, i) => {
      const id = idOf(r.key, '');
      out.push({ id, repo: r, path: '', label: r.key, folder: true, level: 1, setSize: shownRepos.length, posInSet: i + 1 });
      if (expanded.has(id)) walk(r, '', 2, id);
    });
    return out;
  }, [repos, loaded, expanded, needle, showInternal]);

  const tabStop = rows.some((r) => r.id === focusId) ? focusId : rows[0]?.id;

  useEffect(() => {
    if (!wantFocus.current || !focusId) return;
    wantFocus.current = false;
    items.current.get(focusId)?.focus();
  }, [focusId, rows]);

  // The selected item is scrolled into the tree's own view once it is shown (the page itself does not move).
  const treeRef = useRef<HTMLUListElement>(null);
  const scrolledTo = useRef('');
  useEffect(() => {
    const id = idOf(selected.repo, selected.path);
    const el = items.current.get(id);
    const list = treeRef.current;
    if (!el || !list || scrolledTo.current === id) return;
    scrolledTo.current = id;
    if (el.offsetTop < list.scrollTop || el.offsetTop + el.offsetHeight > list.scrollTop + list.clientHeight) list.scrollTop = Math.max(0, el.offsetTop - list.clientHeight / 3);
  }, [rows, selected.repo, selected.path]);

  const moveTo = (id: string | undefined) => {
    if (!id) return;
    wantFocus.current = true;
    setFocusId(id);
  };

  const activate = (row: Row) => {
    if (row.more) {
      const [repo, path] = row.parent!.split('\u0000');
      load(repo!, path!, loaded.get(row.parent!)?.next);
      return;
    }
    setFocusId(row.id);
    navigate(browseHref(row.repo.key, row.path));
  };

  const toggle = (row: Row) => {
    if (!row.folder) return;
    if (expanded.has(row.id)) {
      setExpanded((s) => {
        const n = new Set(s);
        n.delete(row.id);
        return n;
      });
    } else open(row.repo.key, row.path);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLUListElement>) => {
    const i = rows.findIndex((r) => r.id === tabStop);
    const row = rows[i];
    if (!row) return;
    let handled = true;
    if (e.key.length !== 1) typed.current.text = '';
    switch (e.key) {
      case 'ArrowDown':
        moveTo(rows[Math.min(rows.length - 1, i + 1)]?.id);
        break;
      case 'ArrowUp':
        moveTo(rows[Math.max(0, i - 1)]?.id);
        break;
      case 'Home':
        moveTo(rows[0]?.id);
        break;
      case 'End':
        moveTo(rows[rows.length - 1]?.id);
        break;
      case 'ArrowRight':
        if (row.folder && !expanded.has(row.id)) toggle(row);
        else if (row.folder && rows[i + 1]?.parent === row.id) moveTo(rows[i + 1]!.id);
        break;
      case 'ArrowLeft':
        if (row.folder && expanded.has(row.id)) toggle(row);
        else if (row.parent) moveTo(row.parent);
        break;
      case 'Enter':
      case ' ':
        activate(row);
        break;
      default:
        handled = false;
        if (e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey) {
          // Type-ahead: the letters typed within a short pause, matched from the next item on.
          const now = Date.now();
          const t = typed.current;
          t.text = now - t.at > TYPEAHEAD_MS ? e.key.toLowerCase() : t.text + e.key.toLowerCase();
          t.at = now;
          const order = [...rows.slice(i + (t.text.length === 1 ? 1 : 0)), ...rows.slice(0, i + (t.text.length === 1 ? 1 : 0))];
          const hit = order.find((r) => !r.more && r.label.toLowerCase().startsWith(t.text));
          if (hit) moveTo(hit.id);
          handled = true;
        }
    }
    if (handled) {
      e.preventDefault();
      e.stopPropagation();
    }
  };

  const selectedId = idOf(selected.repo, selected.path);
  // A flat list of items (levels by aria-level): each item's text is its own name only.
  const render = (row: Row) => {
    const isOpen = row.folder && expanded.has(row.id);
    const l = row.folder ? loaded.get(row.id) : undefined;
    const empty = isOpen && l && !l.loading && !l.error && !rows.some((r) => r.parent === row.id);
    return (
      <li
        key={row.id}
        role="treeitem"
        aria-level={row.level}
        aria-setsize={row.setSize}
        aria-posinset={row.posInSet}
        aria-expanded={row.folder ? isOpen : undefined}
        aria-selected={row.id === selectedId}
        aria-busy={l?.loading || undefined}
        tabIndex={row.id === tabStop ? 0 : -1}
        data-path={row.more ? undefined : `${row.repo.key}/${row.path}`}
        className={row.more ? 'more' : row.folder ? 'folder' : 'file'}
        style={{ '--level': row.level - 1 } as CSSProperties}
        ref={(el) => {
          if (el) items.current.set(row.id, el);
          else items.current.delete(row.id);
        }}
        onFocus={(e) => {
          if (e.target === e.currentTarget) setFocusId(row.id);
        }}
        onClick={() => activate(row)}
      >
        <span
          className="twisty"
          aria-hidden="true"
          onClick={(e) => {
            e.stopPropagation();
            toggle(row);
          }}
        >
          {row.folder ? (isOpen ? '▾' : '▸') : ''}
        </span>
        {!row.more && row.level > 1 && <ItemIcon folder={row.folder} />}
        {row.more ? (
          <span className="tree-label">{row.label}</span>
        ) : (
          // A link (open in a new tab, copy its address) out of the tab order: the item itself takes the focus.
          <Link to={browseHref(row.repo.key, row.path)} tabIndex={-1} className="tree-label ellipsis" title={row.path ? `${row.repo.key}/${row.path}` : row.repo.key}>
            {row.label}
          </Link>
        )}
        {row.member && (
          <span className="member" title={`From ${row.member}`}>
            {row.member}
          </span>
        )}
        {row.level === 1 && (
          <span className="kind">
            {row.repo.packageType} {row.repo.type.toLowerCase()}
          </span>
        )}
        {empty && <span className="muted note">{needle ? 'no match' : 'empty'}</span>}
        {isOpen && l?.error && <span className="error note">{l.error}</span>}
      </li>
    );
  };

  return (
    <nav className="tree-panel" aria-label="Repository tree">
      <input type="search" className="filter tree-filter" aria-label="Filter tree" placeholder="Filter tree" value={filter} onChange={(e) => setFilter(e.target.value)} />
      <ul role="tree" aria-label="Repositories" className="tree" onKeyDown={onKeyDown} ref={treeRef}>
        {rows.map(render)}
      </ul>
      {rows.length === 0 && <p className="muted">{needle ? 'Nothing loaded matches the filter.' : 'No repositories.'}</p>}
    </nav>
  );
}
