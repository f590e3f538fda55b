import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../app-context.js';
import { challenges } from './oci-auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the registry routes: URL prefix and token scope for a 401's challenges. */
    oci?: { prefix: string; scope?: string };
  }
}

/**
 * The challenges of a registry 401: Bearer (the token realm of the request's prefix, with the
 * scope it asked for) and Basic. Errors themselves use the OCI envelope
 * (`{"errors":[{"code","message","detail"}]}`, see error-renderers.ts).
 */
export function ociChallenge(ctx: AppContext): (request: FastifyRequest) => Promise<string[]> {
  return (request) => challenges(ctx, request, request.oci?.prefix ?? '', request.oci?.scope);
}
