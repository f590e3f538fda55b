import { lazy, type ComponentType } from 'react';
import type { IconName } from './components/icons';
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

const HOME: RouteEntry = { prefix: '/home', component: page(() => import('./pages/home')) };

const TABLE: RouteEntry[] = [
  HOME,
  { prefix: '/browse', component: BrowsePage },
  { prefix: '/search', component: page(() => import('./pages/search')) },
  { prefix: '/packages', component: page(() => import('./pages/packages')) },
  { prefix: '/builds', component: page(() => import('./pages/builds')) },
  { prefix: '/trash', component: page(() => import('./pages/trash')) },
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
];

export const ROUTES = { notFound: NotFoundPage as PageComponent };

export function matchRoute(path: string): RouteEntry | undefined {
  if (path === '/' || path === '') return HOME;
  return TABLE.find((r) => path === r.prefix || path.startsWith(`${r.prefix}/`));
}

export interface NavSection {
  title: string;
  admin?: boolean;
  links: Array<{ to: string; label: string; icon?: IconName }>;
}

export const NAV: NavSection[] = [
  {
    title: 'Artifacts',
    links: [
      { to: '/home', icon: 'home', label: 'Home' },
      { to: '/browse', icon: 'folder', label: 'Browse' },
      { to: '/search', icon: 'search', label: 'Search' },
      { to: '/packages', icon: 'archive', label: 'Packages' },
      { to: '/builds', icon: 'build', label: 'Builds' },
      { to: '/trash', icon: 'trash', label: 'Trash can' },
      { to: '/tokens', icon: 'token', label: 'Access tokens' },
    ],
  },
  {
    title: 'Administration',
    admin: true,
    links: [
      { to: '/admin/repositories', icon: 'repo', label: 'Repositories' },
      { to: '/admin/users', icon: 'user', label: 'Users' },
      { to: '/admin/groups', icon: 'group', label: 'Groups' },
      { to: '/admin/permissions', icon: 'lock', label: 'Permissions' },
      { to: '/admin/general', icon: 'settings', label: 'General' },
    ],
  },
  {
    title: 'Cluster',
    admin: true,
    links: [
      { to: '/admin/ha', icon: 'server', label: 'High Availability' },
      { to: '/admin/licenses', icon: 'key', label: 'Licenses' },
      { to: '/admin/logs', icon: 'file', label: 'Logs' },
      { to: '/admin/tasks', icon: 'settings', label: 'Task runs' },
    ],
  },
];
