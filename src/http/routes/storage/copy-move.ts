import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import { parseRepoPath } from '../../../core/paths.js';
import type { AppContext } from '../../app-context.js';
import { flagOn, stringParam } from './params.js';

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
      const query = (request.query ?? {}) as Record<string, unknown>;
      const to = stringParam(query, 'to')?.trim();
      if (!to) throw new ArcaError('BAD_REQUEST', `The 'to' parameter is required: /api/${mode}/{repo}/{path}?to=/{repo}/{path}`);
      const rp = parseRepoPath((request.raw.url ?? '').slice(`/artifactory/api/${mode}/`.length));
      // The CLI sends `to` without the leading slash; a trailing one means "into this folder".
      const target = parseRepoPath(to.replace(/^\/+/, ''));
      const result = await ctx.copyMove.run(mode, request.access, rp.repoKey, rp.path, { repoKey: target.repoKey, path: target.path, into: target.folder }, {
        dryRun: flagOn(query, 'dry'),
        failFast: flagOn(query, 'failFast'),
      });
      return reply.code(result.ok ? 200 : 409).type('application/json; charset=utf-8').send({ messages: result.messages });
    });
  }
}
