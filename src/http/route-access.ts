/**
 * Authorisation before the body. Every route that takes a body declares in its config the
 * access it needs (`config.access`); a `preParsing` hook, which runs after authentication
 * and before Fastify or a handler reads a byte of the body, checks it from the URL and the
 * headers alone. A caller who may not write gets its 401/403 at once: the body is neither
 * parsed nor buffered, and what the client sends after the answer is dropped within a short,
 * bounded linger (unread-body.ts).
 *
 * This is a cheap early refusal, not the decision: the use case holds the decision and makes
 * it again with the caller's `Access` (a deploy in FormatDeployService.deploy, a delete in
 * FormatDeployService.delete, a read in the serve service), with the path the body names
 * when only the body names it (an npm publish, a PyPI upload).
 *
 * A route with a body-carrying method (POST, PUT, PATCH, DELETE) that declares nothing is
 * refused when it is registered, so no write route can skip the check.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Action } from '../security/types.js';
import type { RepoConfig } from '../services/repositories.js';
import type { AppContext } from './app-context.js';
import { deny, requireAdmin, requireAuthenticated } from './auth.js';

/** A permission on a repository, as the URL names it. */
export interface RepoNeed {
  /** The repository the action applies to (for a virtual repository: where its writes go). */
  repo: RepoConfig;
  action: Action;
  /** The path the URL names; undefined when only the body names it: some path of the repository must then allow `action`. */
  path?: string;
}

/**
 * Works out, from the URL and headers only, what a request needs. It may throw itself (an
 * unknown repository, a read-only one, or a format's own refusal with its own challenges);
 * undefined means nothing to check before the body (a read through a catch-all route).
 */
export type AccessResolver = (request: FastifyRequest, reply: FastifyReply) => Promise<RepoNeed | undefined>;

/**
 * - `admin`: administrators only;
 * - `authenticated`: any caller but anonymous (the handler decides the rest; bodies are small);
 * - `open`: no check before the body. Only for public routes whose body is the credential
 *   (login, token refresh; their bodies are limited to a few KiB) or that authenticate in
 *   their own `onRequest` hook (the node API's request signatures);
 * - a resolver: a permission on the repository the URL names.
 */
export type RouteAccess = 'admin' | 'authenticated' | 'open' | AccessResolver;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What a caller must be allowed before the body is read (see route-access.ts). */
    access?: RouteAccess;
  }
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

async function check(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, access: RouteAccess): Promise<void> {
  if (access === 'open') return;
  if (access === 'admin') return requireAdmin(ctx, request);
  if (access === 'authenticated') return requireAuthenticated(request);
  const need = await access(request, reply);
  if (!need) return;
  const { repo, action, path } = need;
  const principal = request.principal;
  const allowed = path === undefined ? await ctx.security.canAny(principal, action, repo) : await ctx.security.canAccess(principal, action, repo, path);
  if (!allowed) await deny(ctx, principal, path === undefined ? `${action} to '${repo.key}'` : `${action} '${repo.key}/${path}'`);
}

/** Adds the check (run before any body is read) and the registration guard. Call before any route is registered. */
export function registerRouteAccess(app: FastifyInstance, ctx: AppContext): void {
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (route.config?.access === undefined && methods.some((m) => BODY_METHODS.has(m))) {
      throw new Error(`Route ${methods.join(',')} ${route.url} takes a body but declares no access (config.access, see http/route-access.ts)`);
    }
  });
  app.addHook('preParsing', async (request, reply, payload) => {
    const access = request.routeOptions.config?.access;
    if (access !== undefined) await check(ctx, request, reply, access);
    return payload;
  });
}
