/**
 * The seed's YUM API path, `GET|HEAD /artifactory/api/yum/{repoKey}/{path}`: the same files as
 * `/artifactory/{repoKey}/{path}` (so `baseurl=` may use either), read through the serve
 * service (packages, repomd.xml, the made `repomd.xml.asc` and `repomd.xml.key`). Deploys use
 * `PUT /artifactory/{repoKey}/{path}`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseRepoPath } from '../../../core/paths.js';
import type { AppContext } from '../../../http/app-context.js';
import { intentOf } from '../../../http/auth.js';
import { serveFound } from '../../../http/routes/artifacts/artifacts-serve.js';
import { isRpmType } from '../layout.js';
import { ArcaError } from '../../../core/errors.js';

export const RPM_PREFIX = '/artifactory/api/yum/';

async function get(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, head: boolean) {
  const url = request.raw.url ?? '';
  const rp = parseRepoPath(url.slice(url.indexOf(RPM_PREFIX) + RPM_PREFIX.length));
  const at = await ctx.serve.address(request.access, rp.repoKey, intentOf(request.method));
  if (!isRpmType(at.repo.packageType)) throw new ArcaError('BAD_REQUEST', `Repository '${at.repo.key}' is a ${at.repo.packageType} repository, not an RPM repository`);
  const found = await ctx.serve.read(request.access, { repo: at.repo, cacheOnly: at.cacheOnly, key: at.key }, rp.path, { folder: url.split('?')[0].endsWith('/') });
  return (await serveFound(ctx, request, reply, rp.path, found, head)) ?? Promise.reject(new ArcaError('NOT_FOUND', `'${rp.path}' is a folder`));
}

export async function rpmRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  for (const head of [true, false]) {
    // HEAD first, so Fastify does not derive HEAD routes from the GET handlers.
    const method = head ? app.head.bind(app) : app.get.bind(app);
    method(`${RPM_PREFIX}:repoKey/*`, (request, reply) => get(ctx, request, reply, head));
  }
}
