import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import { checkSegment } from '../../../core/paths.js';
import type { AppContext } from '../../../http/app-context.js';
import { intentOf } from '../../../http/auth.js';
import { header, serveFile } from '../../../http/routes/artifacts/artifacts-serve.js';
import type { RepoConfig } from '../../../services/repositories.js';
import { isNormalizedProjectName, isValidProjectName, normalizeProjectName } from '../names.js';
import { ACCEPTED_TYPES, negotiate, representationOf, type Representation } from '../negotiate.js';
import { projectHtml, projectJson, rootHtml, rootJson } from '../simple-index.js';
import { pypiUpload } from './pypi-upload.js';
import type { PypiService } from '../service/pypi-service.js';

/**
 * The PyPI API of every PyPI repository (local, remote, virtual), under
 * `/artifactory/api/pypi/{repoKey}`:
 * - `simple/` and `simple/{project}/`: PEP 503 HTML or PEP 691 JSON by content negotiation
 *   (`Accept` with q-values, or `?format=`; 406 when neither is acceptable), names that are
 *   not normalised redirected to the normalised URL;
 * - `packages/{project}/{version}/{file}` (and `{file}.metadata`, PEP 658): the files;
 * - `POST` to the repository URL: the legacy upload API (see pypi-upload.ts).
 * Errors are plain text, with the message also as the status line's reason phrase, which is
 * what pip and twine print.
 */

export const PYPI_PREFIX = '/artifactory/api/pypi/';
const PREFIX = `${PYPI_PREFIX}:repoKey`;

interface RepoParams {
  repoKey: string;
}

function pypiRepo(ctx: AppContext, request: FastifyRequest, key: string): Promise<{ repo: RepoConfig; cacheOnly: boolean }> {
  return ctx.serve.addressFormat(request.access, key, intentOf(request.method), 'pypi', 'a PyPI');
}

/** The representation the client asked for, or a 406 answer (then undefined). */
function choose(request: FastifyRequest, reply: FastifyReply): Representation | undefined {
  const format = (request.query as Record<string, unknown>).format;
  const rep = typeof format === 'string' ? representationOf(format) : negotiate(header(request, 'accept'));
  if (rep) return rep;
  void reply
    .code(406)
    .type('text/plain; charset=utf-8')
    .send(`None of the requested content types is available; this index serves: ${ACCEPTED_TYPES.join(', ')}\n`);
  return undefined;
}

function sendPage(reply: FastifyReply, rep: Representation, body: string, head: boolean) {
  reply.code(200).header('Vary', 'Accept').type(rep.format === 'html' ? `${rep.contentType}; charset=utf-8` : rep.contentType);
  if (head) return reply.header('Content-Length', String(Buffer.byteLength(body))).send();
  // A Buffer, so the JSON type goes out as it is (Fastify adds a charset to strings).
  return reply.send(Buffer.from(body));
}

async function rootIndex(ctx: AppContext, pypi: PypiService, request: FastifyRequest<{ Params: RepoParams }>, reply: FastifyReply, head: boolean) {
  const { repo, cacheOnly } = await pypiRepo(ctx, request, request.params.repoKey);
  const pages = await pypi.reader(request.access, repo, cacheOnly);
  const rep = choose(request, reply);
  if (!rep) return reply;
  const names = await pages.projectNames(repo);
  return sendPage(reply, rep, rep.format === 'json' ? rootJson(names) : rootHtml(names), head);
}

async function project(ctx: AppContext, pypi: PypiService, request: FastifyRequest<{ Params: RepoParams & { project: string } }>, reply: FastifyReply, head: boolean) {
  const { repo, cacheOnly } = await pypiRepo(ctx, request, request.params.repoKey);
  const name = request.params.project;
  if (!isValidProjectName(name)) throw new ArcaError('NOT_FOUND', `'${name}' is not a valid project name`);
  const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
  const slash = request.url.split('?')[0].endsWith('/');
  if (!slash || !isNormalizedProjectName(name)) {
    // Relative, so it stays right behind proxies: `Foo_Bar/` → `../foo-bar/`, `Foo_Bar` → `foo-bar/`.
    const target = `${slash ? '../' : ''}${normalizeProjectName(name)}/${query}`;
    return reply.redirect(target, 301);
  }
  const pages = await pypi.reader(request.access, repo, cacheOnly);
  const rep = choose(request, reply);
  if (!rep) return reply;
  const page = await pages.projectPage(repo, name);
  return sendPage(reply, rep, rep.format === 'json' ? projectJson(page) : projectHtml(page), head);
}

async function download(ctx: AppContext, pypi: PypiService, request: FastifyRequest<{ Params: RepoParams & { '*': string } }>, reply: FastifyReply, head: boolean) {
  const { repo, cacheOnly } = await pypiRepo(ctx, request, request.params.repoKey);
  const path = request.params['*'].split('/').filter((s) => s !== '');
  for (const segment of path) checkSegment(segment);
  const item = await pypi.packageFile(request.access, repo, cacheOnly, path);
  return serveFile(ctx, request, reply, item, head);
}

export async function pypiRoutes(app: FastifyInstance, ctx: AppContext, pypi: PypiService): Promise<void> {
  // Upload bodies are read as a stream by the upload handler, whatever their type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  const upload = async (request: FastifyRequest<{ Params: RepoParams }>, reply: FastifyReply) => {
    const { repo, cacheOnly } = await pypiRepo(ctx, request, request.params.repoKey);
    return pypiUpload(ctx, pypi, request, reply, repo, cacheOnly);
  };
  // The file's path is in the form: before it is read, the caller must be able to write somewhere in the target.
  const config = {
    access: async (request: FastifyRequest) => {
      const { repo, cacheOnly } = await pypiRepo(ctx, request, (request.params as RepoParams).repoKey);
      return { repo: await pypi.uploadTarget(repo, cacheOnly), action: 'write' as const };
    },
  };
  app.post(PREFIX, { config }, upload);
  app.post(`${PREFIX}/`, { config }, upload);

  for (const head of [true, false]) {
    // HEAD first, so Fastify does not derive HEAD routes from the GET handlers.
    const method = head ? app.head.bind(app) : app.get.bind(app);
    method(`${PREFIX}/simple`, (_request, reply) => reply.redirect('simple/', 301));
    method<{ Params: RepoParams }>(`${PREFIX}/simple/`, (request, reply) => rootIndex(ctx, pypi, request, reply, head));
    method<{ Params: RepoParams & { project: string } }>(`${PREFIX}/simple/:project`, (request, reply) => project(ctx, pypi, request, reply, head));
    method<{ Params: RepoParams & { project: string } }>(`${PREFIX}/simple/:project/`, (request, reply) => project(ctx, pypi, request, reply, head));
    method<{ Params: RepoParams & { '*': string } }>(`${PREFIX}/packages/*`, (request, reply) => download(ctx, pypi, request, reply, head));
  }
}
