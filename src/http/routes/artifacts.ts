import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { classifyChecksum, type Checksums } from '../../core/digests.js';
import { ArcaError } from '../../core/errors.js';
import { parseRepoPath, type RepoPath } from '../../core/paths.js';
import { fullPathOf } from '../../db/items.js';
import { deployedFileJson, deployedFolderJson } from '../../services/item-info.js';
import type { Principal } from '../../security/types.js';
import type { RepoConfig } from '../../services/repositories.js';
import type { AccessCheck } from '../../services/storage-api.js';
import type { AppContext } from '../app-context.js';
import { baseUrl, deny, requireRepoAction } from '../auth.js';
import type { RepoNeed } from '../route-access.js';
import { addressRepo, locate } from './artifacts-locate.js';
import { header, serveBytes, serveFile } from './artifacts-serve.js';
import { folderListingHtml } from './folder-listing.js';

const PREFIX = '/artifactory/';
const ITEM_CREATED = 'application/vnd.org.jfrog.artifactory.storage.ItemCreated+json';

function repoPathOf(request: FastifyRequest): RepoPath {
  const url = request.raw.url ?? '';
  return parseRepoPath(url.slice(url.indexOf(PREFIX) + PREFIX.length));
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
  const { repo, cacheOnly } = await addressRepo(ctx, rp.repoKey, request);
  // A virtual repository is read through its members' permissions (checked per member).
  if (repo.rclass !== 'virtual') await requireRepoAction(ctx, request, 'read', repo, rp.path);
  const principal = request.principal;
  const can: AccessCheck = (action, r, p) => ctx.security.canAccess(principal, action, r, p);
  const svc = ctx.packages;
  const lc = { ctx, svc, can, user: principal.name, cacheOnly, folder: rp.folder };
  const found = await locate(lc, repo, rp.path);
  if (repo.rclass === 'virtual' && (!found || (found.kind === 'folder' && found.rows.length === 0))) {
    // Nothing visible: when a member was hidden from the caller, ask for credentials (Maven's flow).
    for (const m of await svc.virtual.members(repo)) {
      if (!(await can('read', m, rp.path))) await deny(ctx, principal, `read '${repo.key}/${rp.path}'`);
    }
  }
  if (found?.kind === 'item') return serveFile(ctx, request, reply, found.item, head);
  if (found?.kind === 'bytes') return serveBytes(request, reply, rp.path, found.data, found.modified, head, found.type);
  if (!found && rp.path !== '') throw new ArcaError('ITEM_NOT_FOUND', `Could not find resource '${rp.repoKey}/${rp.path}'`);
  const url = request.raw.url ?? '';
  const pathOnly = url.split('?')[0];
  if (!pathOnly.endsWith('/')) return reply.redirect(`${pathOnly}/`, 302);
  const rows = found?.kind === 'folder' ? found.rows : await ctx.artifacts.children(repo.key, '');
  const visible = [];
  for (const c of rows) {
    // Children of a virtual repository were filtered per member already.
    if (repo.rclass === 'virtual' || (await can('read', repo, fullPathOf(c)))) visible.push(c);
  }
  reply.type('text/html; charset=utf-8');
  if (head) return reply.code(200).send();
  return reply.send(folderListingHtml(rp.repoKey, rp.path, visible));
}
/** The local repository a deploy to `repoKey` goes to (a virtual's defaultDeploymentRepo). */
async function deployTarget(ctx: AppContext, repoKey: string, request: FastifyRequest): Promise<RepoConfig> {
  const addressed = await addressRepo(ctx, repoKey, request);
  if (addressed.repo.rclass === 'remote' || addressed.cacheOnly) {
    throw new ArcaError('METHOD_NOT_ALLOWED', `Remote repository '${addressed.repo.key}' is read-only: deploy to a local repository instead`);
  }
  // A deploy to a virtual repository goes to its defaultDeploymentRepo, with that repository's permissions.
  return addressed.repo.rclass === 'virtual' ? ctx.packages.virtual.deploymentRepo(addressed.repo) : addressed.repo;
}

/** What a deploy or delete needs before its body is read (route-access.ts). */
async function accessOf(ctx: AppContext, request: FastifyRequest): Promise<RepoNeed | undefined> {
  const rp = repoPathOf(request);
  if (request.method === 'PUT') return { repo: await deployTarget(ctx, rp.repoKey, request), action: 'write', path: rp.path };
  if (request.method !== 'DELETE') return undefined;
  const { repo } = await addressRepo(ctx, rp.repoKey, request);
  // A delete through a virtual repository is refused by the handler, whatever the caller may do.
  return repo.rclass === 'virtual' ? undefined : { repo, action: 'delete', path: rp.path };
}

/** Repositories holding items the caller may read some of (where a checksum deploy may find its binary). */
async function readableRepos(ctx: AppContext, principal: Principal): Promise<RepoConfig[]> {
  const out: RepoConfig[] = [];
  for (const r of await ctx.repos.list()) {
    if (r.rclass !== 'virtual' && (await ctx.security.canReadAny(principal, r))) out.push(r);
  }
  return out;
}

async function put(ctx: AppContext, request: FastifyRequest, reply: FastifyReply) {
  const rp = repoPathOf(request);
  const svc = ctx.packages;
  const repo = await deployTarget(ctx, rp.repoKey, request);
  await requireRepoAction(ctx, request, 'write', repo, rp.path);
  const principal = request.principal;
  const hasProps = Object.keys(rp.matrix).length > 0;
  const canAnnotate = hasProps && (await ctx.security.canAccess(principal, 'annotate', repo, rp.path));
  const canOverwrite = await ctx.security.canAccess(principal, 'delete', repo, rp.path);
  const checksumDeploy = /^true$/i.test(header(request, 'x-checksum-deploy') ?? '');
  const can: AccessCheck = (action, r, p) => ctx.security.canAccess(principal, action, r, p);
  const abort = new AbortController();
  request.raw.on('close', () => {
    if (!request.raw.complete) abort.abort();
  });
  let result;
  try {
    result = await svc.deploy.deploy({
      repo,
      path: rp.path,
      folder: rp.folder,
      body: request.raw,
      signal: abort.signal,
      expected: declaredChecksums(request),
      checksumDeploy,
      // A checksum deploy copies a binary the caller must be able to read somewhere.
      reader: checksumDeploy ? { repos: await readableRepos(ctx, principal), can } : undefined,
      user: principal.name,
      properties: canAnnotate ? rp.matrix : {},
      canOverwrite,
    });
  } catch (err) {
    // A server-side failure (full disk, bad checksum) stops reading the body, which also
    // closes the request: only an error that is not ours means the client went away.
    if (abort.signal.aborted && !(err instanceof ArcaError && err.code !== 'UPLOAD_ABORTED')) {
      throw new ArcaError('UPLOAD_ABORTED', 'The client aborted the upload; nothing was stored');
    }
    throw err;
  }
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

async function del(ctx: AppContext, request: FastifyRequest, reply: FastifyReply) {
  const rp = repoPathOf(request);
  const { repo } = await addressRepo(ctx, rp.repoKey, request);
  if (repo.rclass === 'virtual') {
    throw new ArcaError('METHOD_NOT_ALLOWED', `Cannot delete through virtual repository '${repo.key}': delete from the member repository`);
  }
  await requireRepoAction(ctx, request, 'delete', repo, rp.path);
  await ctx.packages.deploy.delete(repo, rp.path, request.principal.name);
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
  const config = { access: (request: FastifyRequest) => accessOf(ctx, request) };
  app.put('/artifactory/*', { config }, (request, reply) => put(ctx, request, reply));
  app.delete('/artifactory/*', { config }, (request, reply) => del(ctx, request, reply));
}
