import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ArcaError } from '../../core/errors.js';
import { OciError, ociCodeOf, ociErrorBody } from '../../formats/docker/oci-errors.js';
import type { AppContext } from '../app-context.js';
import { STATUS_BY_CODE } from '../error-handler.js';
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
  return async (err: FastifyError | ArcaError | Error, request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    let status: number;
    let code: string;
    let message = err.message;
    let detail: unknown;
    if (err instanceof OciError) {
      status = err.status;
      code = err.ociCode;
      detail = err.detail;
    } else if (err instanceof ArcaError) {
      status = STATUS_BY_CODE[err.code];
      code = ociCodeOf(err.code);
      const retry = err.details?.retryAfter;
      if (typeof retry === 'number') reply.header('Retry-After', String(retry));
    } else if (typeof (err as FastifyError).statusCode === 'number' && (err as FastifyError).statusCode! < 500) {
      status = (err as FastifyError).statusCode!;
      code = status === 413 ? 'SIZE_INVALID' : 'UNSUPPORTED';
    } else {
      status = 500;
      code = 'UNKNOWN';
      request.log.error({ err, url: request.url, method: request.method }, 'registry request failed');
      message = 'Internal server error';
    }
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return;
    }
    if (status === 401) {
      const scope = request.oci?.scope;
      reply.header('WWW-Authenticate', await challenges(ctx, request, request.oci?.prefix ?? '', scope));
    }
    reply.header('Docker-Distribution-API-Version', 'registry/2.0');
    reply.code(status).type('application/json').send(JSON.stringify(ociErrorBody(code, message, detail)));
  };
}
