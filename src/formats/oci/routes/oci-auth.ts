/**
 * Authentication of the registry API. Docker clients first call `/v2/`; a 401 there carries
 * two challenges, a Bearer token service (`<base>/v2/token`, which docker, podman, skopeo,
 * helm and oras prefer) and Basic. The token service gives a short-lived Arca access token
 * for Basic credentials, or, when anonymous access is on, an anonymous token (an HMAC under
 * the cluster's master key, so every node accepts it; it names no user and is never stored).
 * Every other credential Arca knows (Basic with a password, token or API key; Bearer access
 * tokens; X-JFrog-Art-Api) works on every registry endpoint too.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OciError } from '../oci-errors.js';
import { ANONYMOUS } from '../../../security/security-service.js';
import type { Principal } from '../../../security/types.js';
import type { AppContext } from '../../../http/app-context.js';
import { baseUrl } from '../../../http/auth.js';
import { header } from './oci-call.js';

/** Lifetime of the tokens the token service issues (seconds). */
export const OCI_TOKEN_SECONDS = 300;
const ANON_PREFIX = 'arca-anon.';

function anonKey(ctx: AppContext): Buffer {
  return createHmac('sha256', ctx.masterKey).update('arca oci anonymous registry token').digest();
}

function anonToken(ctx: AppContext, expiresAt: number): string {
  const sig = createHmac('sha256', anonKey(ctx)).update(String(expiresAt)).digest('base64url');
  return `${ANON_PREFIX}${expiresAt}.${sig}`;
}

function anonTokenValid(ctx: AppContext, token: string): boolean {
  const m = /^arca-anon\.(\d+)\.([A-Za-z0-9_-]+)$/.exec(token);
  if (!m) return false;
  const expected = Buffer.from(anonToken(ctx, Number(m[1])));
  const given = Buffer.from(token);
  return expected.length === given.length && timingSafeEqual(expected, given) && Number(m[1]) * 1000 > ctx.clock.now();
}

/** Sets `request.principal` for a registry request (these routes skip the global auth hook). */
export async function ociAuthenticate(ctx: AppContext, request: FastifyRequest): Promise<void> {
  const authorization = header(request, 'authorization');
  const apiKey = header(request, 'x-jfrog-art-api') ?? header(request, 'x-api-key');
  let principal: Principal = ANONYMOUS;
  if (authorization && /^bearer arca-anon\./i.test(authorization)) {
    if (!anonTokenValid(ctx, authorization.slice(7).trim())) throw new OciError('UNAUTHORIZED', 'The anonymous registry token is invalid or has expired');
  } else if (authorization || apiKey) {
    principal = await ctx.security.authenticate({ authorization, apiKey, remoteAddress: request.ip });
  }
  request.principal = principal;
}

/** True when the request carried credentials of any kind (an anonymous token counts). */
export function sentCredentials(request: FastifyRequest): boolean {
  return Boolean(header(request, 'authorization') || header(request, 'x-jfrog-art-api') || header(request, 'x-api-key'));
}

/** A token for a principal; `authorization` is what the caller authenticated with (to hand back a token it already holds). */
async function tokenFor(ctx: AppContext, principal: Principal, authorization: string): Promise<{ token: string; expiresIn: number }> {
  if (principal.anonymous) {
    if (!(await ctx.security.anonymousAccessEnabled())) throw new OciError('UNAUTHORIZED', 'Authentication is required: give a user name and password');
    return { token: anonToken(ctx, Math.floor(ctx.clock.now() / 1000) + OCI_TOKEN_SECONDS), expiresIn: OCI_TOKEN_SECONDS };
  }
  if (principal.via === 'token') {
    // The caller already holds an access token: hand it back rather than minting another.
    const token = /^bearer /i.test(authorization)
      ? authorization.slice(7).trim()
      : Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8').replace(/^[^:]*:/, '');
    return { token, expiresIn: OCI_TOKEN_SECONDS };
  }
  const issued = await ctx.security.tokens.create(principal, { expiresIn: OCI_TOKEN_SECONDS, clampExpiry: true, description: 'registry token (/v2/token)' });
  return { token: issued.accessToken, expiresIn: issued.expiresIn };
}

/** `GET /v2/token`: a Bearer token for the caller, in the Docker token service's JSON shape. */
export async function tokenEndpoint(ctx: AppContext, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const { token, expiresIn } = await tokenFor(ctx, request.principal, header(request, 'authorization') ?? '');
  reply.header('Cache-Control', 'no-store');
  return reply.code(200).send({ token, access_token: token, expires_in: expiresIn, issued_at: new Date(ctx.clock.now()).toISOString() });
}

/**
 * `POST /v2/token`: the OAuth2 form of the token service (`grant_type=password` with
 * `username` and `password`), which some Docker clients use. Refresh tokens are not issued,
 * so clients come back with their credentials.
 */
export async function oauthTokenEndpoint(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, form: URLSearchParams): Promise<unknown> {
  const grant = form.get('grant_type');
  if (grant !== 'password') {
    throw new OciError('UNSUPPORTED', `grant_type '${grant ?? ''}' is not supported: use 'password' (or GET /v2/token with Basic credentials)`, { code: 'BAD_REQUEST' });
  }
  const username = form.get('username') ?? '';
  const password = form.get('password') ?? '';
  if (username === '') throw new OciError('UNAUTHORIZED', "The token request has no 'username'");
  const authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const principal = await ctx.security.authenticate({ authorization, remoteAddress: request.ip });
  const { token, expiresIn } = await tokenFor(ctx, principal, authorization);
  reply.header('Cache-Control', 'no-store');
  return reply.code(200).send({ access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope: form.get('scope') ?? '', issued_at: new Date(ctx.clock.now()).toISOString() });
}

/**
 * The WWW-Authenticate challenges of a 401: the token service (with the scope the request
 * needed, when it names an image) first, then Basic.
 */
export async function challenges(ctx: AppContext, request: FastifyRequest, prefix: string, scope?: string): Promise<string[]> {
  const base = await baseUrl(ctx, request);
  const origin = base.replace(/\/artifactory$/, '');
  const service = new URL(origin).host;
  const realm = prefix === '' ? `${origin}/v2/token` : `${base}${prefix.replace(/^\/artifactory/, '')}/v2/token`;
  const bearer = `Bearer realm="${realm}",service="${service}"${scope ? `,scope="${scope}"` : ''}`;
  return [bearer, 'Basic realm="Arca"'];
}
