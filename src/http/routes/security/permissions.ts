import type { FastifyInstance } from 'fastify';
import { parseV1, parseV2, toV1, type PermissionTarget } from '../../../security/permission-model.js';
import type { AppContext } from '../../app-context.js';
import { requireAdmin } from '../../auth.js';
import { securityUri } from './common.js';

/** Changes are for administrators, checked before the body is read (route-access.ts). */
const ADMIN = { config: { access: 'admin' as const } };
const V1 = '/artifactory/api/security/permissions';
const V2 = '/artifactory/api/v2/security/permissions';

/** A v1 write replaces the repo section only; the sections v1 cannot express are kept. */
const keepOtherSections = (incoming: PermissionTarget, existing: PermissionTarget): PermissionTarget => ({
  ...existing,
  name: incoming.name,
  repo: incoming.repo,
});

/** Permission targets, v2 and v1 (both stored as v2 JSON); admins only. */
export async function securityPermissionRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const store = ctx.security.permissions;

  for (const [base, uriPath] of [
    [V1, 'api/security/permissions'],
    [V2, 'api/v2/security/permissions'],
  ] as const) {
    app.get(base, async (request) => {
      await requireAdmin(ctx, request);
      const out = [];
      for (const name of await store.names()) out.push({ name, uri: await securityUri(ctx, request, uriPath, name) });
      return out;
    });

    app.delete<{ Params: { name: string } }>(`${base}/:name`, ADMIN, async (request, reply) => {
      await requireAdmin(ctx, request);
      await store.delete(request.params.name);
      return reply.code(200).type('text/plain').send(`Permission target '${request.params.name}' has been removed successfully.`);
    });
  }

  app.get<{ Params: { name: string } }>(`${V2}/:name`, async (request) => {
    await requireAdmin(ctx, request);
    return store.require(request.params.name);
  });

  // POST creates (409 when it exists); PUT creates (201) or replaces (200).
  app.post<{ Params: { name: string } }>(`${V2}/:name`, ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    await store.save(parseV2(request.body, request.params.name), 'create');
    return reply.code(201).send();
  });

  app.put<{ Params: { name: string } }>(`${V2}/:name`, ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    const { created } = await store.save(parseV2(request.body, request.params.name), 'upsert');
    return reply.code(created ? 201 : 200).send();
  });

  app.get<{ Params: { name: string } }>(`${V1}/:name`, async (request) => {
    await requireAdmin(ctx, request);
    return toV1(await store.require(request.params.name));
  });

  app.put<{ Params: { name: string } }>(`${V1}/:name`, ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    const { created } = await store.save(parseV1(request.body, request.params.name), 'upsert', keepOtherSections);
    return reply.code(created ? 201 : 200).send();
  });
}
