import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../app-context.js';
import { requireAdmin } from '../../auth.js';
import { securityUri } from './common.js';

/** Changes are for administrators, checked before the body is read (route-access.ts). */
const ADMIN = { config: { access: 'admin' as const } };
const USERS = '/artifactory/api/security/users';

/** `/api/security/users[/{name}]`: admins only, except that a user may read themselves. */
export async function securityUserRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const users = ctx.security.users;

  app.get(USERS, async (request) => {
    await requireAdmin(ctx, request);
    const out = [];
    for (const u of await users.list()) out.push({ name: u.name, uri: await securityUri(ctx, request, 'api/security/users', u.name), realm: u.realm });
    return out;
  });

  app.get<{ Params: { name: string } }>(`${USERS}/:name`, async (request) => {
    const p = request.principal;
    if (p.anonymous || p.name !== request.params.name) await requireAdmin(ctx, request);
    return users.get(request.params.name);
  });

  app.put<{ Params: { name: string } }>(`${USERS}/:name`, ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    const { created } = await users.put(request.params.name, request.body);
    return reply.code(created ? 201 : 200).send();
  });

  app.post<{ Params: { name: string } }>(`${USERS}/:name`, ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    await users.update(request.params.name, request.body);
    return reply.code(200).send();
  });

  app.delete<{ Params: { name: string } }>(`${USERS}/:name`, ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    await users.delete(request.params.name);
    return reply.code(200).type('text/plain').send(`User '${request.params.name}' has been removed successfully.`);
  });
}
