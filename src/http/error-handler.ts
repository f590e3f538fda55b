import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ArcaError, type ErrorCode } from '../core/errors.js';

export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  INVALID_PATH: 400,
  INVALID_CONFIG: 400,
  NOT_FOUND: 404,
  REPO_NOT_FOUND: 404,
  ITEM_NOT_FOUND: 404,
  CONFLICT: 409,
  ALREADY_EXISTS: 409,
  CHECKSUM_MISMATCH: 409,
  CHECKSUM_DEPLOY_FAILED: 404,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  LOCKED_OUT: 401,
  RANGE_NOT_SATISFIABLE: 416,
  PRECONDITION_FAILED: 412,
  STORAGE_FULL: 507,
  UPLOAD_ABORTED: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNAVAILABLE: 503,
  UPSTREAM_FAILED: 502,
  METHOD_NOT_ALLOWED: 405,
  NOT_IMPLEMENTED: 501,
  INTERNAL: 500,
};

export const REALM = 'Basic realm="Artifactory Realm"';

export function jfrogError(status: number, message: string) {
  return { errors: [{ status, message }] };
}

/** The one error handler: catalogue errors become their status with the JFrog error body. */
export function errorHandler(err: FastifyError | ArcaError | Error, request: FastifyRequest, reply: FastifyReply): void {
  let status: number;
  let message = err.message;
  if (err instanceof ArcaError) {
    status = STATUS_BY_CODE[err.code];
    // Not to the web UI's scripts (X-Requested-With): the browser would show its own login dialog.
    if (status === 401 && request.headers['x-requested-with'] !== 'XMLHttpRequest') reply.header('WWW-Authenticate', REALM);
    const retry = err.details?.retryAfter;
    if (typeof retry === 'number') reply.header('Retry-After', String(retry));
  } else if (typeof (err as FastifyError).statusCode === 'number' && (err as FastifyError).statusCode! < 500) {
    status = (err as FastifyError).statusCode!;
    if ((err as FastifyError).code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) message = `Invalid JSON body: ${err.message}`;
  } else {
    status = 500;
    request.log.error({ err, url: request.url, method: request.method }, 'request failed');
    message = 'Internal server error';
  }
  if (reply.sent || reply.raw.headersSent) {
    reply.raw.destroy();
    return;
  }
  reply.code(status).type('application/json').send(jfrogError(status, message));
}
