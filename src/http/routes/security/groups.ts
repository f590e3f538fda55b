import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../app-context.js';
import { requireAdmin } from '../../auth.js';
import { securityUri } from './common.js';

/** Changes are for administrators, checked before the body is read (route-access.ts). */
const ADMIN = { config: { access: 'admin' as const } };
const GROUPS = '/artifactory/api/security/groups';

/** `/api/security/groups[/{name}][?includeUsers=true]`: admins only. */
export async function securityGroupRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const groups = ctx.security.groups;

  app.get(GROUPS, async (request) => {
    await requireAdmin(ctx, request);
    const out = [];
    for (const name of await groups.names()) out.push({ name, uri: await securityUri(ctx, request, 'api/security/groups', name) });
    return out;
  });

  app.get<{ Params: { name: string }; Querystring: { includeUsers?: string } }>(`${GROUPS}/:name`, async (request) => {
    await requireAdmin(ctx, request);
    const include = /^(true|1)$/i.test(request.query.includeUsers ?? '');
    return groups.get(request.params.name, include);
  });

  app.put<{ Params: { name: string } }>(`${GROUPS}/:name`, ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    const { created } = await groups.put(request.params.name, request.body);
    return reply.code(created ? 201 : 200).send();
  });

  app.post<{ Params: { name: string } }>(`${GROUPS}/:name`, ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    await groups.update(request.params.name, request.body);
    return reply.code(200).send();
  });

  app.delete<{ Params: { name: string } }>(`${GROUPS}/:name`, ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    await groups.delete(request.params.name);
    return reply.code(200).type('text/plain').send(`Group '${request.params.name}' has been removed successfully.`);
  });
}
