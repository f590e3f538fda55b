import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { classifyChecksum, type Checksums } from '../../../core/digests.js';
import { ArcaError } from '../../../core/errors.js';
import { parseRepoPath, type RepoPath } from '../../../core/paths.js';
import { deployedFileJson, deployedFolderJson } from '../../../services/item-info.js';
import type { DeployRequest } from '../../../services/artifacts.js';
import type { AppContext } from '../../app-context.js';
import { baseUrl, intentOf } from '../../auth.js';
import type { RepoNeed } from '../../route-access.js';
import { header, serveFound } from './artifacts-serve.js';
import { folderListingHtml } from './folder-listing.js';
import { addSiteIdHeader, applyReplicatedDelete, applyReplicatedPut, checkReplicationHeaders, isReplicationApply } from './replication-apply.js';

const PREFIX = '/artifactory/';
const ITEM_CREATED = 'application/vnd.org.jfrog.artifactory.storage.ItemCreated+json';

function repoPathOf(request: FastifyRequest): RepoPath {
  const url = request.raw.url ?? '';
  // A replication apply's matrix params are lists (`k=v1,v2`, docs/replication.md).
  const rp = parseRepoPath(url.slice(url.indexOf(PREFIX) + PREFIX.length), { commaLists: isReplicationApply(request) });
  // 'api' is a reserved key (no repository has it): an unknown REST call, not a missing repository.
  if (rp.repoKey === 'api') throw new ArcaError('NOT_FOUND', `No REST API at ${request.method} ${url.split('?')[0]}`);
  return rp;
}

/** Checksums the client declared; the generic `X-Checksum` fills in only a missing specific one. */
export function declaredChecksums(request: FastifyRequest): Partial<Checksums> {
  const out: Partial<Checksums> = {};
  for (const alg of ['sha1', 'sha256', 'md5'] as const) {
    const v = header(request, `x-checksum-${alg}`);
    if (v) out[alg] = v.trim().toLowerCase();
  }
  const generic = header(request, 'x-checksum');
  if (generic) {
    const alg = classifyChecksum(generic);
    if (alg && out[alg] === undefined) out[alg] = generic.trim().toLowerCase();
  }
  return out;
}

async function get(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, head: boolean) {
  const rp = repoPathOf(request);
  const access = request.access;
  const addressed = await ctx.serve.address(access, rp.repoKey, intentOf(request.method));
  // The serve service decides what the caller may read.
  const found = await ctx.serve.read(access, addressed, rp.path, { folder: rp.folder });
  if (found.kind !== 'folder') return serveFound(ctx, request, reply, rp.path, found, head);
  const url = request.raw.url ?? '';
  const pathOnly = url.split('?')[0];
  if (!pathOnly.endsWith('/')) return reply.redirect(`${pathOnly}/`, 302);
  reply.type('text/html; charset=utf-8');
  if (head) return reply.code(200).send();
  return reply.send(folderListingHtml(rp.repoKey, rp.path, found.rows));
}

/**
 * What a deploy or delete needs before its body is read (route-access.ts): a cheap early
 * refusal only. The deploy and delete use cases hold the decision (FormatDeployService.deploy
 * and .delete) and make it again with the caller's Access.
 */
async function accessOf(ctx: AppContext, request: FastifyRequest): Promise<RepoNeed | undefined> {
  const rp = repoPathOf(request);
  checkReplicationHeaders(request);
  if (request.method === 'PUT') return { repo: await ctx.serve.deployTarget(request.access, rp.repoKey), action: 'write', path: rp.path };
  if (request.method !== 'DELETE') return undefined;
  const { repo } = await ctx.serve.address(request.access, rp.repoKey, intentOf(request.method));
  // A delete through a virtual repository is refused by the delete itself, whatever the caller may do.
  return repo.rclass === 'virtual' ? undefined : { repo, action: 'delete', path: rp.path };
}

async function put(ctx: AppContext, request: FastifyRequest, reply: FastifyReply) {
  const rp = repoPathOf(request);
  const access = request.access;
  const abort = new AbortController();
  request.raw.on('close', () => {
    if (!request.raw.complete) abort.abort();
  });
  if (isReplicationApply(request)) return clientAbortAware(abort.signal, applyReplicatedPut(ctx, request, reply, rp, abort.signal, declaredChecksums(request)));
  const repo = await ctx.serve.deployTarget(access, rp.repoKey);
  const explode = /^true$/i.test(header(request, 'x-explode-archive') ?? '');
  const atomic = /^true$/i.test(header(request, 'x-explode-archive-atomic') ?? '');
  const req: DeployRequest = {
    repo,
    path: rp.path,
    folder: rp.folder,
    body: request.raw,
    signal: abort.signal,
    expected: declaredChecksums(request),
    checksumDeploy: !(explode || atomic) && /^true$/i.test(header(request, 'x-checksum-deploy') ?? ''),
    user: access.user,
    properties: {},
    matrix: rp.matrix,
    access,
  };
  if (explode || atomic) return putExploded(ctx, request, reply, req, atomic);
  // The deploy decides what the caller may do (write; overwrite; annotate for the matrix properties).
  const result = await clientAbortAware(abort.signal, ctx.packages.deploy.deploy(req));
  const base = await baseUrl(ctx, request);
  if (result.absorbed) {
    // A file the format recorded without storing it (a checksum file): answer with its target.
    const body = result.item ? deployedFileJson(base, result.item) : {};
    return reply.code(201).header('Content-Type', ITEM_CREATED).send(Buffer.from(JSON.stringify(body)));
  }
  if (result.item.type === 'folder') {
    const body = deployedFolderJson(base, result.item);
    return reply.code(201).header('Location', body.uri).header('Content-Type', ITEM_CREATED).send(Buffer.from(JSON.stringify(body)));
  }
  const body = deployedFileJson(base, result.item, !(header(request, 'user-agent') ?? '').includes('ArtifactoryBuildClient/'));
  return reply.code(201).header('Location', body.downloadUri).header('Content-Type', ITEM_CREATED).send(Buffer.from(JSON.stringify(body)));
}

/**
 * A format protocol's plain deploy of the request body at `path` of `repoKey` (its local
 * repository, or a virtual one's default deployment repository), with the format's hooks:
 * answered as the JFrog deploy answers (201, Location, the ItemCreated JSON).
 */
export async function deployRequestBody(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, at: { repoKey: string; path: string; folder?: boolean; matrix?: RepoPath['matrix'] }) {
  const abort = new AbortController();
  request.raw.on('close', () => {
    if (!request.raw.complete) abort.abort();
  });
  const repo = await ctx.serve.deployTarget(request.access, at.repoKey);
  const deploy = ctx.packages.deploy.deploy({
    repo,
    path: at.path,
    folder: at.folder ?? false,
    body: request.raw,
    signal: abort.signal,
    expected: declaredChecksums(request),
    checksumDeploy: false,
    user: request.access.user,
    properties: {},
    matrix: at.matrix,
    access: request.access,
  });
  const result = await clientAbortAware(abort.signal, deploy);
  if (result.absorbed || result.item.type !== 'file') return reply.code(201).header('Content-Type', ITEM_CREATED).send('{}');
  const body = deployedFileJson(await baseUrl(ctx, request), result.item);
  return reply.code(201).header('Location', body.downloadUri).header('Content-Type', ITEM_CREATED).send(Buffer.from(JSON.stringify(body)));
}

/**
 * A deploy's outcome, or UPLOAD_ABORTED when the client went away. A server-side failure (full
 * disk, bad checksum) stops reading the body, which also closes the request: only an error that
 * is not ours means the client went away.
 */
async function clientAbortAware<T>(signal: AbortSignal, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (signal.aborted && !(err instanceof ArcaError && err.code !== 'UPLOAD_ABORTED')) {
      throw new ArcaError('UPLOAD_ABORTED', 'The client aborted the upload; nothing was stored');
    }
    throw err;
  }
}

/** A deploy with `X-Explode-Archive` (services/archives/explode.ts): the archive's files, not the archive. */
async function putExploded(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, req: DeployRequest, atomic: boolean) {
  const { repo, access } = req;
  const result = await clientAbortAware(req.signal!, ctx.archives.explode.explode(req, atomic));
  const base = await baseUrl(ctx, request);
  const folder = result.folder;
  const uri = `${base}/api/storage/${repo.key}${folder ? `/${folder}` : ''}`;
  const body = {
    repo: repo.key,
    path: `/${folder}`,
    createdBy: access.user,
    uri,
    checksums: { sha1: result.archive.sha1, md5: result.archive.md5, sha256: result.archive.sha256 },
    files: result.files.map((f) => `/${f.path ? `${f.path}/` : ''}${f.name}`),
  };
  return reply.code(201).header('Location', uri).header('Content-Type', ITEM_CREATED).send(Buffer.from(JSON.stringify(body)));
}

async function del(ctx: AppContext, request: FastifyRequest, reply: FastifyReply) {
  const rp = repoPathOf(request);
  if (isReplicationApply(request)) return applyReplicatedDelete(ctx, request, reply, rp);
  const { repo } = await ctx.serve.address(request.access, rp.repoKey, intentOf(request.method));
  await ctx.packages.deploy.delete(repo, rp.path, request.access);
  return reply.code(204).send();
}

/**
 * Deploy, download and delete at `/artifactory/{repoKey}/{path}` (REST-API.md §1) for local,
 * remote (`{key}` and `{key}-cache`) and virtual repositories of every format, through the
 * repository's format handler.
 */
export async function artifactRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // Artifact bodies are never parsed: every content type reaches the handler as a raw stream.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  // HEAD before GET, so Fastify does not derive a HEAD route from the GET handler.
  app.head('/artifactory/*', (request, reply) => get(ctx, request, reply, true));
  app.get('/artifactory/*', (request, reply) => get(ctx, request, reply, false));
  addSiteIdHeader(app, ctx);
  const config = { access: (request: FastifyRequest) => accessOf(ctx, request) };
  app.put('/artifactory/*', { config }, (request, reply) => put(ctx, request, reply));
  app.delete('/artifactory/*', { config }, (request, reply) => del(ctx, request, reply));
}
