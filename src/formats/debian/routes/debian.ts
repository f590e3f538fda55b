/**
 * The APT repository of every Debian repository (local, remote, virtual), at the URL the seed
 * product documents, so a sources.list line only needs a new host name:
 *
 *   deb [signed-by=/etc/apt/keyrings/arca.asc] https://host/artifactory/api/deb/{repoKey} {distribution} {component}
 *
 *   GET|HEAD /dists/{dist}/Release|InRelease|Release.gpg
 *   GET|HEAD /dists/{dist}/{comp}/binary-{arch}/Packages[.gz] and …/by-hash/{MD5Sum|SHA1|SHA256}/{hash}
 *   GET|HEAD /{path}                                   a package (pool/…) or another stored file
 *   PUT      /{path};deb.distribution=…;deb.component=…;deb.architecture=…   deploy a .deb
 *   DELETE   /{path}                                   delete a package (it leaves the indexes)
 *
 * `dists/` files are made by the format's service (service/debian-service.ts); everything else
 * goes through the shared deploy and serve services, as under `/artifactory/{repoKey}/`.
 * Errors are the JFrog body.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import { nameOf, parseRepoPath, type RepoPath } from '../../../core/paths.js';
import type { AppContext } from '../../../http/app-context.js';
import { intentOf } from '../../../http/auth.js';
import { deployRequestBody } from '../../../http/routes/artifacts/artifacts.js';
import { downloadHeaders, header, serveBytes, serveFile } from '../../../http/routes/artifacts/artifacts-serve.js';
import type { RepoNeed } from '../../../http/route-access.js';
import { requirePackageType } from '../../../services/serve/serve-service.js';
import { parseDistsPath } from '../layout.js';
import type { DebianService, DistsAnswer } from '../service/debian-service.js';

export const DEBIAN_PREFIX = '/artifactory/api/deb/';

function repoPathOf(request: FastifyRequest): RepoPath {
  const url = request.raw.url ?? '';
  return parseRepoPath(url.slice(url.indexOf(DEBIAN_PREFIX) + DEBIAN_PREFIX.length));
}

async function address(ctx: AppContext, request: FastifyRequest, rp: RepoPath) {
  const addressed = await ctx.serve.address(request.access, rp.repoKey, intentOf(request.method));
  requirePackageType(addressed.repo, 'debian', 'a Debian');
  return addressed;
}

/** True when an If-None-Match list names `etag` (or is `*`). */
function etagMatches(ifNoneMatch: string, etag: string): boolean {
  return ifNoneMatch.split(',').some((t) => {
    const v = t.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
    return v === '*' || v === etag;
  });
}

function sendAnswer(request: FastifyRequest, reply: FastifyReply, path: string, a: DistsAnswer, head: boolean) {
  reply.headers(downloadHeaders({ name: nameOf(path), sha1: a.sums.sha1, sha256: a.sums.sha256, md5: a.sums.md5, size: a.sums.size, modified: a.modified, type: a.type }));
  reply.removeHeader('accept-ranges');
  const inm = header(request, 'if-none-match');
  const ims = header(request, 'if-modified-since');
  if ((inm && etagMatches(inm, a.sums.sha1)) || (!inm && ims && Date.parse(ims) >= Math.floor(a.modified / 1000) * 1000)) return reply.code(304).send();
  reply.code(200).header('Content-Type', a.type).header('Content-Length', String(a.sums.size));
  if (head) return reply.send();
  return reply.send(Readable.from(a.parts()));
}

async function handle(ctx: AppContext, deb: DebianService, request: FastifyRequest, reply: FastifyReply) {
  const rp = repoPathOf(request);
  const addressed = await address(ctx, request, rp);
  const { access } = request;
  if (request.method === 'PUT') return deployRequestBody(ctx, request, reply, rp);
  if (request.method === 'DELETE') {
    await ctx.packages.deploy.delete(addressed.repo, rp.path, access);
    return reply.code(204).send();
  }
  const head = request.method === 'HEAD';
  const dists = parseDistsPath(rp.path);
  if (dists) return sendAnswer(request, reply, rp.path, await deb.dists(access, addressed.repo, addressed.cacheOnly, dists), head);
  if (rp.path === 'dists' || rp.path.startsWith('dists/')) throw new ArcaError('NOT_FOUND', `No index at '${rp.path}'`);
  const found = await ctx.serve.read(access, addressed, rp.path, { folder: rp.folder });
  if (found.kind === 'item') {
    // A remote's pool file is checked against the Packages index that names it.
    await deb.checkPoolFile(found.item);
    return serveFile(ctx, request, reply, found.item, head);
  }
  if (found.kind === 'bytes') return serveBytes(request, reply, rp.path, found.data, found.modified, head, found.type);
  throw new ArcaError('NOT_FOUND', `No file at '${rp.path}'`);
}

/** What a request needs before its body is read (a cheap early refusal; the use cases decide again). */
async function needOf(ctx: AppContext, request: FastifyRequest): Promise<RepoNeed | undefined> {
  const rp = repoPathOf(request);
  if (request.method === 'PUT') return { repo: await ctx.serve.deployTarget(request.access, rp.repoKey), action: 'write', path: rp.path };
  if (request.method !== 'DELETE') return undefined;
  const { repo } = await address(ctx, request, rp);
  return repo.rclass === 'virtual' ? undefined : { repo, action: 'delete', path: rp.path };
}

export async function debianRoutes(app: FastifyInstance, ctx: AppContext, deb: DebianService): Promise<void> {
  // Bodies stay unread streams: a PUT streams into the deploy (which reads a .deb within its limit).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  app.route({
    method: ['GET', 'HEAD', 'PUT', 'DELETE'],
    url: `${DEBIAN_PREFIX}*`,
    config: { access: (request: FastifyRequest) => needOf(ctx, request) },
    handler: (request, reply) => handle(ctx, deb, request, reply),
  });
}
