import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseRepoPath } from '../../../core/paths.js';
import { downloadArchiveType } from '../../../services/archives/archive-download.js';
import type { AppContext } from '../../app-context.js';
import { intentOf } from '../../auth.js';
import { flagOn, stringParam } from './params.js';

const PREFIX = '/artifactory/api/archive/download/';

/**
 * `GET /api/archive/download/{repo}/{path}?archiveType=zip|tar|tar.gz|tgz[&includeChecksumFiles=true]`:
 * a folder as an archive, streamed (services/archives/archive-download.ts). The limits are
 * checked before the answer starts, so a refusal is a plain JSON error; a failure once the
 * archive is being sent (a binary missing from the store) cuts the connection, and the client
 * sees a truncated archive.
 */
export async function archiveDownloadRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
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
