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
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import { parseRepoPath, type RepoPath } from '../../../core/paths.js';
import type { AppContext } from '../../../http/app-context.js';
import { intentOf } from '../../../http/auth.js';
import { deployRequestBody } from '../../../http/routes/artifacts/artifacts.js';
import { serveFile, serveFound } from '../../../http/routes/artifacts/artifacts-serve.js';
import type { RepoNeed } from '../../../http/route-access.js';
import { requirePackageType } from '../../../services/serve/serve-service.js';
import type { DebianService } from '../service/debian-service.js';

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
  // dists/ is made by the service (DebianService.reads), as on the plain path.
  const found = await ctx.serve.read(access, addressed, rp.path, { folder: rp.folder });
  if (found.kind === 'item') {
    // A remote's pool file is checked against the Packages index that names it.
    await deb.checkPoolFile(found.item);
    return serveFile(ctx, request, reply, found.item, head);
  }
  const sent = await serveFound(ctx, request, reply, rp.path, found, head);
  if (!sent) throw new ArcaError('NOT_FOUND', `No file at '${rp.path}'`);
  return sent;
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
