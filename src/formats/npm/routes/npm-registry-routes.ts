/**
 * The registry-wide npm endpoints: login (`PUT /-/user/org.couchdb.user:{name}`, answered
 * with a real Arca access token), whoami, logout, search, and audit (forwarded to the
 * upstream of a remote repository, never answered with a made-up report).
 */
import type { FastifyRequest } from 'fastify';
import { ArcaError, isArcaError } from '../../../core/errors.js';
import type { AppContext } from '../../../http/app-context.js';
import { header } from '../../../http/routes/artifacts/artifacts-serve.js';
import type { Principal } from '../../../security/types.js';
import { jsonBody, NPM_BODY_LIMITS, readBody, registryUrl, sendJson, type NpmCall } from './npm-call.js';

/** Lifetime of the token `npm login` gets (seconds). */
export const LOGIN_TOKEN_SECONDS = 30 * 24 * 3600;

/**
 * The password check of a login, done before anything else: the repository is looked up only
 * afterwards, as the user who logged in, so the answer to an anonymous caller does not depend
 * on which repositories exist.
 */
export async function loginPrincipal(ctx: AppContext, request: FastifyRequest, userSegment: string): Promise<{ principal: Principal; name: string }> {
  const m = /^org\.couchdb\.user:(.+)$/.exec(decodeURIComponent(userSegment));
  if (!m) throw new ArcaError('NOT_FOUND', `No route for PUT /-/user/${userSegment}`);
  const body = (await jsonBody({ request }, NPM_BODY_LIMITS.small)) as { name?: unknown; password?: unknown };
  const name = body.name === undefined ? m[1] : body.name;
  if (typeof name !== 'string' || name !== m[1]) throw new ArcaError('BAD_REQUEST', `The user name in the body ('${String(name)}') does not match the URL ('${m[1]}')`);
  if (typeof body.password !== 'string' || body.password === '') throw new ArcaError('BAD_REQUEST', 'A password is required: Arca does not create users through npm adduser');
  try {
    return { principal: await ctx.security.login(name, body.password), name };
  } catch (err) {
    if (isArcaError(err, 'UNAUTHORIZED')) throw new ArcaError('UNAUTHORIZED', `Bad user name or password for '${name}'`);
    throw err;
  }
}

/** `PUT /-/user/org.couchdb.user:{name}` with `{name, password}`: a token for the user loginPrincipal checked. */
export async function login(call: NpmCall, { principal, name }: { principal: Principal; name: string }) {
  const issued = await call.ctx.security.tokens.create(principal, { expiresIn: LOGIN_TOKEN_SECONDS, clampExpiry: true, description: `npm login (${call.repo.key})` });
  return sendJson(call.reply, 201, { ok: true, id: `org.couchdb.user:${name}`, rev: `1-${issued.tokenId}`, token: issued.accessToken });
}

/** `GET /-/user/org.couchdb.user:{name}`: the caller's own user document. */
export async function userDocument(call: NpmCall, userSegment: string) {
  const name = decodeURIComponent(userSegment).replace(/^org\.couchdb\.user:/, '');
  const p = call.request.principal;
  if (p.anonymous) throw new ArcaError('UNAUTHORIZED', 'Authentication is required');
  if (p.name !== name && !p.admin) throw new ArcaError('NOT_FOUND', `User ${name} not found`);
  return sendJson(call.reply, 200, { _id: `org.couchdb.user:${name}`, name, type: 'user', roles: [] });
}

export async function whoami(call: NpmCall) {
  const p = call.request.principal;
  if (p.anonymous) throw new ArcaError('UNAUTHORIZED', 'You are not logged in');
  return sendJson(call.reply, 200, { username: p.name });
}

/** `npm logout`: `DELETE /-/user/token/{token}` revokes the token. */
export async function logout(call: NpmCall, token: string) {
  const p = call.request.principal;
  if (p.anonymous) throw new ArcaError('UNAUTHORIZED', 'Authentication is required');
  await call.ctx.security.tokens.revoke(p, { token: decodeURIComponent(token) });
  return sendJson(call.reply, 200, { ok: true });
}

/** `GET /-/v1/search`: the packages of local members, then the first remote member's results. */
export async function search(call: NpmCall) {
  const answer = await call.packages.registry.search(call.access, call.repo, call.query, await registryUrl(call), call.request.log);
  return sendJson(call.reply, 200, answer);
}

/** `POST /-/npm/v1/security/{advisories/bulk|audits/quick|audits}`: forwarded upstream, or refused. */
export async function audit(call: NpmCall, endpoint: string) {
  const headers: Record<string, string> = { accept: 'application/json' };
  for (const h of ['content-type', 'content-encoding']) {
    const v = header(call.request, h);
    if (v) headers[h] = v;
  }
  const body = () => readBody(call, NPM_BODY_LIMITS.audit);
  const answer = await call.packages.registry.audit(call.access, call.repo, endpoint, { body, headers });
  return call.reply.code(answer.status).type(answer.contentType).send(answer.body);
}
