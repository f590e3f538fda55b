import type { FastifyInstance } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import type { AppContext } from '../../app-context.js';
import { securityApiKeyRoutes } from './api-keys.js';
import { securityGroupRoutes } from './groups.js';
import { securityPermissionRoutes } from './permissions.js';
import { securityTokenRoutes } from './tokens.js';
import { securityUserRoutes } from './users.js';

function parseJson(body: string): unknown {
  if (body.trim() === '') return undefined;
  try {
    return JSON.parse(body);
  } catch (err) {
    throw new ArcaError('BAD_REQUEST', `Invalid JSON body: ${(err as Error).message}`);
  }
}

/**
 * The security REST API (REST-API.md §6): users, groups, permission targets (v1 and v2),
 * access tokens (legacy and 7.x Access), API keys and encrypted passwords.
 */
export async function securityRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // Token requests are form-encoded; JFrog clients also send vendor JSON types.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.addContentTypeParser(/^application\/[\w.+-]+\+json(?:\s*;|$)/i, { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJson(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  await securityUserRoutes(app, ctx);
  await securityGroupRoutes(app, ctx);
  await securityPermissionRoutes(app, ctx);
  await securityTokenRoutes(app, ctx);
  await securityApiKeyRoutes(app, ctx);
}
