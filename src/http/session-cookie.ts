import type { FastifyRequest } from 'fastify';

/** The UI session cookie (HttpOnly; the value is 32 random bytes, base64url). */
export const SESSION_COOKIE = 'ARCA_SESSION';

/** The session cookie's value in a `Cookie` header, without parsing the other cookies. */
export function sessionFromCookie(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const v = part.slice(eq + 1).trim();
    return v === '' ? undefined : v;
  }
  return undefined;
}

function isHttps(request: FastifyRequest): boolean {
  const forwarded = (request.headers['x-forwarded-proto'] as string | undefined)?.split(',')[0].trim();
  return (forwarded || request.protocol) === 'https';
}

/**
 * `Set-Cookie` for a new session: HttpOnly (scripts cannot read it), SameSite=Strict (other
 * sites cannot make the browser send it), Secure behind HTTPS, path `/` so both the UI and
 * `/artifactory` receive it. No Max-Age: the server's idle timeout ends the session, and the
 * browser drops the cookie when it closes.
 */
export function sessionCookie(request: FastifyRequest, token: string): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict${isHttps(request) ? '; Secure' : ''}`;
}

export function clearedSessionCookie(request: FastifyRequest): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${isHttps(request) ? '; Secure' : ''}`;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Defence in depth against cross-site request forgery for cookie-authenticated requests,
 * beside SameSite=Strict: a state-changing request whose `Origin` names another host than the
 * one it was sent to is refused. (Requests without `Origin` come from non-browser clients,
 * which do not send the cookie on another site's behalf.)
 */
export function crossSiteRequest(request: FastifyRequest): boolean {
  if (SAFE_METHODS.has(request.method)) return false;
  const origin = request.headers.origin;
  if (!origin || origin === 'null') return origin === 'null';
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return true;
  }
  const host = (request.headers['x-forwarded-host'] as string | undefined)?.split(',')[0].trim() || request.headers.host || '';
  // `new URL` drops a default port from the origin; a Host header may still carry it.
  return originHost !== host.toLowerCase().replace(/:(80|443)$/, '');
}
