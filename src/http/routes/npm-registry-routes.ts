/**
 * The registry-wide npm endpoints: login (`PUT /-/user/org.couchdb.user:{name}`, answered
 * with a real Arca access token), whoami, logout, search, and audit (forwarded to the
 * upstream of a remote repository, never answered with a made-up report).
 */
import type { FastifyRequest } from 'fastify';
import { ArcaError, isArcaError } from '../../core/errors.js';
import type { Principal } from '../../security/types.js';
import { escapeName } from '../../formats/npm/names.js';
import { matchDocument, parseSearchQuery, searchPage, type SearchObject } from '../../formats/npm/search.js';
import { readSmall } from '../../services/remote/upstream-client.js';
import type { AppContext } from '../app-context.js';
import { requireRepoAction } from '../auth.js';
import { header } from './artifacts/artifacts-serve.js';
import { jsonBody, NPM_BODY_LIMITS, readBody, registryUrl, sendJson, type NpmCall } from './npm-call.js';

/** Lifetime of the token `npm login` gets (seconds). */
export const LOGIN_TOKEN_SECONDS = 30 * 24 * 3600;
const AUDIT_LIMIT = 16 * 1024 * 1024;

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

async function upstreamSearch(call: NpmCall, size: number): Promise<{ objects: SearchObject[]; total: number } | undefined> {
  const upstream = await call.packages.upstreamOf(call.repo);
  if (!upstream || !(await call.ctx.security.canReadAny(call.request.principal, upstream))) return undefined;
  const q = new URLSearchParams(call.query);
  q.set('size', String(size));
  q.set('from', '0');
  try {
    const res = await call.packages.services.remote.forward(upstream, `-/v1/search?${q}`, { headers: { accept: 'application/json' } });
    const text = (await readSmall(res, 8 * 1024 * 1024)).toString('utf8');
    if (res.status !== 200) throw new ArcaError('UPSTREAM_FAILED', `Search at the upstream of '${upstream.key}' answered HTTP ${res.status}`);
    const body = JSON.parse(text) as { objects?: SearchObject[]; total?: number };
    return { objects: Array.isArray(body.objects) ? body.objects : [], total: Number(body.total) || 0 };
  } catch (err) {
    // In a virtual repository a failing upstream only loses its results; a remote's own search fails.
    if (call.repo.rclass === 'virtual') {
      call.request.log.warn({ err, repo: upstream.key }, 'npm search: upstream failed');
      return undefined;
    }
    if (err instanceof SyntaxError) throw new ArcaError('UPSTREAM_FAILED', `Search at the upstream of '${upstream.key}' did not answer JSON`);
    throw err;
  }
}

/** `GET /-/v1/search`: the packages of local members, then the first remote member's results. */
export async function search(call: NpmCall) {
  if (!(await call.ctx.security.canReadAny(call.request.principal, call.repo))) {
    await requireRepoAction(call.ctx, call.request, 'read', call.repo, '');
  }
  const q = parseSearchQuery(Object.fromEntries(call.query));
  const base = await registryUrl(call);
  const matches: SearchObject[] = [];
  const seen = new Set<string>();
  for (const local of await call.packages.searchableLocals(call.repo)) {
    for (const d of await call.packages.store.documents(local.key)) {
      if (seen.has(d.doc.name) || !(await call.can('read', local, d.doc.name))) continue;
      const hit = matchDocument(d.doc, q, `${base}${escapeName(d.doc.name)}`);
      if (hit) {
        seen.add(d.doc.name);
        matches.push(hit);
      }
    }
  }
  const page = searchPage(matches, q);
  const remote = await upstreamSearch(call, q.from + q.size);
  let objects = page.objects;
  let total = page.total;
  if (remote) {
    const extra = remote.objects.filter((o) => o?.package && !seen.has(String(o.package.name)));
    objects = searchPage([...matches, ...extra.map((o) => ({ ...o, searchScore: -1 }))], q).objects;
    total += remote.total;
  }
  return sendJson(call.reply, 200, { objects, total, time: new Date(call.ctx.clock.now()).toUTCString() });
}

/** `POST /-/npm/v1/security/{advisories/bulk|audits/quick|audits}`: forwarded upstream, or refused. */
export async function audit(call: NpmCall, endpoint: string) {
  await requireRepoAction(call.ctx, call.request, 'read', call.repo, '');
  const upstream = await call.packages.upstreamOf(call.repo);
  if (!upstream) {
    throw new ArcaError(
      'NOT_IMPLEMENTED',
      `npm audit is not supported by ${call.repo.rclass} repository '${call.repo.key}': it has no remote npm repository to forward the audit to (use a remote or a virtual repository that includes one)`,
    );
  }
  const body = await readBody(call, NPM_BODY_LIMITS.audit);
  const headers: Record<string, string> = { accept: 'application/json' };
  for (const h of ['content-type', 'content-encoding']) {
    const v = header(call.request, h);
    if (v) headers[h] = v;
  }
  const res = await call.packages.services.remote.forward(upstream, `-/npm/v1/security/${endpoint}`, { method: 'POST', headers, body });
  const answer = await readSmall(res, AUDIT_LIMIT);
  return call.reply
    .code(res.status)
    .type(res.headers.get('content-type') ?? 'application/json')
    .send(answer);
}
