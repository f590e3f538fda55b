import type { FastifyInstance } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import { repoDefaults } from '../../../services/repositories.js';
import type { AppContext } from '../../app-context.js';
import { requireAdmin } from '../../auth.js';

/** Changes are for administrators, checked before the body is read (route-access.ts). */
const ADMIN = { config: { access: 'admin' as const } };
/** The longest a connection test waits for the upstream, whatever the remote's socket timeout. */
export const TEST_CONNECTION_TIMEOUT_MS = 10_000;

/**
 * Arca's additions for the administration pages: the defaults a new repository gets, a remote's
 * upstream status as this node saw it, and a connection test. Administrators only; nothing here
 * shows a remote's credentials.
 */
export async function repositoryAdminRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Params: { rclass: string } }>('/artifactory/api/system/repositoryDefaults/:rclass', async (request) => {
    await requireAdmin(ctx, request);
    return repoDefaults(request.params.rclass);
  });

  const remoteRepo = async (key: string) => {
    const repo = await ctx.repos.require(key);
    if (repo.rclass !== 'remote') throw new ArcaError('BAD_REQUEST', `Repository '${key}' is not a remote repository`);
    return repo;
  };

  app.get<{ Params: { key: string } }>('/artifactory/api/repositories/:key/remoteStatus', async (request) => {
    await requireAdmin(ctx, request);
    const repo = await remoteRepo(request.params.key);
    return ctx.packages.remote.status(repo);
  });

  app.post<{ Params: { key: string } }>('/artifactory/api/repositories/:key/testConnection', ADMIN, async (request) => {
    await requireAdmin(ctx, request);
    const repo = await remoteRepo(request.params.key);
    return ctx.packages.remote.testConnection(repo, TEST_CONNECTION_TIMEOUT_MS);
  });
}
