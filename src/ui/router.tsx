import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

/** Where the UI is served; every client route lives below it (the node falls back to index.html). */
export const BASE = '/ui';
const CHANGE = 'arca:navigate';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(CHANGE, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(CHANGE, onChange);
  };
}

const snapshot = () => window.location.pathname + window.location.search;

export interface Route {
  /** The path below BASE, always starting with `/` (`/browse/libs-local/a`). */
  path: string;
  query: URLSearchParams;
}

/** What the route table gives every page (declared here, beside Route, so pages need not import the table). */
export interface PageProps {
  route: Route;
}

export function parseLocation(pathname: string, search: string): Route {
  let path = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  if (!path.startsWith('/')) path = `/${path}`;
  return { path, query: new URLSearchParams(search) };
}

/** The current client route; re-renders on navigation. */
export function useRoute(): Route {
  const loc = useSyncExternalStore(subscribe, snapshot);
  const q = loc.indexOf('?');
  return parseLocation(q < 0 ? loc : loc.slice(0, q), q < 0 ? '' : loc.slice(q));
}

export function href(to: string): string {
  return `${BASE}${to.startsWith('/') ? to : `/${to}`}`;
}

export function navigate(to: string, replace = false): void {
  const url = href(to);
  if (url === snapshot()) return;
  if (replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  window.dispatchEvent(new Event(CHANGE));
}

/** A real link (keyboard, middle click, copy address) that navigates without a page load. */
export function Link({ to, onClick, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const go = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return <a href={href(to)} onClick={go} {...rest} />;
}
