import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import { parseRepoPath } from '../../../core/paths.js';
import type { AppContext } from '../../app-context.js';

function flag(value: string | null): boolean {
  return value !== null && value !== '0' && value.toLowerCase() !== 'false';
}

/**
 * `POST /api/copy/{repo}/{path}?to=/{repo}/{path}[&dry=1][&suppressLayouts=0|1][&failFast=0|1]`
 * and `POST /api/move/…` (REST-API.md §11): the seed's answer `{"messages":[{"level","message"}]}`,
 * 200 when everything went, 409 when some files failed (each named in a message).
 * `suppressLayouts` is accepted: Arca translates no layouts between repositories.
 */
export async function copyMoveRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // These calls carry everything in the URL; a body is not read.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  for (const mode of ['copy', 'move'] as const) {
    app.post(`/artifactory/api/${mode}/*`, { config: { access: 'authenticated' } }, async (request: FastifyRequest, reply) => {
      const url = request.raw.url ?? '';
      const q = url.indexOf('?');
      const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
      const to = query.get('to');
      if (to === null || to.trim() === '') throw new ArcaError('BAD_REQUEST', `The 'to' parameter is required: /api/${mode}/{repo}/{path}?to=/{repo}/{path}`);
      const prefix = `/artifactory/api/${mode}/`;
      const rp = parseRepoPath((q < 0 ? url : url.slice(0, q)).slice(prefix.length));
      // The CLI sends `to` without the leading slash; a trailing one means "into this folder".
      const target = parseRepoPath(to.trim().replace(/^\/+/, ''));
      const result = await ctx.copyMove.run(mode, request.access, rp.repoKey, rp.path, { repoKey: target.repoKey, path: target.path, into: target.folder }, {
        dryRun: flag(query.get('dry')),
        failFast: flag(query.get('failFast')),
      });
      return reply.code(result.ok ? 200 : 409).type('application/json; charset=utf-8').send({ messages: result.messages });
    });
  }
}
