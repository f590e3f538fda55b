import type { FastifyInstance } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import type { AppContext } from '../../app-context.js';
import type { RepoConfig } from '../../../services/repositories.js';
import { baseUrl, requireAdmin } from '../../auth.js';

const TYPES = ['local', 'remote', 'virtual', 'federated', 'distribution'];
/** Changes are for administrators, checked before the body is read (route-access.ts). */
const ADMIN = { config: { access: 'admin' as const } };

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * A repository's configuration as the API shows it: a remote's password never leaves (not
 * even encrypted: it is write-only), and its username only to administrators.
 */
export function shownConfig(repo: RepoConfig, admin: boolean): RepoConfig {
  const { password: _password, username, ...rest } = repo;
  return (admin && username !== undefined ? { ...rest, username } : rest) as RepoConfig;
}

/** `/artifactory/api/repositories` (REST-API.md §3). */
export async function repositoryRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Querystring: { type?: string; packageType?: string } }>('/artifactory/api/repositories', async (request) => {
    const { type, packageType } = request.query;
    if (type !== undefined && !TYPES.includes(type.toLowerCase())) return [];
    const base = await baseUrl(ctx, request);
    const out = [];
    for (const r of await ctx.repos.list()) {
      if (type && r.rclass !== type.toLowerCase()) continue;
      if (packageType && r.packageType !== packageType.toLowerCase()) continue;
      if (!(await ctx.serve.visibility.canSee(request.access, r))) continue;
      out.push({
        key: r.key,
        type: r.rclass.toUpperCase(),
        description: r.description,
        url: `${base}/${r.key}`,
        packageType: capitalize(r.packageType),
      });
    }
    return out;
  });

  // A caller who may not read the repository gets the answer of a key that does not exist.
  app.get<{ Params: { key: string } }>('/artifactory/api/repositories/:key', async (request) => {
    const repo = await ctx.serve.visibility.requireVisible(request.access, request.params.key);
    return shownConfig(repo, request.principal.admin);
  });

  app.put<{ Params: { key: string }; Querystring: { pos?: string } }>('/artifactory/api/repositories/:key', ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    const pos = request.query.pos === undefined ? undefined : Number(request.query.pos);
    if (pos !== undefined && !Number.isInteger(pos)) throw new ArcaError('BAD_REQUEST', "Query parameter 'pos' must be an integer");
    const repo = await ctx.repos.create(request.params.key, request.body, pos);
    return reply.code(200).type('text/plain').send(`Successfully created repository '${repo.key}'`);
  });

  app.post<{ Params: { key: string } }>('/artifactory/api/repositories/:key', ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    const repo = await ctx.repos.update(request.params.key, request.body);
    return reply.code(200).type('text/plain').send(`Repository '${repo.key}' update successful.`);
  });

  app.delete<{ Params: { key: string } }>('/artifactory/api/repositories/:key', ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    await ctx.repos.delete(request.params.key);
    return reply.code(200).type('text/plain').send(`Repository '${request.params.key}' and all its content have been removed successfully.`);
  });
}
