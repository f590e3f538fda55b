import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import { parseRepoPath } from '../../../core/paths.js';
import type { Action } from '../../../security/types.js';
import { storageUri } from '../../../services/item-info.js';
import type { RepoConfig } from '../../../services/repositories.js';
import type { AccessCheck, StorageApiService } from '../../../services/storage-api.js';
import type { AppContext } from '../../app-context.js';
import { intentOf, requireVisibleRepo } from '../../visible-repo.js';
import { baseUrl, deny, requireAuthenticated, requireRepoAction } from '../../auth.js';
import { flagDefaultOn, flagOn, nonNegativeInt, parsePropertiesParam, parsePropertyKeys, rawParam } from './params.js';

const PREFIX = '/artifactory/api/storage/';
const MEDIA = 'application/vnd.org.jfrog.artifactory.storage.';
// With an explicit charset Fastify keeps the media type's case as written.
const TYPES = {
  file: `${MEDIA}FileInfo+json; charset=utf-8`,
  folder: `${MEDIA}FolderInfo+json; charset=utf-8`,
  list: `${MEDIA}FileList+json; charset=utf-8`,
  lastModified: `${MEDIA}ItemLastModified+json; charset=utf-8`,
  properties: `${MEDIA}ItemProperties+json; charset=utf-8`,
  permissions: `${MEDIA}ItemPermissions+json; charset=utf-8`,
};

/** Action letters of the v1 permission JSON, in Artifactory's order. */
const LETTERS: Array<[Action, string]> = [
  ['read', 'r'],
  ['annotate', 'n'],
  ['write', 'w'],
  ['delete', 'd'],
  ['manage', 'm'],
];

type Query = Record<string, unknown>;

interface Target {
  repo: RepoConfig;
  path: string;
  url: string;
  query: Query;
}

async function targetOf(ctx: AppContext, request: FastifyRequest): Promise<Target> {
  const url = request.raw.url ?? '';
  const start = url.indexOf(PREFIX);
  const rp = parseRepoPath(url.slice(start + PREFIX.length));
  const repo = await requireVisibleRepo(ctx, request.principal, rp.repoKey, intentOf(request.method));
  return { repo, path: rp.path, url, query: (request.query ?? {}) as Query };
}

function accessCheck(ctx: AppContext, request: FastifyRequest): AccessCheck {
  return (action, repo, path) => ctx.security.canAccess(request.principal, action, repo, path);
}

/** Read access to a path; the repository root needs read access to something in the repository. */
async function requireRead(ctx: AppContext, request: FastifyRequest, t: Target): Promise<void> {
  if (t.path === '') {
    if (await ctx.security.canReadAny(request.principal, t.repo)) return;
    await deny(ctx, request.principal, `read '${t.repo.key}'`);
  }
  await requireRepoAction(ctx, request, 'read', t.repo, t.path);
}

/**
 * Annotate access to the target itself (for the root, to the path ''); a recursive change
 * then skips whatever below it the caller may not annotate.
 */
async function requireAnnotate(ctx: AppContext, request: FastifyRequest, t: Target): Promise<void> {
  await requireRepoAction(ctx, request, 'annotate', t.repo, t.path);
}

async function permissions(ctx: AppContext, request: FastifyRequest, t: Target, base: string) {
  const letters: string[] = [];
  for (const [action, letter] of LETTERS) {
    if (await ctx.security.canAccess(request.principal, action, t.repo, t.path)) letters.push(letter);
  }
  return {
    uri: storageUri(base, t.repo.key, t.path),
    principals: { users: { [request.principal.name]: letters }, groups: {} as Record<string, string[]> },
  };
}

async function get(ctx: AppContext, service: StorageApiService, request: FastifyRequest, reply: FastifyReply) {
  const t = await targetOf(ctx, request);
  const q = t.query;
  const can = accessCheck(ctx, request);
  if (flagOn(q, 'list')) requireAuthenticated(request);
  await requireRead(ctx, request, t);
  const base = await baseUrl(ctx, request);

  if (flagOn(q, 'list')) {
    const deep = flagOn(q, 'deep');
    const body = await service.fileList(
      base,
      t.repo,
      t.path,
      {
        deep,
        depth: nonNegativeInt(q, 'depth'),
        listFolders: flagOn(q, 'listFolders'),
        mdTimestamps: flagOn(q, 'mdTimestamps'),
        includeRootPath: flagOn(q, 'includeRootPath'),
      },
      can,
    );
    return reply.type(TYPES.list).send(body);
  }
  if ('properties' in q) {
    const raw = rawParam(t.url, 'properties') ?? '';
    const keys = raw === '' ? undefined : parsePropertyKeys(raw);
    return reply.type(TYPES.properties).send(await service.properties(base, t.repo, t.path, keys));
  }
  if ('lastModified' in q) return reply.type(TYPES.lastModified).send(await service.lastModified(base, t.repo, t.path, can));
  for (const flag of ['stats', 'propertiesXml']) {
    // Download statistics are not tracked and XML properties are not offered: say so rather than answer item info.
    if (flag in q) throw new ArcaError('NOT_IMPLEMENTED', `The '${flag}' storage query is not supported`);
  }
  if ('permissions' in q) {
    requireAuthenticated(request);
    await service.locate(t.repo, t.path);
    return reply.type(TYPES.permissions).send(await permissions(ctx, request, t, base));
  }
  const info = await service.info(base, t.repo, t.path, can);
  return reply.type(info.folder ? TYPES.folder : TYPES.file).send(info.body);
}

async function put(ctx: AppContext, service: StorageApiService, request: FastifyRequest, reply: FastifyReply) {
  const t = await targetOf(ctx, request);
  const raw = rawParam(t.url, 'properties');
  if (raw === undefined) throw new ArcaError('BAD_REQUEST', "Query parameter 'properties' is required (properties=k1=v1,v2;k2=v3)");
  const props = parsePropertiesParam(raw);
  const recursive = flagDefaultOn(t.query, 'recursive');
  await requireAnnotate(ctx, request, t);
  await service.setProperties(t.repo, t.path, props, recursive, accessCheck(ctx, request));
  return reply.code(204).send();
}

async function del(ctx: AppContext, service: StorageApiService, request: FastifyRequest, reply: FastifyReply) {
  const t = await targetOf(ctx, request);
  const raw = rawParam(t.url, 'properties');
  if (raw === undefined) throw new ArcaError('BAD_REQUEST', "Query parameter 'properties' is required (properties=k1,k2)");
  const keys = parsePropertyKeys(raw);
  if (keys.length === 0) throw new ArcaError('BAD_REQUEST', "Query parameter 'properties' must name at least one key");
  const recursive = flagDefaultOn(t.query, 'recursive');
  await requireAnnotate(ctx, request, t);
  await service.deleteProperties(t.repo, t.path, keys, recursive, accessCheck(ctx, request));
  return reply.code(204).send();
}

/** `/artifactory/api/storage/{repo}/{path}`: item info, lists and properties (REST-API.md §2). */
export async function storageRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const service = ctx.storageApi;
  // Property changes carry everything in the query; whatever body a client sends is not read
  // (after the answer, at most a little of it is dropped before the connection closes: unread-body.ts).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  // Property changes need annotate on the path, checked before any body is read (route-access.ts).
  const config = {
    access: async (request: FastifyRequest) => {
      const t = await targetOf(ctx, request);
      return { repo: t.repo, action: 'annotate' as const, path: t.path };
    },
  };
  for (const url of ['/artifactory/api/storage/:repo', '/artifactory/api/storage/*']) {
    app.get(url, (request, reply) => get(ctx, service, request, reply));
    app.put(url, { config }, (request, reply) => put(ctx, service, request, reply));
    app.delete(url, { config }, (request, reply) => del(ctx, service, request, reply));
  }
}
