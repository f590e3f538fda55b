import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import { parseRepoPath } from '../../../core/paths.js';
import type { AppContext } from '../../app-context.js';
import { stringParam } from './params.js';

/** The path after `prefix` in the raw URL (query cut off), checked like an artifact path; '' for none. */
function trashPath(request: FastifyRequest, prefix: string): string {
  const raw = (request.raw.url ?? '').slice(prefix.length).split('?')[0];
  if (raw.replace(/\/+$/, '') === '') return '';
  const rp = parseRepoPath(raw);
  return rp.path === '' ? rp.repoKey : `${rp.repoKey}/${rp.path}`;
}

/**
 * The trash can's REST calls (the seed's `/api/trash`, REST-API.md §13): restore (202 "Successfully
 * restored trash items"), clean a path (204) and empty (202 "Successfully deleted all trashcan
 * items"). Clean and empty are for administrators; restore also for a user who may manage the
 * original repository, into places they may deploy to (services/trash/trash-can.ts).
 */
export async function trashRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // Everything is in the URL; a body is not read.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  const RESTORE = '/artifactory/api/trash/restore/';
  app.post(`${RESTORE}*`, { config: { access: 'authenticated' } }, async (request, reply) => {
    const query = (request.query ?? {}) as Record<string, unknown>;
    const path = trashPath(request, RESTORE);
    const to = stringParam(query, 'to')?.trim().replace(/^\/+/, '');
    const target = to ? parseRepoPath(to) : undefined;
    if (to !== undefined && to !== '' && !target?.repoKey) throw new ArcaError('BAD_REQUEST', `Invalid restore target '${to}'`);
    await ctx.trash.restore(request.access, path, target ? { repoKey: target.repoKey, path: target.path } : undefined);
    return reply.code(202).type('text/plain').send('Successfully restored trash items');
  });
  const CLEAN = '/artifactory/api/trash/clean/';
  app.delete(`${CLEAN}*`, { config: { access: 'admin' } }, async (request, reply) => {
    await request.access.requireAdmin();
    await ctx.trash.clean(trashPath(request, CLEAN));
    return reply.code(204).send();
  });
  app.post('/artifactory/api/trash/empty', { config: { access: 'admin' } }, async (request, reply) => {
    await request.access.requireAdmin();
    await ctx.trash.empty();
    return reply.code(202).type('text/plain').send('Successfully deleted all trashcan items');
  });
}
