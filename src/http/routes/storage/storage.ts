import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import { parseRepoPath } from '../../../core/paths.js';
import type { RepoConfig } from '../../../services/repositories.js';
import type { StorageApiService } from '../../../services/storage-api.js';
import type { AppContext } from '../../app-context.js';
import { baseUrl, intentOf, requireAuthenticated } from '../../auth.js';
import { listPage } from '../../../services/list-page.js';
import { flagDefaultOn, flagOn, nonNegativeInt, parsePropertiesParam, parsePropertyKeys, rawParam, stringParam } from './params.js';

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
  const repo = await ctx.serve.visibility.requireVisible(request.access, rp.repoKey, intentOf(request.method));
  return { repo, path: rp.path, url, query: (request.query ?? {}) as Query };
}

async function get(ctx: AppContext, service: StorageApiService, request: FastifyRequest, reply: FastifyReply) {
  const t = await targetOf(ctx, request);
  const q = t.query;
  if (flagOn(q, 'list')) requireAuthenticated(request);
  const item = await service.open(request.access, t.repo, t.path);
  const base = await baseUrl(ctx, request);

  const page = listPage(nonNegativeInt(q, 'limit'), stringParam(q, 'after'));
  if (flagOn(q, 'list')) {
    const deep = flagOn(q, 'deep');
    const body = await item.fileList(base, {
      deep,
      page,
      depth: nonNegativeInt(q, 'depth'),
      listFolders: flagOn(q, 'listFolders'),
      mdTimestamps: flagOn(q, 'mdTimestamps'),
      includeRootPath: flagOn(q, 'includeRootPath'),
    });
    return reply.type(TYPES.list).send(body);
  }
  if ('properties' in q) {
    const raw = rawParam(t.url, 'properties') ?? '';
    const keys = raw === '' ? undefined : parsePropertyKeys(raw);
    return reply.type(TYPES.properties).send(await item.properties(base, keys));
  }
  if ('lastModified' in q) return reply.type(TYPES.lastModified).send(await item.lastModified(base));
  for (const flag of ['stats', 'propertiesXml']) {
    // Download statistics are not tracked and XML properties are not offered: say so rather than answer item info.
    if (flag in q) throw new ArcaError('NOT_IMPLEMENTED', `The '${flag}' storage query is not supported`);
  }
  if ('permissions' in q) {
    requireAuthenticated(request);
    return reply.type(TYPES.permissions).send(await item.permissions(base));
  }
  const info = await item.info(base, page);
  return reply.type(info.folder ? TYPES.folder : TYPES.file).send(info.body);
}

async function put(ctx: AppContext, service: StorageApiService, request: FastifyRequest, reply: FastifyReply) {
  const t = await targetOf(ctx, request);
  const raw = rawParam(t.url, 'properties');
  if (raw === undefined) throw new ArcaError('BAD_REQUEST', "Query parameter 'properties' is required (properties=k1=v1,v2;k2=v3)");
  const props = parsePropertiesParam(raw);
  const recursive = flagDefaultOn(t.query, 'recursive');
  await service.setProperties(request.access, t.repo, t.path, props, recursive);
  return reply.code(204).send();
}

async function del(ctx: AppContext, service: StorageApiService, request: FastifyRequest, reply: FastifyReply) {
  const t = await targetOf(ctx, request);
  const raw = rawParam(t.url, 'properties');
  if (raw === undefined) throw new ArcaError('BAD_REQUEST', "Query parameter 'properties' is required (properties=k1,k2)");
  const keys = parsePropertyKeys(raw);
  if (keys.length === 0) throw new ArcaError('BAD_REQUEST', "Query parameter 'properties' must name at least one key");
  const recursive = flagDefaultOn(t.query, 'recursive');
  await service.deleteProperties(request.access, t.repo, t.path, keys, recursive);
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
