import { lazy, type ComponentType } from 'react';
import type { PageProps } from './router';
import { BrowsePage } from './pages/browse';
import { NotFoundPage } from './pages/not-found';

type PageComponent = ComponentType<PageProps>;

interface RouteEntry {
  /** A path below /ui; the route matches it and everything below it. */
  prefix: string;
  admin?: boolean;
  component: PageComponent;
}

/** Pages other than the browser load on demand, so the first load stays small. */
const page = (load: () => Promise<{ default: PageComponent }>): PageComponent => lazy(load);

const TABLE: RouteEntry[] = [
  { prefix: '/browse', component: BrowsePage },
  { prefix: '/search', component: page(() => import('./pages/search')) },
  { prefix: '/tokens', component: page(() => import('./pages/tokens')) },
  { prefix: '/admin/repositories', admin: true, component: page(() => import('./pages/repositories')) },
  { prefix: '/admin/users', admin: true, component: page(() => import('./pages/users')) },
  { prefix: '/admin/groups', admin: true, component: page(() => import('./pages/groups')) },
  { prefix: '/admin/permissions', admin: true, component: page(() => import('./pages/permissions')) },
  { prefix: '/admin/ha', admin: true, component: page(() => import('./pages/ha')) },
  { prefix: '/admin/licenses', admin: true, component: page(() => import('./pages/licenses')) },
  { prefix: '/admin/general', admin: true, component: page(() => import('./pages/general')) },
  { prefix: '/admin/logs', admin: true, component: page(() => import('./pages/logs')) },
  { prefix: '/admin/tasks', admin: true, component: page(() => import('./pages/tasks')) },
  { prefix: '/admin/storage', admin: true, component: page(() => import('./pages/storage')) },
  { prefix: '/admin/system', admin: true, component: page(() => import('./pages/system-info')) },
];

export const ROUTES = { notFound: NotFoundPage as PageComponent };

export function matchRoute(path: string): RouteEntry | undefined {
  if (path === '/' || path === '') return TABLE[0];
  return TABLE.find((r) => path === r.prefix || path.startsWith(`${r.prefix}/`));
}

export interface NavSection {
  title: string;
  admin?: boolean;
  links: Array<{ to: string; label: string }>;
}

export const NAV: NavSection[] = [
  {
    title: 'Artifacts',
    links: [
      { to: '/browse', label: 'Browse' },
      { to: '/search', label: 'Search' },
      { to: '/tokens', label: 'Access tokens' },
    ],
  },
  {
    title: 'Administration',
    admin: true,
    links: [
      { to: '/admin/repositories', label: 'Repositories' },
      { to: '/admin/users', label: 'Users' },
      { to: '/admin/groups', label: 'Groups' },
      { to: '/admin/permissions', label: 'Permissions' },
      { to: '/admin/storage', label: 'Storage' },
      { to: '/admin/system', label: 'System' },
      { to: '/admin/general', label: 'General' },
    ],
  },
  {
    title: 'Cluster',
    admin: true,
    links: [
      { to: '/admin/ha', label: 'High Availability' },
      { to: '/admin/licenses', label: 'Licenses' },
      { to: '/admin/logs', label: 'Logs' },
      { to: '/admin/tasks', label: 'Tasks' },
    ],
  },
];
