/**
 * The OCI Distribution / Docker Registry HTTP API v2, at `/v2/` (the first name component is
 * the Arca repository: `/v2/{repoKey}/{image…}/…`) and at `/artifactory/api/docker/{repoKey}/v2/`
 * (the name is the image alone), for local docker and oci repositories (remote and virtual
 * ones: oci-proxy-routes.ts):
 *
 *   GET  /v2/                                   base check (401 with Bearer and Basic challenges)
 *   GET  /v2/token                              token service for the Bearer challenge
 *   GET  /v2/_catalog?n=&last=                  images the caller may read
 *   HEAD|GET|DELETE  /v2/<name>/blobs/<digest>
 *   POST /v2/<name>/blobs/uploads/[?digest=|?mount=&from=]
 *   GET|PATCH|PUT|DELETE  /v2/<name>/blobs/uploads/<uuid>[?digest=]
 *   HEAD|GET|PUT|DELETE   /v2/<name>/manifests/<tag|digest>
 *   GET  /v2/<name>/tags/list?n=&last=
 *   GET  /v2/<name>/referrers/<digest>[?artifactType=]
 *
 * Errors use the OCI envelope (oci-errors.ts). These routes authenticate on their own
 * (oci-auth.ts), since a 401 here must carry the registry's challenges. They parse a request,
 * call a use case of the slice (service/registry-reads.ts, service/registry-writes.ts), which
 * decides with the caller's `Access`, and reply.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { REPO_KEY_PATTERN } from '../../../core/paths.js';
import type { AppContext } from '../../../http/app-context.js';
import { intentOf } from '../../../http/auth.js';
import { manifestFolder, uploadFolder } from '../layout.js';
import { OciError } from '../oci-errors.js';
import { isValidName, parseReference, splitName } from '../reference.js';
import { REGISTRY_TYPES, requireImage } from '../service/image-access.js';
import type { OciServices } from '../service/oci-services.js';
import { oauthTokenEndpoint, ociAuthenticate, sentCredentials, tokenEndpoint } from './oci-auth.js';
import { deleteBlob, getBlob, startUpload, uploadSession } from './oci-blob-routes.js';
import { pageSize, readBody, type OciCall } from './oci-call.js';
import './oci-errors.js';
import { deleteManifest, getManifest, listReferrers, listTags, putManifest } from './oci-manifest-routes.js';
import { proxyCall } from './oci-proxy-routes.js';

const API_PREFIX = '/artifactory/api/docker/';
/** Where the registry API lives: the root `/v2` and each repository's `/artifactory/api/docker/{repo}/v2`. */
export const OCI_PREFIXES = ['/v2', API_PREFIX] as const;

type Target =
  | { op: 'base' | 'catalog' | 'token' }
  | { op: 'tags' | 'upload-start'; name: string }
  | { op: 'manifest' | 'blob' | 'referrers' | 'upload'; name: string; arg: string };

/** Splits the URL into the prefix (`''` or `/artifactory/api/docker/{repo}`), the part after `/v2/`, and the query. */
function splitUrl(url: string): { prefix: string; repoKey?: string; tail: string; query: URLSearchParams } {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  if (path.startsWith(API_PREFIX)) {
    const rest = path.slice(API_PREFIX.length);
    const slash = rest.indexOf('/');
    const repoKey = decode(slash < 0 ? rest : rest.slice(0, slash));
    const tail = rest.slice(rest.indexOf('/v2') + 3).replace(/^\//, '');
    return { prefix: `${API_PREFIX}${encodeURIComponent(repoKey)}`, repoKey, tail, query };
  }
  return { prefix: '', tail: path.replace(/^\/v2\/?/, ''), query };
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new OciError('NAME_INVALID', `Invalid percent-encoding in '${segment}'`);
  }
}

/** Which endpoint a path after `/v2/` names; the image name may itself contain `blobs` or `manifests`. */
export function targetOf(tail: string, scoped: boolean): Target {
  const segs = tail.split('/').map(decode);
  if (segs[segs.length - 1] === '') segs.pop();
  const n = segs.length;
  if (n === 0) return { op: 'base' };
  if (n === 1 && segs[0] === '_catalog') return { op: 'catalog' };
  if (n === 1 && segs[0] === 'token') return { op: 'token' };
  const min = scoped ? 2 : 3;
  const name = (k: number) => segs.slice(0, n - k).join('/');
  if (n >= min + 1 && segs[n - 3] === 'blobs' && segs[n - 2] === 'uploads') return { op: 'upload', name: name(3), arg: segs[n - 1] };
  if (n >= min && segs[n - 2] === 'blobs' && segs[n - 1] === 'uploads') return { op: 'upload-start', name: name(2) };
  if (n >= min && segs[n - 2] === 'tags' && segs[n - 1] === 'list') return { op: 'tags', name: name(2) };
  if (n >= min && segs[n - 2] === 'manifests') return { op: 'manifest', name: name(2), arg: segs[n - 1] };
  if (n >= min && segs[n - 2] === 'blobs') return { op: 'blob', name: name(2), arg: segs[n - 1] };
  if (n >= min && segs[n - 2] === 'referrers') return { op: 'referrers', name: name(2), arg: segs[n - 1] };
  throw new OciError('NAME_UNKNOWN', `No registry endpoint at /v2/${tail}`);
}

async function callFor(ctx: AppContext, oci: OciServices, request: FastifyRequest, reply: FastifyReply, prefix: string, scopedRepo: string | undefined, name: string, query: URLSearchParams): Promise<OciCall> {
  let repoKey: string;
  let image: string;
  if (scopedRepo !== undefined) {
    repoKey = scopedRepo;
    image = name;
  } else {
    ({ repoKey, image } = splitName(name));
  }
  if (!REPO_KEY_PATTERN.test(repoKey) || !isValidName(image)) {
    throw new OciError('NAME_INVALID', `'${name}' is not a valid repository name`, { detail: { name } });
  }
  // A repository the caller may not see answers as one that does not exist.
  const repo = await ctx.serve.visibility.visible(request.access, repoKey, intentOf(request.method));
  if (!repo || !REGISTRY_TYPES.includes(repo.packageType)) {
    const what = repo ? `'${repoKey}' is a ${repo.packageType} repository, not a docker or oci one` : `there is no repository '${repoKey}'`;
    throw new OciError('NAME_UNKNOWN', `Repository name '${name}' not known to the registry: ${what}`, { detail: { name } });
  }
  return { ctx, oci, request, reply, access: request.access, prefix, name, repo, image, query };
}

async function catalog(oci: OciServices, request: FastifyRequest, reply: FastifyReply, scopedRepo: string | undefined, query: URLSearchParams) {
  const n = pageSize(query);
  const last = query.get('last') ?? undefined;
  const page = await oci.reads.catalog(request.access, scopedRepo, n, scopedRepo !== undefined && last !== undefined ? `${scopedRepo}/${last}` : last);
  const items = scopedRepo === undefined ? page.items : page.items.map((name) => name.slice(scopedRepo.length + 1));
  if (page.more) {
    const base = scopedRepo === undefined ? '' : `${API_PREFIX}${encodeURIComponent(scopedRepo)}`;
    reply.header('Link', `<${base}/v2/_catalog?n=${n}&last=${encodeURIComponent(items[items.length - 1])}>; rel="next"`);
  }
  return reply.code(200).type('application/json').send(JSON.stringify({ repositories: items }));
}

interface Prepared {
  prefix: string;
  repoKey?: string;
  tail: string;
  query: URLSearchParams;
  t: Target;
}

const prepared = new WeakMap<FastifyRequest, Promise<Prepared>>();

/**
 * Parses the URL and authenticates the caller, once per request: first for the check before
 * the body (accessOf), then for the handler.
 */
function prepare(ctx: AppContext, request: FastifyRequest): Promise<Prepared> {
  let p = prepared.get(request);
  if (!p) {
    p = (async () => {
      const { prefix, repoKey, tail, query } = splitUrl(request.raw.url ?? '');
      request.oci = { prefix };
      const method = request.method;
      const t = targetOf(tail, repoKey !== undefined);
      if ('name' in t) {
        const write = method !== 'GET' && method !== 'HEAD';
        const full = repoKey === undefined ? t.name : `${repoKey}/${t.name}`;
        // The scope goes into a 401's WWW-Authenticate header: only a name of the characters
        // repository keys and image names are made of (a control character or a quote would
        // break the header; the name is refused later anyway).
        if (/^[A-Za-z0-9._/-]+$/.test(full)) request.oci.scope = `repository:${full}:${write ? 'pull,push' : 'pull'}`;
      }
      await ociAuthenticate(ctx, request);
      return { prefix, repoKey, tail, query, t };
    })();
    prepared.set(request, p);
  }
  return p;
}

/** The path of a write below the image, for the permission check before the body. */
function writePath(call: OciCall, op: string, arg: string, method: string): { action: 'write' | 'delete'; path: string } | undefined {
  if (op === 'upload-start' && method === 'POST') return { action: 'write', path: `${call.image}/_uploads` };
  if (op === 'upload' && method !== 'GET' && method !== 'HEAD') return { action: 'write', path: uploadFolder(call.image, arg) };
  if (op === 'manifest' && (method === 'PUT' || method === 'DELETE')) {
    let ref;
    try {
      ref = parseReference(arg);
    } catch {
      return undefined; // the handler answers the invalid reference
    }
    return { action: method === 'PUT' ? 'write' : 'delete', path: manifestFolder(call.image, ref) };
  }
  return undefined;
}

/**
 * The check before the body (route-access.ts): pushes, uploads and deletes need their
 * permission on the repository the write goes to (a virtual's defaultDeploymentRepo), with
 * the registry's own 401 challenges and error envelope.
 */
async function accessOf(ctx: AppContext, oci: OciServices, request: FastifyRequest, reply: FastifyReply): Promise<undefined> {
  const { prefix, repoKey, query, t } = await prepare(ctx, request);
  const method = request.method;
  if (method === 'GET' || method === 'HEAD' || !('name' in t)) return undefined;
  const call = await callFor(ctx, oci, request, reply, prefix, repoKey, t.name, query);
  if (call.repo.rclass === 'remote') return undefined; // read-only: the handler refuses
  const target = call.repo.rclass === 'virtual' ? { ...call, repo: await oci.virtual.deploymentRepo(call.repo) } : call;
  const w = writePath(target, t.op, 'arg' in t ? t.arg : '', method);
  if (w) await requireImage(call.access, target, w.action, w.path);
  return undefined;
}

async function dispatch(ctx: AppContext, oci: OciServices, request: FastifyRequest, reply: FastifyReply) {
  const { prefix, repoKey, tail, query, t } = await prepare(ctx, request);
  const method = request.method;
  const read = method === 'GET' || method === 'HEAD';
  if (t.op === 'token' && read) return tokenEndpoint(ctx, request, reply);
  if (t.op === 'token' && method === 'POST') return oauthTokenEndpoint(ctx, request, reply, new URLSearchParams((await readBody(request, 64 * 1024)).toString('utf8')));
  if (t.op === 'base' && read) {
    // Callers without credentials are challenged, so clients that have some send them.
    if (!sentCredentials(request)) throw new OciError('UNAUTHORIZED', 'Authentication is required');
    if (request.principal.anonymous && !(await ctx.security.anonymousAccessEnabled())) throw new OciError('UNAUTHORIZED', 'Authentication is required');
    return reply.code(200).type('application/json').send('{}');
  }
  if (t.op === 'catalog' && method === 'GET') return catalog(oci, request, reply, repoKey, query);
  if (!('name' in t)) throw new OciError('UNSUPPORTED', `${method} is not supported on /v2/${tail}`);
  const call = await callFor(ctx, oci, request, reply, prefix, repoKey, t.name, query);
  if (call.repo.rclass !== 'local') return proxyCall(call, t.op, 'arg' in t ? t.arg : '', method);
  switch (t.op) {
    case 'blob':
      if (read) return getBlob(call, t.arg, method === 'HEAD');
      if (method === 'DELETE') return deleteBlob(call, t.arg);
      break;
    case 'upload-start':
      if (method === 'POST') return startUpload(call);
      break;
    case 'upload':
      return uploadSession(call, t.arg, method);
    case 'manifest':
      if (read) return getManifest(call, t.arg, method === 'HEAD');
      if (method === 'PUT') return putManifest(call, t.arg);
      if (method === 'DELETE') return deleteManifest(call, t.arg);
      break;
    case 'tags':
      if (method === 'GET') return listTags(call);
      break;
    case 'referrers':
      if (method === 'GET') return listReferrers(call, t.arg);
      break;
  }
  throw new OciError('UNSUPPORTED', `${method} is not supported on /v2/${tail}`);
}

const METHODS = ['HEAD', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** The registry API plugin: its own body handling (raw streams), authentication and error shape. */
export async function ociRoutes(app: FastifyInstance, ctx: AppContext, oci: OciServices): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  const handler = (request: FastifyRequest, reply: FastifyReply) => dispatch(ctx, oci, request, reply);
  const access = (request: FastifyRequest, reply: FastifyReply) => accessOf(ctx, oci, request, reply);
  // Errors before the handler (the check before the body) carry the registry's header too.
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('Docker-Distribution-API-Version', 'registry/2.0');
  });
  // `public`: the global hook leaves authentication to this plugin (see oci-auth.ts).
  for (const url of ['/v2', '/v2/', '/v2/*', `${API_PREFIX}:repo/v2`, `${API_PREFIX}:repo/v2/`, `${API_PREFIX}:repo/v2/*`]) {
    app.route({ method: [...METHODS], url, config: { public: true, access }, handler });
  }
}
