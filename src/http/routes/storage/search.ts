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
import { ArcaError } from '../../../core/errors.js';
import { readBounded } from '../../../core/read-bounded.js';
import { formDecode, rawQuery } from './params.js';

const MEDIA = 'application/vnd.org.jfrog.artifactory.search.';
/** The longest AQL text taken: the CLI's largest queries (many patterns and exclusions) are a few KiB. */
const AQL_MAX_BYTES = 256 * 1024;

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

/** `/artifactory/api/search/{artifact,checksum,prop,aql}` (REST-API.md §4). Authentication required. */
export async function searchRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const service = ctx.search;
  // The AQL text is read by its route, after the caller is known to be authenticated.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  app.post('/artifactory/api/search/aql', { config: { access: 'authenticated' } }, async (request, reply) => {
    const body = await readBounded(request.raw, AQL_MAX_BYTES, () => new ArcaError('PAYLOAD_TOO_LARGE', `An AQL query is at most ${AQL_MAX_BYTES} bytes`));
    const answer = await ctx.aql.run(request.access, body.toString('utf8'));
    return reply.type('application/json; charset=utf-8').send(answer);
  });

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
