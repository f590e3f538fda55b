import type { FastifyInstance } from 'fastify';
import { splitLicenseKeys } from '../../../cluster/licenses/license-key.js';
import { LICENSE_MANAGER_OFF } from '../../../cluster/licenses/license-manager.js';
import { ArcaError } from '../../../core/errors.js';
import type { AppContext } from '../../app-context.js';
import { requireAdmin } from '../../auth.js';

/** Changes are for administrators, checked before the body is read (route-access.ts). */
const ADMIN = { config: { access: 'admin' as const } };
const PATH = '/artifactory/api/system/licenses';
/** Keys one request may install. */
const MAX_KEYS = 1000;
const USAGE = 'Send the license keys as JSON: [{"licenseKey": "…"}] (a licenseKey may hold several keys separated by newlines, spaces or semicolons)';

/** Keys of a POST body: `[{"licenseKey"}]`, one `{"licenseKey"}`, or (`text/plain`) the keys themselves. */
export function keysOfBody(body: unknown, plainText: boolean): string[] {
  let texts: string[];
  if (plainText && typeof body === 'string') texts = [body];
  else if (Array.isArray(body)) {
    texts = body.map((e) => {
      if (e === null || typeof e !== 'object' || typeof (e as Record<string, unknown>).licenseKey !== 'string') throw new ArcaError('BAD_REQUEST', USAGE);
      return (e as { licenseKey: string }).licenseKey;
    });
  } else if (body !== null && typeof body === 'object' && typeof (body as Record<string, unknown>).licenseKey === 'string') {
    texts = [(body as { licenseKey: string }).licenseKey];
  } else throw new ArcaError('BAD_REQUEST', USAGE);
  const keys = texts.flatMap(splitLicenseKeys);
  if (keys.length === 0) throw new ArcaError('BAD_REQUEST', `No license key in the request. ${USAGE}`);
  if (keys.length > MAX_KEYS) throw new ArcaError('BAD_REQUEST', `At most ${MAX_KEYS} license keys per request, got ${keys.length}`);
  return keys;
}

/**
 * The Cluster License Manager's REST API (REST-API.md §5, docs/rest-api.md "Licenses"):
 * list, install and delete the pool's licenses. Admin only. With the manager off, GET says so
 * in `licenseManager` and POST and DELETE answer 409.
 */
export async function licenseRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(PATH, async (request) => {
    await requireAdmin(ctx, request);
    const m = ctx.licenses;
    if (!m.enabled) return { licenses: [], licenseManager: { enabled: false, message: LICENSE_MANAGER_OFF } };
    const own = m.status();
    return {
      licenses: await m.pool.list(),
      licenseManager: {
        enabled: true,
        nodeId: ctx.node.nodeId,
        nodeLicense: own.hash ?? null,
        expiryWindowDays: m.pool.options.expiryWindowMs / 86_400_000,
      },
    };
  });

  app.post(PATH, ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    const pool = ctx.licenses.pool;
    const keys = keysOfBody(request.body, (request.headers['content-type'] ?? '').startsWith('text/plain'));
    const results = await pool.install(keys, request.principal?.name ?? 'unknown');
    const messages: Record<string, string> = {};
    for (const r of results) messages[r.key] = r.message;
    const installed = results.filter((r) => r.ok).length;
    request.log.info({ installed, refused: results.length - installed, user: request.principal?.name }, 'licenses installed');
    // This node may have been waiting for one; the others hear of the change through the database.
    if (installed > 0) await ctx.licenses.check();
    const status = installed > 0 ? 200 : 400;
    return reply.code(status).send({ status, messages });
  });

  app.delete(PATH, ADMIN, async (request, reply) => {
    await requireAdmin(ctx, request);
    const pool = ctx.licenses.pool;
    const raw = (request.query as Record<string, unknown>).licenseHash;
    const hashes = (Array.isArray(raw) ? raw : [raw])
      .filter((v): v is string => typeof v === 'string')
      .flatMap((v) => v.split(','))
      .map((h) => h.trim())
      .filter((h) => h !== '');
    if (hashes.length === 0) throw new ArcaError('BAD_REQUEST', 'Name the licenses to delete: ?licenseHash=<hash>[,<hash>…]');
    const results = await pool.remove(hashes);
    const messages: Record<string, string> = {};
    for (const r of results) messages[r.hash] = r.message;
    const deleted = results.filter((r) => r.ok).length;
    request.log.info({ deleted, refused: results.length - deleted, user: request.principal?.name }, 'licenses deleted');
    if (deleted > 0) await ctx.licenses.check();
    const status = deleted > 0 ? 200 : 400;
    return reply.code(status).send({ status, messages });
  });
}
