import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import { readBounded } from '../../../core/read-bounded.js';
import type { AppContext } from '../../../http/app-context.js';
import { baseUrl, intentOf } from '../../../http/auth.js';
import { header, serveFile } from '../../../http/routes/artifacts/artifacts-serve.js';
import type { RepoConfig } from '../../../services/repositories.js';
import { crateNameProblem, crateOfIndexPath, cratePath, parseVersion } from '../names.js';
import { MAX_PUBLISH_BYTES } from '../publish.js';
import type { CargoService } from '../service/cargo-service.js';

/**
 * The sparse registry protocol of every Cargo repository (local, remote, virtual), under
 * `/artifactory/api/cargo/{repoKey}` (cargo's `index = "sparse+{that}/index/"`):
 * - `index/config.json` (`dl`, `api`, `auth-required`) and `index/{prefix}/{name}`;
 * - `v1/crates/{name}/{version}/download`: the `dl` of config.json;
 * - the web API below `api/v1/crates` (the `api` of config.json + `/api/v1/…`): publish,
 *   yank, unyank and search.
 * Errors are cargo's `{"errors":[{"detail":"…"}]}`.
 */

export const CARGO_PREFIX = '/artifactory/api/cargo/';
const PREFIX = `${CARGO_PREFIX}:repoKey`;

interface RepoParams {
  repoKey: string;
}
type VersionParams = RepoParams & { name: string; version: string };

function cargoRepo(ctx: AppContext, request: FastifyRequest, key: string): Promise<{ repo: RepoConfig; cacheOnly: boolean }> {
  return ctx.serve.addressFormat(request.access, key, intentOf(request.method), 'cargo', 'a Cargo');
}

/** Sends a generated text with an ETag, or 304 when the client holds it already (cargo revalidates index files). */
function sendText(request: FastifyRequest, reply: FastifyReply, body: Buffer, type: string, head: boolean) {
  const etag = `"${createHash('sha1').update(body).digest('hex')}"`;
  reply.header('ETag', etag).header('Cache-Control', 'no-cache');
  if (header(request, 'if-none-match')?.split(',').some((t) => t.trim() === etag)) return reply.code(304).send();
  reply.code(200).type(type).header('Content-Length', String(body.length));
  return head ? reply.send() : reply.send(body);
}

async function config(ctx: AppContext, cargo: CargoService, request: FastifyRequest<{ Params: RepoParams }>, reply: FastifyReply, head: boolean) {
  const { repo } = await cargoRepo(ctx, request, request.params.repoKey);
  await cargo.requireReader(request.access, repo);
  const api = `${await baseUrl(ctx, request)}/api/cargo/${encodeURIComponent(repo.key)}`;
  // An anonymous caller only gets here when anonymous access is on and may read the repository.
  const authRequired = !request.principal.anonymous || !(await ctx.security.anonymousAccessEnabled());
  const body = Buffer.from(JSON.stringify({ dl: `${api}/v1/crates`, api, 'auth-required': authRequired }));
  return sendText(request, reply, body, 'application/json', head);
}

async function indexFile(ctx: AppContext, cargo: CargoService, request: FastifyRequest<{ Params: RepoParams & { '*': string } }>, reply: FastifyReply, head: boolean) {
  const { repo, cacheOnly } = await cargoRepo(ctx, request, request.params.repoKey);
  const name = crateOfIndexPath(request.params['*']);
  if (name === undefined) throw new ArcaError('NOT_FOUND', `'${request.params['*']}' is not an index file of the sparse layout`);
  const lines = await cargo.indexLines(request.access, repo, cacheOnly, name);
  if (!lines || lines.length === 0) throw new ArcaError('NOT_FOUND', `No crate '${name}' in repository '${repo.key}'`);
  return sendText(request, reply, Buffer.from(lines.map((l) => `${JSON.stringify(l)}\n`).join('')), 'text/plain; charset=utf-8', head);
}

async function download(ctx: AppContext, cargo: CargoService, request: FastifyRequest<{ Params: VersionParams }>, reply: FastifyReply, head: boolean) {
  const { repo, cacheOnly } = await cargoRepo(ctx, request, request.params.repoKey);
  const item = await cargo.crate(request.access, repo, cacheOnly, request.params.name, request.params.version);
  return serveFile(ctx, request, reply, item, head);
}

export async function cargoRoutes(app: FastifyInstance, ctx: AppContext, cargo: CargoService): Promise<void> {
  // A publish body is binary, read here within its bound, whatever its declared type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  for (const head of [true, false]) {
    // HEAD first, so Fastify does not derive HEAD routes from the GET handlers.
    const method = head ? app.head.bind(app) : app.get.bind(app);
    method<{ Params: RepoParams }>(`${PREFIX}/index/config.json`, (request, reply) => config(ctx, cargo, request, reply, head));
    method<{ Params: RepoParams & { '*': string } }>(`${PREFIX}/index/*`, (request, reply) => indexFile(ctx, cargo, request, reply, head));
    method<{ Params: VersionParams }>(`${PREFIX}/v1/crates/:name/:version/download`, (request, reply) => download(ctx, cargo, request, reply, head));
  }

  // Before a body is read, the caller must be able to write somewhere in the target repository.
  const writeConfig = {
    access: async (request: FastifyRequest) => {
      const { repo, cacheOnly } = await cargoRepo(ctx, request, (request.params as RepoParams).repoKey);
      return { repo: await cargo.uploadTarget(repo, cacheOnly), action: 'write' as const };
    },
  };

  app.put<{ Params: RepoParams }>(`${PREFIX}/api/v1/crates/new`, { config: writeConfig }, async (request, reply) => {
    const { repo, cacheOnly } = await cargoRepo(ctx, request, request.params.repoKey);
    const declared = Number(header(request, 'content-length') ?? '0');
    if (declared > MAX_PUBLISH_BYTES) throw new ArcaError('PAYLOAD_TOO_LARGE', `The publish body is larger than ${MAX_PUBLISH_BYTES} bytes`);
    let body: Buffer;
    try {
      body = await readBounded(request.raw, MAX_PUBLISH_BYTES, () => new ArcaError('PAYLOAD_TOO_LARGE', `The publish body is larger than ${MAX_PUBLISH_BYTES} bytes`));
    } catch (err) {
      if (!(err instanceof ArcaError) && !request.raw.complete) throw new ArcaError('UPLOAD_ABORTED', 'The client aborted the publish; nothing was stored');
      throw err;
    }
    await cargo.publish(request.access, repo, cacheOnly, body);
    return reply.code(200).send({ warnings: { invalid_categories: [], invalid_badges: [], other: [] } });
  });

  const yank = (yanked: boolean) => async (request: FastifyRequest<{ Params: VersionParams }>, reply: FastifyReply) => {
    const { repo, cacheOnly } = await cargoRepo(ctx, request, request.params.repoKey);
    await cargo.setYanked(request.access, repo, cacheOnly, request.params.name, request.params.version, yanked);
    return reply.code(200).send({ ok: true });
  };
  // A yank changes the version's record: the caller needs delete permission on the crate.
  const yankConfig = {
    access: async (request: FastifyRequest) => {
      const { repoKey, name, version } = request.params as VersionParams;
      const { repo, cacheOnly } = await cargoRepo(ctx, request, repoKey);
      const path = crateNameProblem(name) === undefined && parseVersion(version) ? cratePath(name, version) : undefined;
      return { repo: await cargo.uploadTarget(repo, cacheOnly), action: 'delete' as const, path };
    },
  };
  app.delete<{ Params: VersionParams }>(`${PREFIX}/api/v1/crates/:name/:version/yank`, { config: yankConfig }, yank(true));
  app.put<{ Params: VersionParams }>(`${PREFIX}/api/v1/crates/:name/:version/unyank`, { config: yankConfig }, yank(false));

  app.get<{ Params: RepoParams; Querystring: Record<string, string | undefined> }>(`${PREFIX}/api/v1/crates`, async (request, reply) => {
    const { repo } = await cargoRepo(ctx, request, request.params.repoKey);
    const perPage = Math.min(100, Math.max(1, Number.parseInt(request.query.per_page ?? '10', 10) || 10));
    const { crates, total } = await cargo.search(request.access, repo, request.query.q ?? '', perPage);
    return reply.code(200).send({ crates, meta: { total } });
  });
}
