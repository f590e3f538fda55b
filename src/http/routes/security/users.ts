import type { FastifyInstance } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import type { AppContext } from '../../app-context.js';
import { requireAdmin, requireAuthenticated } from '../../auth.js';
import { CHARACTER_CLASSES } from '../../../security/password-policy.js';
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

  // Arca's: the rules a new password must meet, for the user form (any signed-in user may read them).
  app.get('/artifactory/api/security/passwordPolicy', async (request) => {
    requireAuthenticated(request);
    const policy = users.passwordPolicy;
    return { ...policy, classes: CHARACTER_CLASSES.map((k) => ({ id: k.id, label: k.label })) };
  });

  // The seed's lockout API: who is locked out by failed logins, and lifting the lock.
  app.get('/artifactory/api/security/lockedUsers', async (request) => {
    await requireAdmin(ctx, request);
    return users.locked();
  });

  app.post<{ Params: { name: string } }>('/artifactory/api/security/unlockUsers/:name', ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    await users.unlock([request.params.name]);
    return reply.code(200).type('text/plain').send(`Completed unlocking user '${request.params.name}'`);
  });

  app.post('/artifactory/api/security/unlockUsers', { ...ADMIN, bodyLimit: 256 * 1024 }, async (request, reply) => {
    await requireAdmin(ctx, request);
    const names = request.body;
    if (!Array.isArray(names) || names.length > 10_000 || names.some((n) => typeof n !== 'string')) {
      throw new ArcaError('BAD_REQUEST', 'Send a JSON array of user names (at most 10000)');
    }
    await users.unlock(names as string[]);
    return reply.code(200).type('text/plain').send('Completed unlocking users');
  });

  app.post('/artifactory/api/security/unlockAllUsers', ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    await users.unlock();
    return reply.code(200).type('text/plain').send('Completed unlocking all users');
  });
}
