import type { FastifyInstance } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import type { AppContext } from '../../app-context.js';

/** SHA-1s asked about per request. */
export const MAX_ASKED_BINARIES = 1000;
const SHA1 = /^[0-9a-f]{40}$/;

/**
 * `POST /api/replication/binaries` `{"sha1":[…]}` → `{"known":[…]}`: which of the binaries a
 * checksum deploy by the caller would find here (stored, and readable by the caller through
 * some item). An Arca extension for a replication sender: a scheduled push asks once per page
 * and sends by checksum what the target knows and the body at once for the rest, instead of a
 * checksum deploy answered 404 before each new file. Any authenticated user; the answer tells
 * no more than checksum deploys would.
 */
export function replicationBinariesRoute(app: FastifyInstance, ctx: AppContext): void {
  app.post<{ Body: unknown }>('/artifactory/api/replication/binaries', { config: { access: 'authenticated' }, bodyLimit: 64 * 1024 }, async (request) => {
    const body = request.body as { sha1?: unknown } | null;
    const list = body && typeof body === 'object' ? body.sha1 : undefined;
    if (!Array.isArray(list)) throw new ArcaError('BAD_REQUEST', "Send {\"sha1\": [\"<40 hex digits>\", …]}: 'sha1' must be an array");
    if (list.length > MAX_ASKED_BINARIES) throw new ArcaError('BAD_REQUEST', `'sha1': at most ${MAX_ASKED_BINARIES} checksums per request`);
    list.forEach((v, i) => {
      if (typeof v !== 'string' || !SHA1.test(v)) throw new ArcaError('BAD_REQUEST', `'sha1[${i}]' is not a SHA-1 (40 lower-case hex digits)`);
    });
    return { known: await ctx.artifacts.knownBinaries(list as string[], request.access) };
  });
}
