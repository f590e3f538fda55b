import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import type { IssuedToken, TokenRequest } from '../../../security/tokens.js';
import type { AppContext } from '../../app-context.js';
import { requireAuthenticated } from '../../auth.js';
import { authenticateCaller, bodyFields, booleanField, integerField, stringField } from './common.js';

const LEGACY = '/artifactory/api/security/token';
const ACCESS = '/access/api/v1/tokens';
/**
 * Token requests authenticate by their body (a refresh token) or their headers: checked in
 * the handler, with the body limited to a few KiB.
 */
const PUBLIC = { config: { public: true, access: 'open' as const }, bodyLimit: 64 * 1024 };
const AUTHENTICATED = { config: { access: 'authenticated' as const } };

function tokenRequest(b: Record<string, unknown>): TokenRequest {
  return {
    username: stringField(b, 'username'),
    scope: stringField(b, 'scope'),
    expiresIn: integerField(b, 'expires_in'),
    refreshable: booleanField(b, 'refreshable'),
    audience: stringField(b, 'audience'),
    description: stringField(b, 'description'),
  };
}

/**
 * Issues a token, or exchanges a refresh token (`grant_type=refresh_token`). A refresh needs
 * no other credentials: the refresh token is the credential.
 */
async function issue(ctx: AppContext, request: FastifyRequest): Promise<IssuedToken> {
  const b = bodyFields(request.body);
  const grant = stringField(b, 'grant_type') ?? 'client_credentials';
  if (grant === 'refresh_token') {
    const refresh = stringField(b, 'refresh_token');
    if (!refresh) throw new ArcaError('BAD_REQUEST', "'refresh_token' is required with grant_type=refresh_token", { field: 'refresh_token' });
    return ctx.security.tokens.refresh(refresh, stringField(b, 'access_token'), integerField(b, 'expires_in'));
  }
  if (grant !== 'client_credentials' && grant !== 'password') {
    throw new ArcaError('BAD_REQUEST', `'grant_type' must be client_credentials or refresh_token, not '${grant}'`, { field: 'grant_type' });
  }
  const caller = await authenticateCaller(ctx, request);
  return ctx.security.tokens.create(caller, tokenRequest(b));
}

function legacyBody(t: IssuedToken) {
  const out: Record<string, unknown> = { access_token: t.accessToken };
  if (t.refreshToken) out.refresh_token = t.refreshToken;
  return { ...out, expires_in: t.expiresIn, scope: t.scope, token_type: t.tokenType };
}

function accessBody(t: IssuedToken) {
  return { token_id: t.tokenId, ...legacyBody(t) };
}

/** Legacy `/api/security/token` and 7.x `/access/api/v1/tokens` (REST-API.md §6). */
export async function securityTokenRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const tokens = ctx.security.tokens;

  app.post(LEGACY, PUBLIC, async (request) => legacyBody(await issue(ctx, request)));

  app.get(LEGACY, async (request) => {
    requireAuthenticated(request);
    const list = await tokens.list(request.principal);
    return { tokens: list.map(({ description: _d, ...t }) => t) };
  });

  app.post(`${LEGACY}/revoke`, AUTHENTICATED, async (request, reply) => {
    requireAuthenticated(request);
    const b = bodyFields(request.body);
    await tokens.revoke(request.principal, { token: stringField(b, 'token'), tokenId: stringField(b, 'token_id') });
    return reply.code(200).type('text/plain').send('Token revoked');
  });

  app.post(ACCESS, PUBLIC, async (request) => accessBody(await issue(ctx, request)));

  // Arca adds the caller's lifetime limit (`maxExpiresIn`, seconds; null: no limit, 0 allowed) for the token form.
  app.get(ACCESS, async (request) => {
    requireAuthenticated(request);
    return { tokens: await tokens.list(request.principal), maxExpiresIn: request.principal.admin ? null : tokens.lifetimes.nonAdminMax };
  });

  app.delete<{ Params: { id: string } }>(`${ACCESS}/:id`, AUTHENTICATED, async (request, reply) => {
    requireAuthenticated(request);
    await tokens.revoke(request.principal, { tokenId: request.params.id });
    return reply.code(200).type('text/plain').send('Token revoked');
  });
}
