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
 *
 * Bodies are never parsed by Fastify here: each endpoint reads its own, within its own limit,
 * after the permission the URL implies was checked (route-access.ts). A publish streams.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import type { AppContext } from '../../../http/app-context.js';
import type { RepoNeed } from '../../../http/route-access.js';
import { accessOf, intentOf } from '../../../http/auth.js';
import type { Intent } from '../../../services/serve/visibility.js';
import type { Principal } from '../../../security/types.js';
import type { RepoConfig } from '../../../services/repositories.js';
import { parsePackageName, splitPackagePath, tarballPath, versionOfTarball } from '../names.js';
import type { NpmPackages } from '../service/npm-packages.js';
import type { NpmCall } from './npm-call.js';
import * as pkg from './npm-package-routes.js';
import * as reg from './npm-registry-routes.js';

export const NPM_PREFIX = '/artifactory/api/npm/';
const PREFIX = NPM_PREFIX;

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

/**
 * The npm repository `repoKey` names, looked up as `as` may see it: a repository the caller may
 * not see answers as one that does not exist.
 */
async function npmRepo(ctx: AppContext, as: Principal, repoKey: string, intent: Intent): Promise<RepoConfig> {
  const repo = await ctx.serve.visibility.visible(accessOf(ctx, as), repoKey, intent);
  if (!repo) throw new ArcaError('NOT_FOUND', `Repository '${repoKey}' not found`);
  if (repo.packageType !== 'npm') throw new ArcaError('BAD_REQUEST', `Repository '${repoKey}' is a ${repo.packageType} repository, not an npm repository`);
  return repo;
}

/** The call of a request; `as` is who the repository is looked up for (the caller unless a login names another). */
async function callOf(ctx: AppContext, packages: NpmPackages, request: FastifyRequest, reply: FastifyReply, as: Principal = request.principal): Promise<NpmCall> {
  const { repoKey, path, query } = parseUrl(request);
  const repo = await npmRepo(ctx, as, repoKey, intentOf(request.method) === 'read' || as !== request.principal ? 'read' : 'change');
  return { ctx, packages, request, reply, repo, path, query, access: request.access };
}

/** Splits `-rev/{rev}` off the end of a path's segments. */
function revOf(rest: string[]): { rest: string[]; rev?: string } {
  const i = rest.indexOf('-rev');
  if (i >= 0 && i === rest.length - 2) return { rest: rest.slice(0, i), rev: rest[i + 1] };
  return { rest };
}

/** One endpoint of the protocol, as its method and path name it. */
type Endpoint =
  | { op: 'ping' | 'whoami' | 'search' | 'web-login' }
  | { op: 'audit'; endpoint: string }
  | { op: 'user'; segment: string }
  | { op: 'logout'; token: string }
  | { op: 'dist-tags'; name: string }
  | { op: 'change-dist-tags'; name: string; method: 'PUT' | 'POST' | 'DELETE'; tag?: string }
  | { op: 'packument'; name: string; head: boolean }
  | { op: 'put-package'; name: string }
  | { op: 'put-revision'; name: string; rev: string }
  | { op: 'delete-package'; name: string; rev: string }
  | { op: 'tarball'; name: string; file: string; head: boolean }
  | { op: 'delete-tarball'; name: string; file: string; rev?: string }
  | { op: 'version'; name: string; spec: string };

function unknown(method: string, path: string): ArcaError {
  return new ArcaError('NOT_FOUND', `No npm endpoint for ${method} /${path}`);
}

/** The endpoint a request addresses (no repository lookup, no body). */
export function endpointOf(method: string, path: string): Endpoint {
  const head = method === 'HEAD';
  const read = method === 'GET' || head;
  if (path.startsWith('-/')) {
    const seg = path.split('/');
    if (read && path === '-/ping') return { op: 'ping' };
    if (read && path === '-/whoami') return { op: 'whoami' };
    if (read && path === '-/v1/search') return { op: 'search' };
    if (method === 'POST' && path === '-/v1/login') return { op: 'web-login' };
    if (method === 'POST' && /^-\/npm\/v1\/security\/(advisories\/bulk|audits\/quick|audits)$/.test(path)) return { op: 'audit', endpoint: path.slice('-/npm/v1/security/'.length) };
    if (seg[1] === 'user' && seg.length === 3 && read) return { op: 'user', segment: seg[2] };
    if (seg[1] === 'user' && seg[2] === 'token' && seg.length === 4 && method === 'DELETE') return { op: 'logout', token: seg[3] };
    if (seg[1] === 'package') {
      const { name, rest } = splitPackagePath(seg.slice(2).join('/'));
      if (rest[0] === 'dist-tags' && rest.length <= 2) {
        if (read && rest.length === 1) return { op: 'dist-tags', name };
        if (method === 'PUT' || method === 'POST' || method === 'DELETE') return { op: 'change-dist-tags', name, method, tag: rest[1] };
      }
    }
    throw unknown(method, path);
  }
  const { name, rest: segments } = splitPackagePath(path);
  const { rest, rev } = revOf(segments);
  if (rest.length === 0) {
    if (read && rev === undefined) return { op: 'packument', name, head };
    if (method === 'PUT') return rev === undefined ? { op: 'put-package', name } : { op: 'put-revision', name, rev };
    if (method === 'DELETE' && rev !== undefined) return { op: 'delete-package', name, rev };
  } else if (rest[0] === '-' && rest.length >= 2) {
    const file = rest.slice(1).join('/');
    if (read && rev === undefined) return { op: 'tarball', name, file, head };
    if (method === 'DELETE') return { op: 'delete-tarball', name, file, rev };
  } else if (rest.length === 1 && read && rev === undefined) {
    return { op: 'version', name, spec: rest[0] };
  }
  throw unknown(method, path);
}

/** The tarball path a tarball file name stands for, or undefined when it stands for none. */
function tarballPathOf(name: string, file: string): string | undefined {
  const version = versionOfTarball(parsePackageName(name), file);
  return version === undefined ? undefined : tarballPath(name, version);
}

/**
 * What an endpoint needs before its body is read: writes on the repository the writes go to
 * (a virtual repository's defaultDeploymentRepo), at the path the URL names; a publish's
 * path is in its body, so it needs the right to write somewhere in that repository first.
 */
async function needOf(packages: NpmPackages, repo: RepoConfig, e: Endpoint): Promise<RepoNeed | undefined> {
  switch (e.op) {
    case 'audit':
      return { repo, action: 'read', path: '' };
    case 'change-dist-tags':
    case 'put-revision':
      return { repo: await packages.writeTarget(repo), action: 'write', path: e.name };
    case 'put-package':
      return { repo: await packages.writeTarget(repo), action: 'write' };
    case 'delete-package':
      return { repo: await packages.writeTarget(repo), action: 'delete', path: e.name };
    case 'delete-tarball':
      return { repo: await packages.writeTarget(repo), action: 'delete', path: tarballPathOf(e.name, e.file) };
    default:
      return undefined;
  }
}

async function dispatch(call: NpmCall, e: Endpoint) {
  switch (e.op) {
    case 'ping':
      return call.reply.code(200).type('application/json').send('{}');
    case 'whoami':
      return reg.whoami(call);
    case 'search':
      return reg.search(call);
    case 'web-login':
      throw new ArcaError('NOT_FOUND', 'Web login is not supported: use npm login --auth-type=legacy');
    case 'audit':
      return reg.audit(call, e.endpoint);
    case 'user':
      return reg.userDocument(call, e.segment);
    case 'logout':
      return reg.logout(call, e.token);
    case 'dist-tags':
      return pkg.getDistTags(call, e.name);
    case 'change-dist-tags':
      return pkg.changeDistTags(call, e.name, e.method, e.tag);
    case 'packument':
      return pkg.getPackument(call, e.name, e.head);
    case 'put-package':
      return pkg.putPackage(call, e.name);
    case 'put-revision':
      return pkg.putRevision(call, e.name, e.rev);
    case 'delete-package':
      return pkg.deletePackage(call, e.name, e.rev);
    case 'tarball':
      return pkg.getTarball(call, e.name, e.file, e.head);
    case 'delete-tarball':
      return pkg.deleteTarball(call, e.name, e.file, e.rev);
    case 'version':
      return pkg.getVersion(call, e.name, e.spec);
  }
}

/** The npm registry API: one plugin with its own body handling and error shape. */
export async function npmRoutes(app: FastifyInstance, ctx: AppContext, packages: NpmPackages): Promise<void> {
  // Bodies stay unread streams: each endpoint reads its own (see npm-call.ts), a publish streams it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const call = await callOf(ctx, packages, request, reply);
    return dispatch(call, endpointOf(request.method, call.path));
  };
  const access = async (request: FastifyRequest): Promise<RepoNeed | undefined> => {
    if (request.method === 'GET' || request.method === 'HEAD') return undefined;
    const { repoKey, path } = parseUrl(request);
    const repo = await npmRepo(ctx, request.principal, repoKey, 'change');
    return needOf(packages, repo, endpointOf(request.method, path));
  };
  // Reachable without credentials even when anonymous access is off: login, and ping. Neither
  // tells an anonymous caller whether the repository exists: login checks the password first
  // (the body is the credential, read within a few KiB) and then looks the repository up as
  // the user; ping answers every key alike.
  app.put(`${PREFIX}:repo/-/user/:user`, { config: { public: true, access: 'open' } }, async (request, reply) => {
    const who = await reg.loginPrincipal(ctx, request, (request.params as { user: string }).user);
    return reg.login(await callOf(ctx, packages, request, reply, who.principal), who);
  });
  app.get(`${PREFIX}:repo/-/ping`, { config: { public: true } }, async (_request, reply) => reply.code(200).type('application/json').send('{}'));
  app.route({ method: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'], url: `${PREFIX}:repo/*`, config: { access }, handler: handle });
}
