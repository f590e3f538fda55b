import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { api } from '../api';
import { navigate } from '../router';
import { itemOfStorageUri } from '../pages/search';
import { Icon } from './icons';

interface Hit {
  label: string;
  detail: string;
  to: string;
  kind: 'repo' | 'file';
}

const MIN_CHARS = 2;
const MAX_FILES = 8;
const MAX_REPOS = 5;

/** Repositories whose key contains the text, then files whose name contains it (the name search). */
async function findHits(q: string, signal: AbortSignal): Promise<Hit[]> {
  const needle = q.toLowerCase();
  const [repos, files] = await Promise.all([
    api<Array<{ key: string; type: string; packageType: string }>>('/artifactory/api/repositories', { signal }).catch(() => []),
    api<{ results: Array<{ uri: string }> }>(`/artifactory/api/search/artifact?name=${encodeURIComponent(q)}`, { signal }).catch(() => ({ results: [] })),
  ]);
  const hits: Hit[] = repos
    .filter((r) => r.key.toLowerCase().includes(needle))
    .slice(0, MAX_REPOS)
    .map((r) => ({ label: r.key, detail: `${r.type.toLowerCase()} ${r.packageType.toLowerCase()} repository`, to: `/browse/${encodeURIComponent(r.key)}`, kind: 'repo' }));
  for (const r of files.results.slice(0, MAX_FILES)) {
    const item = itemOfStorageUri(r.uri);
    if (!item) continue;
    const name = item.path.split('/').pop() ?? item.path;
    hits.push({ label: name, detail: `${item.repo}/${item.path}`, to: `/browse/${encodeURIComponent(item.repo)}/${item.path.split('/').map(encodeURIComponent).join('/')}`, kind: 'file' });
  }
  return hits;
}

/**
 * The header's search box: an ARIA combobox whose list shows matching repositories and files
 * as you type (250 ms after the last key); arrows move, Enter opens, Escape closes, and Enter
 * with nothing chosen opens the full search page. "/" focuses it from anywhere outside a field.
 */
export function QuickSearch() {
  const [q, setQ] = useState('');
  const [hits, setHits] = useState<Hit[]>([]);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const [busy, setBusy] = useState(false);
  const listId = useId();
  const box = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);

  // "/" anywhere but in a field jumps to the search box (as on GitHub and in many registries).
  useEffect(() => {
    const jump = (e: globalThis.KeyboardEvent) => {
      if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
      const t = e.target as HTMLElement | null;
      if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
      e.preventDefault();
      input.current?.focus();
    };
    document.addEventListener('keydown', jump);
    return () => document.removeEventListener('keydown', jump);
  }, []);

  useEffect(() => {
    const text = q.trim();
    if (text.length < MIN_CHARS) {
      setHits([]);
      return;
    }
    const ac = new AbortController();
    const t = window.setTimeout(() => {
      setBusy(true);
      findHits(text, ac.signal)
        .then((h) => {
          if (ac.signal.aborted) return;
          setHits(h);
          setActive(-1);
          setOpen(true);
        })
        .finally(() => !ac.signal.aborted && setBusy(false));
    }, 250);
    return () => {
      ac.abort();
      window.clearTimeout(t);
    };
  }, [q]);

  useEffect(() => {
    const close = (e: MouseEvent) => {
      if (box.current && !box.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    return () => document.removeEventListener('mousedown', close);
  }, []);

  const go = (to: string) => {
    setOpen(false);
    setQ('');
    navigate(to);
  };
  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'ArrowDown' && hits.length > 0) {
      e.preventDefault();
      setOpen(true);
      setActive((a) => (a + 1) % hits.length);
    } else if (e.key === 'ArrowUp' && hits.length > 0) {
      e.preventDefault();
      setActive((a) => (a <= 0 ? hits.length - 1 : a - 1));
    } else if (e.key === 'Escape' && open) {
      // The first Escape closes the list; the next one clears the box (the search field's own default).
      e.preventDefault();
      setOpen(false);
      setActive(-1);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (open && active >= 0 && hits[active]) go(hits[active]!.to);
      else if (q.trim()) go(`/search?mode=name&q=${encodeURIComponent(q.trim())}`);
    }
  };
  const expanded = open && q.trim().length >= MIN_CHARS;
  return (
    <div className="quick-search" ref={box}>
      <Icon name="search" className="quick-search-icon" />
      <input
        type="search"
        role="combobox"
        ref={input}
        aria-keyshortcuts="/"
        aria-label="Quick search: repositories and files"
        aria-expanded={expanded}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={expanded && active >= 0 ? `${listId}-${active}` : undefined}
        placeholder="Search"
        value={q}
        onChange={(e) => setQ(e.target.value)}
        onKeyDown={onKey}
        onFocus={() => hits.length > 0 && setOpen(true)}
      />
      <ul id={listId} role="listbox" aria-label="Quick search results" className="quick-search-list" hidden={!expanded}>
        {hits.map((h, i) => (
          <li key={`${h.kind}:${h.detail}`} id={`${listId}-${i}`} role="option" aria-selected={i === active} onMouseDown={(e) => e.preventDefault()} onClick={() => go(h.to)}>
            <Icon name={h.kind === 'repo' ? 'repo' : 'file'} />
            <span className="qs-text">
              <span className="qs-label">{h.label}</span>
              <span className="qs-detail muted">{h.detail}</span>
            </span>
          </li>
        ))}
        {!busy && hits.length === 0 && (
          <li role="option" aria-selected={false} aria-disabled="true" className="muted">
            Nothing found for “{q.trim()}”
          </li>
        )}
        <li role="option" aria-selected={false} className="qs-all" onMouseDown={(e) => e.preventDefault()} onClick={() => go(`/search?mode=name&q=${encodeURIComponent(q.trim())}`)}>
          All results on the search page
        </li>
      </ul>
    </div>
  );
}
