import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import type { AppContext } from '../../app-context.js';
import { requireAdmin, requireAuthenticated } from '../../auth.js';

const API_KEY = '/artifactory/api/security/apiKey';
/** Checked before any body is read (route-access.ts); the handlers check the rest. */
const AUTHENTICATED = { config: { access: 'authenticated' as const } };
const ADMIN = { config: { access: 'admin' as const } };

/** The caller's own user; a group-scoped token acts for no user and may not manage a key. */
function ownUser(request: FastifyRequest): string {
  requireAuthenticated(request);
  if (request.principal.groupsOnly) throw new ArcaError('FORBIDDEN', 'A group-scoped token cannot manage an API key');
  return request.principal.name;
}

/** `/api/security/apiKey` and `/api/security/encryptedPassword` (REST-API.md §6). */
export async function securityApiKeyRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const keys = ctx.security.apiKeys;

  app.get(API_KEY, async (request) => {
    const key = await keys.get(ownUser(request));
    return key ? { apiKey: key } : {};
  });

  app.post(API_KEY, AUTHENTICATED, async (request, reply) => {
    const key = await keys.create(ownUser(request), 'create');
    return reply.code(201).send({ apiKey: key });
  });

  app.put(API_KEY, AUTHENTICATED, async (request) => ({ apiKey: await keys.create(ownUser(request), 'regenerate') }));

  // `?deleteAll=1` (admins) revokes every user's key.
  app.delete<{ Querystring: { deleteAll?: string } }>(API_KEY, AUTHENTICATED, async (request) => {
    if (/^(1|true)$/i.test(request.query.deleteAll ?? '')) {
      await requireAdmin(ctx, request);
      const n = await keys.revokeAll();
      return { info: `${n} API keys were removed successfully` };
    }
    const removed = await keys.revoke(ownUser(request));
    return { info: removed ? 'API key removed successfully' : 'No API key to remove' };
  });

  app.delete<{ Params: { username: string } }>(`${API_KEY}/:username`, ADMIN, async (request) => {
    await requireAdmin(ctx, request);
    const name = request.params.username;
    if (!(await ctx.security.directory.user(name))) throw new ArcaError('NOT_FOUND', `User '${name}' does not exist`);
    const removed = await keys.revoke(name);
    return { info: removed ? `API key of '${name}' removed successfully` : `User '${name}' has no API key` };
  });

  app.get('/artifactory/api/security/encryptedPassword', async (request, reply) => {
    requireAuthenticated(request);
    const value = ctx.security.encryptedPasswordFor(request.principal, request.headers.authorization);
    return reply.type('text/plain').send(value);
  });
}
