import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import { readBounded } from '../../../core/read-bounded.js';
import { BUILD_INFO_MAX_BYTES } from '../../../services/builds/build-info.js';
import type { AppContext } from '../../app-context.js';
import { baseUrl } from '../../auth.js';
import { flagOn, stringParam } from '../storage/params.js';
import { deleteRequest, jsonObject, promotionRequest, retentionRequest } from './build-bodies.js';

/** The most a promotion, delete or retention body may hold. */
const SMALL_BODY = 1024 * 1024;
const JSON_TYPE = 'application/json; charset=utf-8';

const read = (request: FastifyRequest, limit: number, what: string) =>
  readBounded(request.raw, limit, () => new ArcaError('PAYLOAD_TOO_LARGE', `A ${what} body is at most ${limit} bytes`)).then((b) => b.toString('utf8'));

/** A path segment of a build URL (names may hold '/', sent as %2F by the CLI). */
const segment = (s: string) => encodeURIComponent(s);

/**
 * The Build Info REST API (REST-API.md §11; the seed's `/api/build`), over BuildService:
 * publish, list, get (with `diff=` and `started=`), promote, delete (new and old form),
 * retention, and the build-artifacts look-up the CLI's `download --build` tries first.
 * `?project=` is accepted everywhere and means the default project.
 */
export async function buildRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const builds = ctx.builds;
  // Bodies are read by the routes, after the caller's permission is known.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  // Publishing needs deploy (write) permission somewhere in the build-info repository, checked before the body.
  const publishAccess = { access: async () => ({ repo: await builds.repository(), action: 'write' as const }) };
  app.put('/artifactory/api/build', { config: publishAccess }, async (request, reply) => {
    const text = await read(request, BUILD_INFO_MAX_BYTES, 'build info');
    const item = await builds.publish(request.access, text);
    if (item.sha256) reply.header('X-Checksum-Sha256', item.sha256);
    return reply.code(204).send();
  });

  app.get('/artifactory/api/build', async (request, reply) => {
    const base = await baseUrl(ctx, request);
    const names = await builds.names(request.access);
    if (names.length === 0) throw new ArcaError('NOT_FOUND', 'No builds were found');
    return reply.type(JSON_TYPE).send({ builds: names.map((n) => ({ uri: `/${segment(n.name)}`, lastStarted: n.lastStarted })), uri: `${base}/api/build` });
  });

  app.get('/artifactory/api/build/:name', async (request, reply) => {
    const { name } = request.params as { name: string };
    const base = await baseUrl(ctx, request);
    const runs = await builds.runs(request.access, name);
    return reply.type(JSON_TYPE).send({
      buildsNumbers: runs.map((r) => ({ uri: `/${segment(r.number)}`, started: r.started })),
      uri: `${base}/api/build/${segment(name)}`,
    });
  });

  app.get('/artifactory/api/build/:name/:number', async (request, reply) => {
    const { name, number } = request.params as { name: string; number: string };
    const query = (request.query ?? {}) as Record<string, unknown>;
    const diff = stringParam(query, 'diff');
    if (diff !== undefined) return reply.type(JSON_TYPE).send(await builds.diff(request.access, name, number, diff));
    const doc = await builds.get(request.access, name, number, stringParam(query, 'started'));
    const base = await baseUrl(ctx, request);
    return reply.type(JSON_TYPE).send({ buildInfo: doc, uri: `${base}/api/build/${segment(name)}/${segment(number)}` });
  });

  app.post('/artifactory/api/build/promote/:name/:number', { config: { access: 'authenticated' } }, async (request, reply) => {
    const { name, number } = request.params as { name: string; number: string };
    const body = promotionRequest(jsonObject(await read(request, SMALL_BODY, 'promotion'), 'promotion'));
    const result = await ctx.buildPromotion.promote(request.access, name, number, body);
    return reply.code(result.ok ? 200 : 409).type(JSON_TYPE).send({ messages: result.messages });
  });

  app.post('/artifactory/api/build/delete', { config: { access: 'authenticated' } }, async (request, reply) => {
    const body = deleteRequest(jsonObject(await read(request, SMALL_BODY, 'delete'), 'delete'));
    const done = await builds.deleteBuilds(request.access, body);
    return reply.type('text/plain; charset=utf-8').send(`The following builds has been deleted successfully: ${done.map((d) => `'${d}'`).join(', ')}.`);
  });

  // The old form: DELETE /api/build/{name}?buildNumbers=1,2&artifacts=0|1&deleteAll=0|1
  app.delete('/artifactory/api/build/:name', { config: { access: 'authenticated' } }, async (request, reply) => {
    const { name } = request.params as { name: string };
    const query = (request.query ?? {}) as Record<string, unknown>;
    const numbers = (stringParam(query, 'buildNumbers') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    const deleteAll = flagOn(query, 'deleteAll') && stringParam(query, 'deleteAll') !== undefined;
    if (numbers.length === 0 && !deleteAll) throw new ArcaError('BAD_REQUEST', "Name the runs to delete with 'buildNumbers', or give deleteAll=1");
    const done = await builds.deleteBuilds(request.access, { name, numbers, deleteAll, deleteArtifacts: flagOn(query, 'artifacts') && stringParam(query, 'artifacts') !== undefined });
    return reply.type('text/plain; charset=utf-8').send(`The following builds has been deleted successfully: ${done.map((d) => `'${d}'`).join(', ')}.`);
  });

  app.post('/artifactory/api/build/retention/:name', { config: { access: 'authenticated' } }, async (request, reply) => {
    const { name } = request.params as { name: string };
    const query = (request.query ?? {}) as Record<string, unknown>;
    const body = retentionRequest(jsonObject(await read(request, SMALL_BODY, 'retention'), 'retention'));
    const work = builds.retention(request.access, name, body);
    if (flagOn(query, 'async') && stringParam(query, 'async') !== undefined) {
      work.catch((err: unknown) => request.log.warn({ err }, `build retention of '${name}' failed`));
    } else await work;
    return reply.code(204).send();
  });

  // The CLI's `download --build` asks this first (jfrog-client-go artifactoryutils.go GetBuildArtifacts), then falls back to AQL.
  app.get('/artifactory/api/builds/buildArtifacts/:name/:number/:repo', async (request, reply) => {
    const { name, number } = request.params as { name: string; number: string };
    const files = await builds.artifactFiles(request.access, name, number);
    return reply.type(JSON_TYPE).send(files);
  });
}
