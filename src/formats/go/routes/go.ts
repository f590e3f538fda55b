import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import { parseRepoPath, type RepoPath } from '../../../core/paths.js';
import type { AppContext } from '../../../http/app-context.js';
import { baseUrl, intentOf } from '../../../http/auth.js';
import type { RepoNeed } from '../../../http/route-access.js';
import { declaredChecksums } from '../../../http/routes/artifacts/artifacts.js';
import { serveBytes, serveFile } from '../../../http/routes/artifacts/artifacts-serve.js';
import { deployedFileJson } from '../../../services/item-info.js';
import { requirePackageType } from '../../../services/serve/serve-service.js';
import type { RepoConfig } from '../../../services/repositories.js';
import { filePath, GO_FILE_EXTS, type GoFileExt } from '../go-files.js';
import { modulePathFromUrl, versionFromUrl } from '../module-path.js';
import type { GoAnswer, GoService } from '../service/go-service.js';

/**
 * The GOPROXY protocol of every Go repository (local, remote, virtual), under
 * `/artifactory/api/go/{repoKey}`:
 * - `GET {module}/@v/list`, `{module}/@v/{version}.info|.mod|.zip`, `{module}/@latest`, module
 *   paths and versions `!`-escaped as the go command sends them;
 * - `PUT {module}/@v/{version}.zip|.mod|.info` (matrix parameters allowed): a deploy as
 *   `jf go-publish` sends it (the module path raw or escaped), checked by the format's
 *   handler before anything is stored.
 * Not found is a 404, bad input a 400, both with a plain text body (the go command prints it).
 */

export const GO_PREFIX = '/artifactory/api/go/';

type Request = { kind: 'list'; module: string } | { kind: 'latest'; module: string } | { kind: 'file'; module: string; version: string; ext: GoFileExt };

function repoPathOf(request: FastifyRequest): RepoPath {
  const url = request.raw.url ?? '';
  return parseRepoPath(url.slice(url.indexOf(GO_PREFIX) + GO_PREFIX.length));
}

function checked<T>(c: { ok: true; value: T } | { ok: false; reason: string }): T {
  if (!c.ok) throw new ArcaError('BAD_REQUEST', c.reason);
  return c.value;
}

/** What a path below the repository asks for; NOT_FOUND for paths outside the protocol. */
function parseRequest(path: string): Request {
  if (path.endsWith('/@latest')) return { kind: 'latest', module: checked(modulePathFromUrl(path.slice(0, -'/@latest'.length))) };
  const at = path.lastIndexOf('/@v/');
  if (at <= 0) throw new ArcaError('NOT_FOUND', `'${path}' is not a GOPROXY path ({module}/@v/list, {module}/@v/{version}.info|.mod|.zip, {module}/@latest)`);
  const module = checked(modulePathFromUrl(path.slice(0, at)));
  const rest = path.slice(at + 4);
  if (rest === 'list') return { kind: 'list', module };
  const dot = rest.lastIndexOf('.');
  const ext = rest.slice(dot + 1) as GoFileExt;
  if (dot <= 0 || !GO_FILE_EXTS.includes(ext)) throw new ArcaError('NOT_FOUND', `'${rest}' is not a GOPROXY file ({version}.info, .mod or .zip)`);
  return { kind: 'file', module, version: checked(versionFromUrl(rest.slice(0, dot))), ext };
}

/** The stored file a GOPROXY URL of a local repository reads (`.info` may also be made by the route, when none was deployed). */
export function storedGoFile(rest: string): string | undefined {
  try {
    const asked = parseRequest(rest);
    return asked.kind === 'file' ? filePath(asked.module, asked.version, asked.ext) : undefined;
  } catch {
    return undefined;
  }
}

const TYPES: Record<GoFileExt, string> = { info: 'application/json', mod: 'text/plain; charset=utf-8', zip: 'application/zip' };

async function serve(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, answer: GoAnswer, head: boolean, type: string) {
  if (answer.kind === 'bytes') return serveBytes(request, reply, answer.path, answer.data, answer.modified, head, type);
  await serveFile(ctx, request, reply, answer.item, head);
  return reply;
}

async function get(ctx: AppContext, go: GoService, request: FastifyRequest, reply: FastifyReply, head: boolean) {
  const rp = repoPathOf(request);
  const { repo, cacheOnly } = await ctx.serve.address(request.access, rp.repoKey, intentOf(request.method));
  requirePackageType(repo, 'go', 'a Go');
  const asked = parseRequest(rp.path);
  const proxy = await go.reader(request.access, repo, cacheOnly);
  if (asked.kind === 'list') {
    const versions = await proxy.list(repo, asked.module);
    const body = Buffer.from(versions.map((v) => `${v}\n`).join(''));
    reply.code(200).type('text/plain; charset=utf-8');
    return head ? reply.header('Content-Length', String(body.length)).send() : reply.send(body);
  }
  if (asked.kind === 'latest') return serve(ctx, request, reply, await proxy.latest(repo, asked.module), head, TYPES.info);
  const answer = await proxy.file(repo, asked.module, asked.version, asked.ext);
  if (!answer) throw new ArcaError('NOT_FOUND', `No ${asked.module}@${asked.version} .${asked.ext} in repository '${repo.key}'`);
  return serve(ctx, request, reply, answer, head, TYPES[asked.ext]);
}

/** Where a deploy goes and its storage path (the module and version escaped, whatever the client sent). */
async function deployTarget(ctx: AppContext, request: FastifyRequest): Promise<{ repo: RepoConfig; path: string; rp: RepoPath }> {
  const rp = repoPathOf(request);
  const repo = await ctx.serve.deployTarget(request.access, rp.repoKey);
  requirePackageType(repo, 'go', 'a Go');
  const asked = parseRequest(rp.path);
  if (asked.kind !== 'file') throw new ArcaError('METHOD_NOT_ALLOWED', `${asked.kind === 'list' ? '@v/list' : '@latest'} is made by the repository; deploy the version's .zip, .mod and .info`);
  return { repo, path: filePath(asked.module, asked.version, asked.ext), rp };
}

async function put(ctx: AppContext, request: FastifyRequest, reply: FastifyReply) {
  const { repo, path, rp } = await deployTarget(ctx, request);
  const access = request.access;
  const abort = new AbortController();
  request.raw.on('close', () => {
    if (!request.raw.complete) abort.abort();
  });
  let result;
  try {
    result = await ctx.packages.deploy.deploy({
      repo,
      path,
      folder: false,
      body: request.raw,
      signal: abort.signal,
      expected: declaredChecksums(request),
      checksumDeploy: false,
      user: access.user,
      properties: {},
      matrix: rp.matrix,
      access,
    });
  } catch (err) {
    if (abort.signal.aborted && !(err instanceof ArcaError && err.code !== 'UPLOAD_ABORTED')) {
      throw new ArcaError('UPLOAD_ABORTED', 'The client aborted the upload; nothing was stored');
    }
    throw err;
  }
  if (result.absorbed) throw new ArcaError('INTERNAL', 'A Go module file was absorbed instead of stored');
  const { item } = result;
  const body = deployedFileJson(await baseUrl(ctx, request), item);
  // jf go-publish reads the stored file's sha256 from this header.
  if (item.sha256) reply.header('X-Checksum-Sha256', item.sha256);
  if (item.sha1) reply.header('X-Checksum-Sha1', item.sha1);
  return reply.code(201).header('Location', body.downloadUri).type('application/json').send(Buffer.from(JSON.stringify(body)));
}

export async function goRoutes(app: FastifyInstance, ctx: AppContext, go: GoService): Promise<void> {
  // Deploy bodies stream into the deploy service as they are, whatever their type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  const access = async (request: FastifyRequest): Promise<RepoNeed> => {
    const { repo, path } = await deployTarget(ctx, request);
    return { repo, action: 'write', path };
  };
  app.put(`${GO_PREFIX}:repoKey/*`, { config: { access } }, (request, reply) => put(ctx, request, reply));
  for (const head of [true, false]) {
    // HEAD first, so Fastify does not derive HEAD routes from the GET handlers.
    const method = head ? app.head.bind(app) : app.get.bind(app);
    method(`${GO_PREFIX}:repoKey/*`, (request, reply) => get(ctx, go, request, reply, head));
  }
}
