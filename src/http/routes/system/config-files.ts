import type { FastifyInstance } from 'fastify';
import { MIRRORED_FILES } from '../../../cluster/config-files.js';
import { ArcaError } from '../../../core/errors.js';
import type { AppContext } from '../../app-context.js';
import { requireAdmin } from '../../auth.js';

/**
 * The configuration files the primary mirrors to every node (docs/ha.md): which copy the
 * database holds, which copy each node loaded at its last start, and which nodes still run an
 * older one (they pick the new one up at restart).
 */
export async function configFileRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/artifactory/api/system/configFiles', async (request) => {
    await requireAdmin(ctx, request);
    return ctx.configFiles.status(await ctx.registry.list());
  });

  app.get<{ Params: { name: string } }>('/artifactory/api/system/configFiles/:name', async (request, reply) => {
    await requireAdmin(ctx, request);
    const name = request.params.name;
    if (!(MIRRORED_FILES as readonly string[]).includes(name)) throw new ArcaError('NOT_FOUND', `'${name}' is not a mirrored configuration file (${MIRRORED_FILES.join(', ')})`);
    const file = await ctx.configFiles.content(name);
    if (!file) throw new ArcaError('NOT_FOUND', `The database holds no copy of '${name}' yet`);
    reply.header('x-checksum-sha256', file.sha256);
    reply.header('x-arca-updated-by', file.updatedBy);
    return reply.type(name.endsWith('.xml') ? 'application/xml' : 'text/plain; charset=utf-8').send(file.content);
  });
}
