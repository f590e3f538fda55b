import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../../http/app-context.js';
import type { ErrorRenderer } from '../../../http/error-renderers.js';
import { OciError, ociCodeOf, ociErrorBody } from '../oci-errors.js';
import { challenges } from './oci-auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the registry routes: URL prefix and token scope for a 401's challenges. */
    oci?: { prefix: string; scope?: string };
  }
}

/**
 * The registry API's body: `{"errors":[{"code","message","detail"}]}` with the spec's codes,
 * an `OciError`'s own or the one its catalogue code stands for; every answer names the API version.
 * Status, code, message and headers come from the one error mapper (http/error-mapper.ts).
 */
export const ociRenderer: ErrorRenderer = {
  name: 'oci',
  render: (e) => {
    const oci = e.error instanceof OciError ? e.error : undefined;
    return {
      contentType: 'application/json',
      body: JSON.stringify(ociErrorBody(oci?.ociCode ?? ociCodeOf(e.code), e.message, oci?.detail)),
      headers: { 'Docker-Distribution-API-Version': 'registry/2.0' },
    };
  },
};

/**
 * The challenges of a registry 401: Bearer (the token realm of the request's prefix, with the
 * scope it asked for) and Basic.
 */
export function ociChallenge(ctx: AppContext): (request: FastifyRequest) => Promise<string[]> {
  return (request) => challenges(ctx, request, request.oci?.prefix ?? '', request.oci?.scope);
}
