import { Suspense, useEffect, useState } from 'react';
import { Icon, Logo } from './components/icons';
import { QuickSearch } from './components/quick-search';
import { LoginPage } from './pages/login';
import { Link, useRoute } from './router';
import { ROUTES, matchRoute, NAV } from './routes';
import { SessionProvider, useSession, type User } from './session';
import { chooseTheme, currentTheme, type Theme } from './theme';

function isCurrent(to: string, path: string): boolean {
  return path === to || path.startsWith(`${to}/`) || (to === '/home' && path === '/');
}

function Nav({ user, path, open }: { user: User; path: string; open: boolean }) {
  return (
    <nav id="main-nav" className={`sidebar${open ? ' open' : ''}`} aria-label="Main">
      {NAV.filter((s) => !s.admin || user.admin).map((section) => (
        <div key={section.title} className="nav-section">
          <h2>{section.title}</h2>
          <ul>
            {section.links
              .filter((l) => !(user.anonymous && l.to === '/tokens'))
              .map((l) => (
                <li key={l.to}>
                  <Link to={l.to} aria-current={isCurrent(l.to, path) ? 'page' : undefined}>
                    {l.icon && <Icon name={l.icon} />}
                    {l.label}
                  </Link>
                </li>
              ))}
          </ul>
        </div>
      ))}
    </nav>
  );
}

/** Light/dark switch: a toggle button whose pressed state says dark mode is on. */
function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(() => currentTheme());
  // With no stored choice the system decides, and may change its mind (evening mode).
  useEffect(() => {
    const mq = window.matchMedia?.('(prefers-color-scheme: dark)');
    if (!mq) return;
    const follow = () => setTheme(currentTheme());
    mq.addEventListener('change', follow);
    return () => mq.removeEventListener('change', follow);
  }, []);
  const flip = () => {
    const next: Theme = theme === 'dark' ? 'light' : 'dark';
    chooseTheme(next);
    setTheme(next);
  };
  return (
    <button type="button" className="icon-button" aria-pressed={theme === 'dark'} aria-label="Dark mode" title={theme === 'dark' ? 'Switch to light mode' : 'Switch to dark mode'} onClick={flip}>
      <Icon name={theme === 'dark' ? 'moon' : 'sun'} />
    </button>
  );
}

function Shell({ user }: { user: User }) {
  const { logout, requestLogin } = useSession();
  const route = useRoute();
  const [navOpen, setNavOpen] = useState(false);
  const match = matchRoute(route.path);
  const Page = match && (!match.admin || user.admin) ? match.component : ROUTES.notFound;
  // On a narrow screen the menu closes once a link was followed.
  useEffect(() => setNavOpen(false), [route.path]);
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button type="button" className="icon-button menu-button" aria-expanded={navOpen} aria-controls="main-nav" aria-label="Menu" onClick={() => setNavOpen((o) => !o)}>
          <Icon name="menu" />
        </button>
        <Link to="/" className="brand" aria-label="Arca home">
          <Logo />
          <span className="brand-name">Arca</span>
        </Link>
        <QuickSearch />
        <ThemeToggle />
        {user.anonymous ? (
          <button type="button" onClick={requestLogin}>
            Sign in
          </button>
        ) : (
          <>
            <span className="who" title={`Signed in as ${user.name}`}>
              <Icon name="user" />
              <span className="sr-only">Signed in as </span>
              <span className="who-name">
                {user.name}
                {user.admin ? ' (admin)' : ''}
              </span>
            </span>
            <button type="button" onClick={() => void logout()}>
              Log out
            </button>
          </>
        )}
      </header>
      <div className="body">
        <Nav user={user} path={route.path} open={navOpen} />
        <main id="main" className="content">
          <Suspense fallback={<PageSkeleton />}>
            <Page route={route} />
          </Suspense>
        </main>
      </div>
    </div>
  );
}

/** What a page shows while its code loads: the shape of a heading and a few rows, no text jumping in. */
export function PageSkeleton() {
  return (
    <div aria-busy="true" aria-label="Loading">
      <div className="skeleton skeleton-title" />
      <div className="skeleton skeleton-row" />
      <div className="skeleton skeleton-row" />
      <div className="skeleton skeleton-row" />
    </div>
  );
}

function Gate() {
  const { user } = useSession();
  if (user === undefined) return <PageSkeleton />;
  if (user === null) return <LoginPage />;
  return <Shell user={user} />;
}

export function App() {
  return (
    <SessionProvider>
      <Gate />
    </SessionProvider>
  );
}
