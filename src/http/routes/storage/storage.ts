import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import { parseRepoPath } from '../../../core/paths.js';
import type { RepoConfig } from '../../../services/repositories.js';
import type { StorageApiService } from '../../../services/storage-api.js';
import type { AppContext } from '../../app-context.js';
import { baseUrl, intentOf, requireAuthenticated } from '../../auth.js';
import { listPage } from '../../../services/list-page.js';
import { storageUri } from '../../../services/item-info.js';
import { readBounded } from '../../../core/read-bounded.js';
import { detailedChildren } from '../../../services/child-details.js';
import type { MergedChild } from '../../../services/virtual-storage.js';
import { flagDefaultOn, flagOn, nonNegativeInt, parsePropertiesParam, parsePropertyKeys, rawParam, stringParam } from './params.js';

const PREFIX = '/artifactory/api/storage/';
const METADATA_PREFIX = '/artifactory/api/metadata/';
/** A metadata patch is a small JSON object of properties. */
const METADATA_MAX_BYTES = 1024 * 1024;
const MEDIA = 'application/vnd.org.jfrog.artifactory.storage.';
// With an explicit charset Fastify keeps the media type's case as written.
const TYPES = {
  file: `${MEDIA}FileInfo+json; charset=utf-8`,
  folder: `${MEDIA}FolderInfo+json; charset=utf-8`,
  list: `${MEDIA}FileList+json; charset=utf-8`,
  lastModified: `${MEDIA}ItemLastModified+json; charset=utf-8`,
  properties: `${MEDIA}ItemProperties+json; charset=utf-8`,
  permissions: `${MEDIA}ItemPermissions+json; charset=utf-8`,
  stats: `${MEDIA}StatsInfo+json; charset=utf-8`,
};

type Query = Record<string, unknown>;

interface Target {
  repo: RepoConfig;
  path: string;
  url: string;
  query: Query;
}

async function targetOf(ctx: AppContext, request: FastifyRequest, prefix = PREFIX): Promise<Target> {
  const url = request.raw.url ?? '';
  const start = url.indexOf(prefix);
  const rp = parseRepoPath(url.slice(start + prefix.length));
  const repo = await ctx.serve.visibility.requireVisible(request.access, rp.repoKey, intentOf(request.method));
  return { repo, path: rp.path, url, query: (request.query ?? {}) as Query };
}

/** The queries about one item that a virtual repository answers from the member holding it. */
const MEMBER_QUERIES = ['properties', 'stats', 'permissions', 'lastModified'];

async function get(ctx: AppContext, service: StorageApiService, request: FastifyRequest, reply: FastifyReply) {
  const t = await targetOf(ctx, request);
  const q = t.query;
  if (flagOn(q, 'list')) requireAuthenticated(request);
  const base = await baseUrl(ctx, request);
  const page = listPage(nonNegativeInt(q, 'limit'), stringParam(q, 'after'));
  // `details=1` (Arca's own, for the web UI): each child of a page with its size, dates and download count.
  const details = flagOn(q, 'details');
  if (details && !page) throw new ArcaError('BAD_REQUEST', "Query parameter 'details' needs 'limit' (one page of children)");
  if (t.repo.rclass === 'virtual' && !flagOn(q, 'list')) {
    const virtual = service.virtualStorage(ctx.serve.virtual);
    if (t.path !== '' && MEMBER_QUERIES.some((k) => k in q)) {
      const hit = await virtual.memberOf(request.access, t.repo, t.path);
      if (!hit) throw new ArcaError('ITEM_NOT_FOUND', `Unable to find item '${t.repo.key}/${t.path}'`);
      t.repo = hit.member;
    } else if (!MEMBER_QUERIES.some((k) => k in q)) {
      const decorate = details ? (rows: MergedChild[]) => detailedChildren(ctx.downloadStats, rows.map((c) => ({ row: c.row, member: c.member, members: c.members }))) : undefined;
      const info = await virtual.info(request.access, t.repo, t.path, base, page, decorate);
      return reply.type(info.folder ? TYPES.folder : TYPES.file).send(info.body);
    }
  }
  const item = await service.open(request.access, t.repo, t.path);

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
    // `allowEmpty=1` (Arca's own, for the web UI): no properties answer `{"properties":{}}`, not a 404.
    return reply.type(TYPES.properties).send(await item.properties(base, keys, flagOn(q, 'allowEmpty')));
  }
  if ('lastModified' in q) return reply.type(TYPES.lastModified).send(await item.lastModified(base));
  if ('stats' in q) {
    // Counted per process and added to the database once a second (services/download-stats.ts).
    const id = await item.itemId();
    const s = id === undefined ? undefined : (await ctx.downloadStats.of([id])).get(id);
    return reply.type(TYPES.stats).send({
      uri: storageUri(base, t.repo.key, t.path),
      downloadCount: s?.downloads ?? 0,
      lastDownloaded: s?.lastDownloaded ?? 0,
      lastDownloadedBy: s?.lastDownloadedBy ?? null,
      remoteDownloadCount: s?.remoteDownloads ?? 0,
      remoteLastDownloaded: s?.remoteLastDownloaded ?? 0,
    });
  }
  // XML properties are not offered: say so rather than answer item info.
  if ('propertiesXml' in q) throw new ArcaError('NOT_IMPLEMENTED', "The 'propertiesXml' storage query is not supported");
  if ('permissions' in q) {
    requireAuthenticated(request);
    return reply.type(TYPES.permissions).send(await item.permissions(base));
  }
  const info = await item.info(base, page, details ? (rows) => detailedChildren(ctx.downloadStats, rows.map((row) => ({ row }))) : undefined);
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

/**
 * `PATCH /api/metadata/{repo}/{path}[?recursiveProperties=0|1]` with
 * `{"props":{"k":"v","k2":["v1","v2"],"gone":null}}`: a JSON merge of the item's properties
 * (a string or a list replaces the key's values, null removes the key), on a folder's content
 * too unless `recursiveProperties=0`. Annotate permission, checked before the body is read.
 */
async function patchMetadata(ctx: AppContext, service: StorageApiService, request: FastifyRequest, reply: FastifyReply) {
  const t = await targetOf(ctx, request, METADATA_PREFIX);
  const text = (await readBounded(request.raw, METADATA_MAX_BYTES, () => new ArcaError('PAYLOAD_TOO_LARGE', `A metadata patch is at most ${METADATA_MAX_BYTES} bytes`))).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ArcaError('BAD_REQUEST', 'The body must be JSON: {"props":{"key":"value"}}');
  }
  const props = (body as { props?: unknown } | null)?.props;
  if (typeof props !== 'object' || props === null || Array.isArray(props)) throw new ArcaError('BAD_REQUEST', 'The body must be {"props":{"key":"value" | ["v1","v2"] | null}}');
  const set: Record<string, string[]> = {};
  const remove: string[] = [];
  for (const [key, value] of Object.entries(props)) {
    if (key.trim() === '') throw new ArcaError('BAD_REQUEST', 'A property key cannot be empty');
    if (value === null) remove.push(key);
    else if (typeof value === 'string') set[key] = [value];
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) set[key] = value as string[];
    else throw new ArcaError('BAD_REQUEST', `The value of property '${key}' must be a string, a list of strings or null`);
  }
  const recursive = flagDefaultOn(t.query, 'recursiveProperties');
  if (Object.keys(set).length > 0) await service.setProperties(request.access, t.repo, t.path, set, recursive);
  if (remove.length > 0) await service.deleteProperties(request.access, t.repo, t.path, remove, recursive);
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
  const metadataConfig = {
    access: async (request: FastifyRequest) => {
      const t = await targetOf(ctx, request, METADATA_PREFIX);
      return { repo: t.repo, action: 'annotate' as const, path: t.path };
    },
  };
  app.patch('/artifactory/api/metadata/*', { config: metadataConfig }, (request, reply) => patchMetadata(ctx, service, request, reply));
  for (const url of ['/artifactory/api/storage/:repo', '/artifactory/api/storage/*']) {
    app.get(url, (request, reply) => get(ctx, service, request, reply));
    app.put(url, { config }, (request, reply) => put(ctx, service, request, reply));
    app.delete(url, { config }, (request, reply) => del(ctx, service, request, reply));
  }
}
