import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import type { SessionService } from '../../../security/sessions.js';
import type { Principal } from '../../../security/types.js';
import type { AppContext } from '../../app-context.js';
import { clearedSessionCookie, crossSiteRequest, sessionCookie, sessionFromCookie } from '../../session-cookie.js';

/** Where a browser UI finds the auth endpoints: 6.x under the context path, 7.x at `/ui`. */
const PREFIXES = ['/artifactory/ui/api/v1/ui/auth', '/ui/api/v1/ui/auth'];
/** Login's body is the credential (route-access.ts: open), limited to a few KiB. */
const PUBLIC = { config: { public: true, access: 'open' as const }, bodyLimit: 64 * 1024 };

function sessionsOf(ctx: AppContext): SessionService {
  const s = ctx.security.sessions;
  if (!s) throw new ArcaError('UNAVAILABLE', 'UI sessions are not configured on this node');
  return s;
}

/** The user facts the UI shows, in the shape of the seed product's BaseUser model. */
async function userModel(ctx: AppContext, p: Principal) {
  const row = p.anonymous ? undefined : await ctx.security.users.row(p.name);
  return {
    name: p.name,
    admin: p.admin,
    groups: p.groups,
    anonymous: p.anonymous,
    profileUpdatable: row ? row.profile_updatable === 1 : false,
    anonAccessEnabled: await ctx.security.anonymousAccessEnabled(),
  };
}

function loginBody(request: FastifyRequest): { user: string; password: string } {
  const b = request.body as Record<string, unknown> | undefined;
  if (!b || typeof b !== 'object') throw new ArcaError('BAD_REQUEST', 'Send {"user": "...", "password": "..."} as application/json');
  const { user, password } = b;
  if (typeof user !== 'string' || user === '') throw new ArcaError('BAD_REQUEST', "'user' is required");
  if (typeof password !== 'string') throw new ArcaError('BAD_REQUEST', "'password' is required");
  return { user, password };
}

/**
 * The browser login of the seed product's UI (`POST …/ui/auth/login` with `{user, password}`):
 * a successful login opens a session (see security/sessions.ts) and sets it as an HttpOnly
 * cookie, which then authenticates requests to every API, on every node in `db` and
 * `distributed` modes. `…/auth/logout` ends it everywhere; `…/auth/current` says who the
 * cookie (or other credentials) belong to; `…/auth/session` says it without a 401.
 */
export async function uiAuthRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  for (const prefix of PREFIXES) {
    app.post(`${prefix}/login`, PUBLIC, async (request, reply) => {
      const { user, password } = loginBody(request);
      const sessions = sessionsOf(ctx);
      const { token, principal } = await sessions.login(user, password);
      // A previous session of this browser ends with the new login.
      const previous = sessionFromCookie(request.headers.cookie);
      if (previous) await sessions.logout(previous).catch(() => undefined);
      request.principal = principal;
      reply.header('set-cookie', sessionCookie(request, token));
      reply.header('cache-control', 'no-store');
      return userModel(ctx, principal);
    });

    app.post(`${prefix}/logout`, PUBLIC, async (request, reply) => {
      if (crossSiteRequest(request)) throw new ArcaError('FORBIDDEN', 'Logout must come from this site (Origin mismatch)');
      const token = sessionFromCookie(request.headers.cookie);
      if (token) await sessionsOf(ctx).logout(token);
      reply.header('set-cookie', clearedSessionCookie(request));
      return {};
    });

    // The UI's first question, answered 200 either way so a browser without a session logs no
    // failed request: who the session cookie belongs to, else the anonymous user (whose
    // anonAccessEnabled says whether the visitor may browse without signing in).
    app.get(`${prefix}/session`, PUBLIC, async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const token = sessionFromCookie(request.headers.cookie);
      let principal: Principal = request.principal;
      if (token) {
        const found = await ctx.security.authenticate({ session: token, remoteAddress: request.ip }).catch(() => undefined);
        if (found && !found.anonymous) principal = found;
      }
      return userModel(ctx, principal);
    });

    app.get(`${prefix}/current`, async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return userModel(ctx, request.principal);
    });
  }
}
