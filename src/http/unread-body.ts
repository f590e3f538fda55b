/**
 * What happens to a body nobody read. When a request is answered before its body was read
 * (a refusal before the body, an error early in a handler), Node keeps reading and dropping
 * the rest so the connection can serve the next request. For a large or endless body that
 * would let a refused caller keep the server reading; closing at once instead can reset the
 * connection before the client has read the answer. So the server lingers: it drops what
 * still arrives for at most LINGER_MS and LINGER_BYTES after the answer, then closes the
 * connection (as web servers' lingering close does).
 */
import type { FastifyRequest } from 'fastify';

/** Longest time the rest of an unread body is waited for after the answer. */
export const LINGER_MS = 2000;
/** Most bytes of an unread body dropped after the answer before the connection is closed. */
export const LINGER_BYTES = 1024 * 1024;
const POLL_MS = 25;

/** Call once the response has been sent: bounds how much more of the request body is read. */
export function boundUnreadBody(request: FastifyRequest): void {
  const raw = request.raw;
  // A body stream destroyed part-read (a reader that stopped at its size limit) no longer names its socket.
  const socket = raw.socket ?? request.connection;
  // (Injected requests, in tests, have no real socket.)
  if (raw.complete || !socket || socket.destroyed || typeof socket.destroy !== 'function') return;
  // Node drops the rest of a body nobody began to read; a body read in part, or destroyed,
  // stays paused with its socket, and the next request on the connection would wait for the
  // keep-alive timeout. Read on (what arrives is dropped), within the bounds below.
  if (raw.destroyed) socket.resume();
  else raw.resume();
  const start = socket.bytesRead;
  const stop = () => {
    done();
    // The body may have ended meanwhile: the connection then serves the next request.
    if (!raw.complete) socket.destroy();
  };
  const timer = setTimeout(stop, LINGER_MS);
  const poll = setInterval(() => {
    if (raw.complete) done();
    else if (socket.bytesRead - start > LINGER_BYTES) stop();
  }, POLL_MS);
  timer.unref();
  poll.unref();
  function done(): void {
    clearTimeout(timer);
    clearInterval(poll);
    raw.off('end', done);
    socket.off('close', done);
  }
  raw.once('end', done);
  socket.once('close', done);
}
