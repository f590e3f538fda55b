/**
 * The status and message a format's own error handler sends (npm's JSON, PyPI's plain
 * text): typed errors map by code (401 adds the realm challenge), client errors from
 * Fastify keep theirs, anything else is logged and becomes a 500 without details.
 * Returns undefined when the response has already started: the socket is then closed.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ArcaError } from '../core/errors.js';
import { REALM, STATUS_BY_CODE } from './error-handler.js';

export function formatErrorStatus(
  err: FastifyError | ArcaError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
  logMessage: string,
): { status: number; message: string } | undefined {
  let status: number;
  let message = err.message;
  if (err instanceof ArcaError) {
    status = STATUS_BY_CODE[err.code];
    if (status === 401) reply.header('WWW-Authenticate', REALM);
  } else if (typeof (err as FastifyError).statusCode === 'number' && (err as FastifyError).statusCode! < 500) {
    status = (err as FastifyError).statusCode!;
  } else {
    status = 500;
    request.log.error({ err, url: request.url, method: request.method }, logMessage);
    message = 'Internal server error';
  }
  if (reply.sent || reply.raw.headersSent) {
    reply.raw.destroy();
    return undefined;
  }
  return { status, message };
}
