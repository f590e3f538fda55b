import type { FastifyRequest } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import type { Principal } from '../../../security/types.js';
import type { AppContext } from '../../app-context.js';
import { baseUrl } from '../../auth.js';
import { crossSiteRequest, sessionFromCookie } from '../../session-cookie.js';

/** `<base>/<path>/<name>` with the name URL-encoded, for the `uri` fields of listings. */
export async function securityUri(ctx: AppContext, request: FastifyRequest, path: string, name: string): Promise<string> {
  return `${await baseUrl(ctx, request)}/${path}/${encodeURIComponent(name)}`;
}

/** A form or JSON body as a map (empty when there is none). */
export function bodyFields(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new ArcaError('BAD_REQUEST', 'The body must be form fields or a JSON object');
  return body as Record<string, unknown>;
}

export function stringField(b: Record<string, unknown>, field: string): string | undefined {
  const v = b[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new ArcaError('BAD_REQUEST', `'${field}' must be a string`, { field });
  return v;
}

/** true/false, as a JSON boolean or a form string. */
export function booleanField(b: Record<string, unknown>, field: string): boolean | undefined {
  const v = b[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new ArcaError('BAD_REQUEST', `'${field}' must be true or false`, { field });
}

/** A non-negative integer, as a JSON number or a form string. */
export function integerField(b: Record<string, unknown>, field: string): number | undefined {
  const v = b[field];
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new ArcaError('BAD_REQUEST', `'${field}' must be a non-negative integer`, { field });
  return n;
}

/**
 * Authenticates inside a public route (the token endpoints are public so a refresh token
 * alone can be exchanged): anonymous callers are refused.
 */
export async function authenticateCaller(ctx: AppContext, request: FastifyRequest): Promise<Principal> {
  const h = request.headers;
  const principal = await ctx.security.authenticate({
    authorization: h.authorization,
    apiKey: (h['x-jfrog-art-api'] ?? h['x-api-key']) as string | undefined,
    // The web UI creates tokens with its session cookie (same-site requests only, as everywhere).
    session: h.cookie === undefined ? undefined : sessionFromCookie(h.cookie),
    remoteAddress: request.ip,
  });
  if (principal.anonymous) throw new ArcaError('UNAUTHORIZED', 'Authentication is required');
  if (principal.via === 'session' && crossSiteRequest(request)) throw new ArcaError('FORBIDDEN', 'A request authenticated by the session cookie must come from this site (Origin mismatch)');
  request.principal = principal;
  return principal;
}
