import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import { parseRepoPath } from '../../../core/paths.js';
import { downloadArchiveType } from '../../../services/archives/archive-download.js';
import type { AppContext } from '../../app-context.js';
import { intentOf } from '../../auth.js';
import { flagOn, stringParam } from './params.js';

const PREFIX = '/artifactory/api/archive/download/';
const ENTRIES = '/artifactory/api/archive/entries/';

/**
 * `GET /api/archive/entries/{repo}/{path}` (Arca's own, for browsing inside archives in the web
 * UI): `{"repo","path","type","entries":[{"path","folder","size","compressedSize"?}],"truncated"}`
 * of a zip, jar, war, ear, aar, tar or tar.gz file the caller may read (in a virtual repository,
 * the member copy a download would serve). Bounded: services/archives/archive-entries.ts.
 */
async function archiveEntries(ctx: AppContext, request: FastifyRequest, reply: FastifyReply) {
  const url = request.raw.url ?? '';
  const rp = parseRepoPath(url.slice(url.indexOf(ENTRIES) + ENTRIES.length).replace(/\?.*$/, ''));
  let repo = await ctx.serve.visibility.requireVisible(request.access, rp.repoKey, 'read');
  if (repo.rclass === 'virtual') {
    const hit = await ctx.storageApi.virtualStorage(ctx.serve.virtual).memberOf(request.access, repo, rp.path);
    if (!hit) throw new ArcaError('ITEM_NOT_FOUND', `Unable to find item '${repo.key}/${rp.path}'`);
    repo = hit.member;
  }
  await ctx.storageApi.open(request.access, repo, rp.path);
  const item = await ctx.artifacts.find(repo.key, rp.path);
  if (!item) throw new ArcaError('ITEM_NOT_FOUND', `Unable to find item '${repo.key}/${rp.path}'`);
  if (item.type !== 'file' || !item.sha1) throw new ArcaError('BAD_REQUEST', `'${repo.key}/${rp.path}' is a folder, not an archive`);
  const listing = await ctx.archives.entries(item.name, Number(item.size), item.sha1);
  return reply.type('application/json; charset=utf-8').send({ repo: repo.key, path: `/${rp.path}`, ...listing });
}

/**
 * `GET /api/archive/download/{repo}/{path}?archiveType=zip|tar|tar.gz|tgz[&includeChecksumFiles=true]`:
 * a folder as an archive, streamed (services/archives/archive-download.ts). The limits are
 * checked before the answer starts, so a refusal is a plain JSON error; a failure once the
 * archive is being sent (a binary missing from the store) cuts the connection, and the client
 * sees a truncated archive.
 */
export async function archiveDownloadRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(`${ENTRIES}*`, (request, reply) => archiveEntries(ctx, request, reply));
  app.get(`${PREFIX}*`, async (request: FastifyRequest, reply) => {
    ctx.archives.download.requireEnabled();
    const url = request.raw.url ?? '';
    const rp = parseRepoPath(url.slice(url.indexOf(PREFIX) + PREFIX.length));
    const query = (request.query ?? {}) as Record<string, unknown>;
    const type = downloadArchiveType(stringParam(query, 'archiveType'));
    const repo = await ctx.serve.visibility.requireVisible(request.access, rp.repoKey, intentOf(request.method));
    const archive = await ctx.archives.download.folder(request.access, repo, rp.path, type, flagOn(query, 'includeChecksumFiles'));
    const name = archive.fileName;
    const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
    return reply
      .code(200)
      .header('Content-Type', archive.contentType)
      .header('Content-Disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`)
      .send(archive.body);
  });
}
