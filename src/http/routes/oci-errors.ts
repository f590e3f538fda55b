import type { AppContext } from '../app-context.js';
import { errorHandlerFor } from '../error-handler.js';
import { ociRenderer } from '../error-renderers.js';
import { challenges } from './oci-auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the registry routes: URL prefix and token scope for a 401's challenges. */
    oci?: { prefix: string; scope?: string };
  }
}

/**
 * The registry routes' error handler: every error in the OCI envelope
 * (`{"errors":[{"code","message","detail"}]}`) with the spec's codes; 401s carry the
 * Bearer and Basic challenges. Catalogue errors from shared code map onto OCI codes.
 */
export function ociErrorHandler(ctx: AppContext) {
  return errorHandlerFor(ociRenderer, { challenge: (request) => challenges(ctx, request, request.oci?.prefix ?? '', request.oci?.scope) });
}
