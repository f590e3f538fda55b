import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ArcaError } from '../core/errors.js';
import { ANONYMOUS } from '../security/security-service.js';
import { Access } from '../security/access.js';
import type { Credentials, Principal } from '../security/types.js';
import type { Intent } from '../services/serve/visibility.js';
import type { AppContext } from './app-context.js';
import { crossSiteRequest, sessionFromCookie } from './session-cookie.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
    /** The caller's permissions, for the use cases (made from `principal` on first use). */
    readonly access: Access;
  }
  interface FastifyContextConfig {
    /** Routes reachable without credentials even when anonymous access is off (ping, health). */
    public?: boolean;
  }
}

/** Authenticates every request once, before its handler; public routes skip it. */
export function registerAuth(app: FastifyInstance, ctx: AppContext): void {
  app.decorateRequest('principal', null as unknown as Principal);
  app.decorateRequest('access', {
    getter(this: FastifyRequest): Access {
      return accessOf(ctx, this.principal);
    },
  });
  const slow = async (request: FastifyRequest, credentials: Credentials) => {
    const principal = await ctx.security.authenticate(credentials);
    if (principal.anonymous && !(await ctx.security.anonymousAccessEnabled())) {
      throw new ArcaError('UNAUTHORIZED', 'Authentication is required');
    }
    if (principal.via === 'session' && crossSiteRequest(request)) {
      throw new ArcaError('FORBIDDEN', 'A request authenticated by the session cookie must come from this site (Origin mismatch)');
    }
    request.principal = principal;
  };
  // Callback style: a client whose credentials are cached passes without a promise.
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.routeOptions.config?.public) {
      request.principal = ANONYMOUS;
      return done();
    }
    const h = request.headers;
    const credentials: Credentials = {
      authorization: h.authorization,
      apiKey: (h['x-jfrog-art-api'] ?? h['x-api-key']) as string | undefined,
      session: h.cookie === undefined ? undefined : sessionFromCookie(h.cookie),
      remoteAddress: request.ip,
    };
    const cached = ctx.security.cachedPrincipal(credentials);
    if (cached && !cached.anonymous) {
      request.principal = cached;
      return done();
    }
    slow(request, credentials).then(() => done(), done);
  });
}

/** Denies with 401 for anonymous callers, else 403 (or 404 when hideUnauthorizedResources is on). */
export function deny(ctx: AppContext, principal: Principal, what: string): Promise<never> {
  return accessOf(ctx, principal).refuse(what);
}

/** The permissions of `principal` (what `request.access` holds). */
export function accessOf(ctx: Pick<AppContext, 'security' | 'settings'>, principal: Principal): Access {
  return new Access(principal, ctx.security, async () => (await ctx.settings.get()).hideUnauthorizedResources);
}

/** The intent of an HTTP method: GET, HEAD and OPTIONS read; everything else changes. */
export function intentOf(method: string): Intent {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' ? 'read' : 'change';
}

export async function requireAdmin(ctx: AppContext, request: FastifyRequest): Promise<void> {
  if (request.principal.admin) return;
  await deny(ctx, request.principal, 'perform this administrative action');
}

export function requireAuthenticated(request: FastifyRequest): void {
  if (request.principal.anonymous) throw new ArcaError('UNAUTHORIZED', 'Authentication is required');
}

/** `<scheme>://<host>/artifactory`, or the configured custom URL base. */
export async function baseUrl(ctx: AppContext, request: FastifyRequest): Promise<string> {
  const custom = (await ctx.settings.get()).urlBase;
  if (custom) return custom.replace(/\/+$/, '');
  // What a proxy or client claims is used only when it is a scheme and a host: it becomes
  // absolute URLs, Location headers and the token realm (an URL that does not parse is a 500).
  const forwardedProto = (request.headers['x-forwarded-proto'] as string | undefined)?.split(',')[0].trim().toLowerCase();
  const proto = forwardedProto === 'http' || forwardedProto === 'https' ? forwardedProto : request.protocol;
  const hosts = [(request.headers['x-forwarded-host'] as string | undefined)?.split(',')[0].trim(), request.headers.host];
  const host = hosts.find((h) => h !== undefined && HOST.test(h) && URL.canParse(`http://${h}/`)) ?? 'localhost';
  return `${proto}://${host}/artifactory`;
}

/** A host name, IPv4 or bracketed IPv6 address, with an optional port. */
const HOST = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
