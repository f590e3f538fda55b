/**
 * The npm registry protocol at `/artifactory/api/npm/{repoKey}/…` (the URL Artifactory
 * uses, so `registry=https://host/artifactory/api/npm/npm-virtual/` works unchanged), for
 * local, remote and virtual npm repositories. Errors are npm's `{"error": "…"}`.
 *
 *   GET    /{name}                         packument (abbreviated for application/vnd.npm.install-v1+json)
 *   GET    /{name}/{version|tag}           one version
 *   GET    /{name}/-/{file}.tgz            tarball (scoped: @scope/name/-/name-1.0.0.tgz or …/-/@scope/name-1.0.0.tgz)
 *   PUT    /{name}                         publish (with _attachments), deprecate (without)
 *   PUT    /{name}/-rev/{rev}              unpublish of versions left out of the body
 *   DELETE /{name}/-rev/{rev}              unpublish of the whole package
 *   DELETE /{name}/-/{file}.tgz/-rev/{rev} tarball delete
 *   GET|PUT|POST|DELETE /-/package/{name}/dist-tags[/{tag}]
 *   GET /-/v1/search, GET /-/whoami, GET /-/ping, PUT /-/user/org.couchdb.user:{name} (login),
 *   DELETE /-/user/token/{token} (logout), POST /-/npm/v1/security/… (audit)
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ArcaError } from '../../core/errors.js';
import { splitPackagePath } from '../../formats/npm/names.js';
import type { Principal } from '../../security/types.js';
import type { AccessCheck } from '../../services/storage-api.js';
import type { AppContext } from '../app-context.js';
import { intentOf, visibleRepo } from '../visible-repo.js';
import { formatErrorStatus } from '../format-error-status.js';
import type { NpmCall } from './npm-call.js';
import { NpmPackages } from './npm-packages.js';
import * as pkg from './npm-package-routes.js';
import * as reg from './npm-registry-routes.js';

const PREFIX = '/artifactory/api/npm/';
/** Largest request body (a publish carries the tarball base64-encoded, so about 4/3 of its size). */
export const NPM_MAX_BODY = 256 * 1024 * 1024;

/** Errors in npm's wire shape; npm prints `error` after the status line. */
function npmErrorHandler(err: FastifyError | ArcaError | Error, request: FastifyRequest, reply: FastifyReply): void {
  const out = formatErrorStatus(err, request, reply, 'npm request failed');
  if (out) reply.code(out.status).type('application/json').send(JSON.stringify({ error: out.message }));
}

interface Parsed {
  repoKey: string;
  path: string;
  query: URLSearchParams;
}

function parseUrl(request: FastifyRequest): Parsed {
  const url = request.raw.url ?? '';
  const q = url.indexOf('?');
  const pathOnly = q < 0 ? url : url.slice(0, q);
  const after = pathOnly.slice(pathOnly.indexOf(PREFIX) + PREFIX.length);
  const slash = after.indexOf('/');
  let repoKey: string;
  try {
    repoKey = decodeURIComponent(slash < 0 ? after : after.slice(0, slash));
  } catch {
    throw new ArcaError('BAD_REQUEST', 'Invalid percent-encoding in the repository key');
  }
  return { repoKey, path: slash < 0 ? '' : after.slice(slash + 1), query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)) };
}

/** The call of a request; `as` is who the repository is looked up for (the caller unless a login names another). */
async function callOf(ctx: AppContext, packages: NpmPackages, request: FastifyRequest, reply: FastifyReply, as: Principal = request.principal): Promise<NpmCall> {
  const { repoKey, path, query } = parseUrl(request);
  // A repository the caller may not see answers as one that does not exist.
  const repo = await visibleRepo(ctx, as, repoKey, intentOf(request.method) === 'read' || as !== request.principal ? 'read' : 'change');
  if (!repo) throw new ArcaError('NOT_FOUND', `Repository '${repoKey}' not found`);
  if (repo.packageType !== 'npm') throw new ArcaError('BAD_REQUEST', `Repository '${repoKey}' is a ${repo.packageType} repository, not an npm repository`);
  const principal = request.principal;
  const can: AccessCheck = (action, r, p) => ctx.security.canAccess(principal, action, r, p);
  return { ctx, packages, request, reply, repo, path, query, can };
}

/** Splits `-rev/{rev}` off the end of a path's segments. */
function revOf(rest: string[]): { rest: string[]; rev?: string } {
  const i = rest.indexOf('-rev');
  if (i >= 0 && i === rest.length - 2) return { rest: rest.slice(0, i), rev: rest[i + 1] };
  return { rest };
}

async function dispatch(call: NpmCall, method: string) {
  const { path } = call;
  const head = method === 'HEAD';
  const read = method === 'GET' || head;
  if (path.startsWith('-/')) {
    const seg = path.split('/');
    if (read && path === '-/ping') return call.reply.code(200).type('application/json').send('{}');
    if (read && path === '-/whoami') return reg.whoami(call);
    if (read && path === '-/v1/search') return reg.search(call);
    if (method === 'POST' && path === '-/v1/login') throw new ArcaError('NOT_FOUND', 'Web login is not supported: use npm login --auth-type=legacy');
    if (method === 'POST' && /^-\/npm\/v1\/security\/(advisories\/bulk|audits\/quick|audits)$/.test(path)) return reg.audit(call, path.slice('-/npm/v1/security/'.length));
    if (seg[1] === 'user' && seg.length === 3 && read) return reg.userDocument(call, seg[2]);
    if (seg[1] === 'user' && seg[2] === 'token' && seg.length === 4 && method === 'DELETE') return reg.logout(call, seg[3]);
    if (seg[1] === 'package') {
      const { name, rest } = splitPackagePath(seg.slice(2).join('/'));
      if (rest[0] === 'dist-tags' && rest.length <= 2) {
        if (read && rest.length === 1) return pkg.getDistTags(call, name);
        if (method === 'PUT' || method === 'POST' || method === 'DELETE') return pkg.changeDistTags(call, name, method, rest[1]);
      }
    }
    throw new ArcaError('NOT_FOUND', `No npm endpoint for ${method} /${path}`);
  }
  const { name, rest: segments } = splitPackagePath(path);
  const { rest, rev } = revOf(segments);
  if (rest.length === 0) {
    if (read && rev === undefined) return pkg.getPackument(call, name, head);
    if (method === 'PUT') return rev === undefined ? pkg.putPackage(call, name) : pkg.putRevision(call, name, rev);
    if (method === 'DELETE' && rev !== undefined) return pkg.deletePackage(call, name, rev);
  } else if (rest[0] === '-' && rest.length >= 2) {
    const file = rest.slice(1).join('/');
    if (read && rev === undefined) return pkg.getTarball(call, name, file, head);
    if (method === 'DELETE') return pkg.deleteTarball(call, name, file, rev);
  } else if (rest.length === 1 && read && rev === undefined) {
    return pkg.getVersion(call, name, rest[0]);
  }
  throw new ArcaError('NOT_FOUND', `No npm endpoint for ${method} /${path}`);
}

/** The npm registry API: one plugin with its own body handling and error shape. */
export async function npmRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const packages = new NpmPackages(ctx);
  // Bodies arrive as bytes whatever their type: publish JSON, a dist-tag string, a gzip'd audit.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: NPM_MAX_BODY }, (_request, body, done) => done(null, body));
  app.setErrorHandler(npmErrorHandler);
  const handle = async (request: FastifyRequest, reply: FastifyReply) => dispatch(await callOf(ctx, packages, request, reply), request.method);
  // Reachable without credentials even when anonymous access is off: login, and ping. Neither
  // tells an anonymous caller whether the repository exists: login checks the password first
  // and then looks the repository up as the user; ping answers every key alike.
  app.put(`${PREFIX}:repo/-/user/:user`, { config: { public: true }, bodyLimit: 64 * 1024 }, async (request, reply) => {
    const who = await reg.loginPrincipal(ctx, request, (request.params as { user: string }).user);
    return reg.login(await callOf(ctx, packages, request, reply, who.principal), who);
  });
  app.get(`${PREFIX}:repo/-/ping`, { config: { public: true } }, async (_request, reply) => reply.code(200).type('application/json').send('{}'));
  app.route({ method: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'], url: `${PREFIX}:repo/*`, bodyLimit: NPM_MAX_BODY, handler: handle });
}
