import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  artifactNamePattern,
  checksumCriteria,
  parseResultDetail,
  propertyCriteria,
  reposParam,
  type SearchScope,
} from '../../../services/search.js';
import type { AppContext } from '../../app-context.js';
import { baseUrl, requireAuthenticated } from '../../auth.js';
import { formDecode, rawQuery } from './params.js';

const MEDIA = 'application/vnd.org.jfrog.artifactory.search.';

function first(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  return String(Array.isArray(v) ? v[0] : v);
}

/** What to search in (`repos`, or all repositories) and how to answer (`X-Result-Detail`). */
async function searchScope(ctx: AppContext, request: FastifyRequest): Promise<SearchScope> {
  requireAuthenticated(request);
  const query = (request.query ?? {}) as Record<string, unknown>;
  const header = request.headers['x-result-detail'];
  return {
    repos: reposParam(first(query.repos)),
    base: await baseUrl(ctx, request),
    detail: parseResultDetail(Array.isArray(header) ? header.join(',') : header),
  };
}

/** `/artifactory/api/search/{artifact,checksum,prop}` (REST-API.md §4). Authentication required. */
export async function searchRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const service = ctx.search;

  app.get('/artifactory/api/search/artifact', async (request, reply) => {
    const query = (request.query ?? {}) as Record<string, unknown>;
    const scope = await searchScope(ctx, request);
    const pattern = artifactNamePattern(first(query.name));
    return reply.type(`${MEDIA}ArtifactSearchResult+json; charset=utf-8`).send(await service.byName(request.access, scope, pattern));
  });

  app.get('/artifactory/api/search/checksum', async (request, reply) => {
    const query = (request.query ?? {}) as Record<string, unknown>;
    const scope = await searchScope(ctx, request);
    const sums = checksumCriteria({ sha1: first(query.sha1), sha256: first(query.sha256), md5: first(query.md5) });
    return reply.type(`${MEDIA}ChecksumSearchResult+json; charset=utf-8`).send(await service.byChecksum(request.access, scope, sums));
  });

  app.get('/artifactory/api/search/prop', async (request, reply) => {
    const scope = await searchScope(ctx, request);
    const params = rawQuery(request.raw.url ?? '').map(([k, v]): [string, string] => [k, v === undefined ? '' : formDecode(v)]);
    const criteria = propertyCriteria(params);
    return reply.type(`${MEDIA}MetadataSearchResult+json; charset=utf-8`).send(await service.byProperties(request.access, scope, criteria));
  });
}
