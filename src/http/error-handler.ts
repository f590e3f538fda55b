/**
 * The Fastify error handler of a protocol: the one mapper decides status, code, message and
 * headers, the protocol's renderer the body. A fault of the server is logged with its stack;
 * when the response has already started, the socket is closed instead.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { mapError, type MappedError } from './error-mapper.js';
import { jfrogRenderer, type ErrorRenderer } from './error-renderers.js';

export interface ErrorHandlerOptions {
  /** The challenges of a 401 in place of the Basic realm (the registry's Bearer and Basic ones). */
  challenge?: (request: FastifyRequest) => Promise<string[]>;
}

export type ErrorHandler = (err: unknown, request: FastifyRequest, reply: FastifyReply) => Promise<void>;

export function errorHandlerFor(renderer: ErrorRenderer, options: ErrorHandlerOptions = {}): ErrorHandler {
  return async (err, request, reply) => {
    const mapped = mapError(err, { xhr: request.headers['x-requested-with'] === 'XMLHttpRequest' });
    if (mapped.internal) request.log.error({ err, url: request.url, method: request.method, protocol: renderer.name }, 'request failed');
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return;
    }
    if (options.challenge && mapped.headers['WWW-Authenticate'] !== undefined) mapped.headers['WWW-Authenticate'] = await options.challenge(request);
    sendError(reply, renderer, mapped);
  };
}

/** Sends a mapped error: its status and headers, the body and headers of the renderer. */
export function sendError(reply: FastifyReply, renderer: ErrorRenderer, mapped: MappedError): void {
  const out = renderer.render(mapped);
  reply.headers({ ...mapped.headers, ...out.headers });
  if (out.reason !== undefined) reply.raw.statusMessage = out.reason;
  // A refusal before the whole body arrived (too large, malformed at its start): the client is
  // told not to send another request on this connection, which closes once the answer is out
  // (the rest of the body is still read and dropped for a moment: unread-body.ts).
  const raw = reply.request?.raw;
  if (raw && !raw.complete && raw.socket !== undefined) reply.header('Connection', 'close');
  reply.code(mapped.status).type(out.contentType).send(out.body);
}

/** The error handler of the JFrog REST API and every route without a protocol of its own. */
export const errorHandler = errorHandlerFor(jfrogRenderer);
