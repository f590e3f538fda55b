import { Suspense } from 'react';
import { Link, useRoute } from './router';
import { LoginPage } from './pages/login';
import { ROUTES, matchRoute, NAV } from './routes';
import { SessionProvider, useSession, type User } from './session';

function Nav({ user, path }: { user: User; path: string }) {
  return (
    <nav className="sidebar" aria-label="Main">
      {NAV.filter((s) => !s.admin || user.admin).map((section) => (
        <div key={section.title} className="nav-section">
          <h2>{section.title}</h2>
          <ul>
            {section.links.filter((l) => !(user.anonymous && l.to === '/tokens')).map((l) => {
              const current = path === l.to || path.startsWith(`${l.to}/`) || (l.to === '/browse' && path === '/');
              return (
                <li key={l.to}>
                  <Link to={l.to} aria-current={current ? 'page' : undefined}>
                    {l.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </div>
      ))}
    </nav>
  );
}

function Shell({ user }: { user: User }) {
  const { logout, requestLogin } = useSession();
  const route = useRoute();
  const match = matchRoute(route.path);
  const Page = match && (!match.admin || user.admin) ? match.component : ROUTES.notFound;
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          Arca
        </Link>
        <span className="grow" />
        {user.anonymous ? (
          <button type="button" onClick={requestLogin}>
            Sign in
          </button>
        ) : (
          <>
            <span className="who" aria-label="Signed in as">
              {user.name}
              {user.admin ? ' (admin)' : ''}
            </span>
            <button type="button" onClick={() => void logout()}>
              Log out
            </button>
          </>
        )}
      </header>
      <div className="body">
        <Nav user={user} path={route.path} />
        <main id="main" className="content">
          <Suspense fallback={<p className="muted">Loading…</p>}>
            <Page route={route} />
          </Suspense>
        </main>
      </div>
    </div>
  );
}

function Gate() {
  const { user } = useSession();
  if (user === undefined) return <p className="muted center">Loading…</p>;
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
