import { api } from '../../api';

/**
 * Early requests of the Browse page. When a browse URL is loaded in a tab where the Browse page
 * was open a moment ago with someone signed in (a reload, a link opened in the same tab), the
 * repository list and the item's first page are asked for as soon as the script runs, beside
 * the session check, instead of after it: the first rows of a folder arrive a round trip and a
 * render sooner. The page takes these answers instead of asking again. The mark lives in
 * sessionStorage and is removed when the page closes (log out, another page), so a visitor
 * who is not signed in never causes a refused request.
 */

const MARK = 'arca.browse.open';
const early = new Map<string, { p: Promise<unknown>; at: number }>();
/** An early answer older than this is not used (asked again instead). */
const FRESH_MS = 5000;

export function markBrowseOpen(on: boolean): void {
  try {
    if (on) sessionStorage.setItem(MARK, '1');
    else sessionStorage.removeItem(MARK);
  } catch {
    // storage disabled: no early requests
  }
}

function marked(): boolean {
  try {
    return sessionStorage.getItem(MARK) === '1';
  } catch {
    return false;
  }
}

/** Starts `url` now, to be taken by `take` (at most one waiting answer per URL). */
export function prefetch(url: string): void {
  const e = early.get(url);
  if (e && Date.now() - e.at < FRESH_MS) return;
  const p = api(url, { quiet401: true });
  p.catch(() => undefined);
  early.set(url, { p, at: Date.now() });
}

/** The early answer of `url` when one was started (once), else a fresh request. */
export function take<T>(url: string, signal?: AbortSignal): Promise<T> {
  const e = early.get(url);
  early.delete(url);
  if (e && Date.now() - e.at < FRESH_MS) return e.p as Promise<T>;
  return api<T>(url, { signal });
}

/** At load: the early requests of the URL being opened, when the mark says someone is signed in here. */
export function prefetchAtLoad(urlsFor: (path: string) => string[]): void {
  if (!marked()) return;
  const base = '/ui';
  const path = window.location.pathname;
  if (!path.startsWith(`${base}/browse`)) return;
  for (const url of urlsFor(path.slice(base.length))) prefetch(url);
}
