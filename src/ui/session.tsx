import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { api, ApiError, UNAUTHORIZED_EVENT } from './api';

/** The UI auth endpoints of every node (sessions are shared through the database). */
const AUTH = '/ui/api/v1/ui/auth';

export interface User {
  name: string;
  admin: boolean;
  groups: string[];
  anonymous: boolean;
  profileUpdatable: boolean;
  anonAccessEnabled: boolean;
}

interface SessionValue {
  /** undefined while the first check runs; null when nobody is logged in. */
  user: User | null | undefined;
  login(user: string, password: string): Promise<void>;
  logout(): Promise<void>;
  /** Shows the login page (an anonymous visitor who wants to sign in). */
  requestLogin(): void;
}

const SessionContext = createContext<SessionValue | null>(null);

/** Who is signed in (the session probe answers 200 either way), asked for as soon as the script runs. */
const askSession = () => api<User>(`${AUTH}/session`, { quiet401: true });
let early: Promise<User> | undefined = askSession();
early.catch(() => undefined);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null | undefined>(undefined);

  useEffect(() => {
    // The first mount takes the answer started with the script (a render sooner); later ones ask again.
    const probe = early ?? askSession();
    early = undefined;
    probe
      .then((u) => setUser(u.anonymous && !u.anonAccessEnabled ? null : u))
      .catch(() => setUser(null));
    const ended = () => setUser(null);
    window.addEventListener(UNAUTHORIZED_EVENT, ended);
    return () => window.removeEventListener(UNAUTHORIZED_EVENT, ended);
  }, []);

  const login = useCallback(async (name: string, password: string) => {
    const u = await api<User>(`${AUTH}/login`, { json: { user: name, password }, quiet401: true });
    setUser(u);
  }, []);

  const logout = useCallback(async () => {
    try {
      await api(`${AUTH}/logout`, { method: 'POST', quiet401: true });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
    }
    setUser(null);
  }, []);

  const requestLogin = useCallback(() => setUser(null), []);

  return <SessionContext.Provider value={{ user, login, logout, requestLogin }}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/** The logged-in user (pages below the login gate only). */
export function useUser(): User {
  const { user } = useSession();
  if (!user) throw new Error('useUser without a user');
  return user;
}
