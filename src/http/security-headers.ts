import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The Content-Security-Policy of everything Arca serves except the web UI's own pages (which
 * set the policy the UI needs, see routes/ui/static.ts): no script of any kind, no plugins,
 * no forms, no framing, and a sandbox (an opaque origin, so even a script that slipped
 * through could not reach Arca's cookies or APIs). Inline styles and images stay allowed, so
 * folder listings, simple indexes and HTML files kept in repositories still render.
 */
export const RESTRICTIVE_CSP = "default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox";

/** The two headers every response carries (names in lower case, as Node sends them). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': RESTRICTIVE_CSP,
  'x-content-type-options': 'nosniff',
});

/**
 * Sets the restrictive policy and `X-Content-Type-Options: nosniff` on every response when
 * the request arrives, so they are there whatever answers it: a route, an error handler, a
 * file streamed after the reply was hijacked, or an upstream's HTML passed through. A route
 * that serves pages needing another policy replaces the header.
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', (_request, reply, done) => {
    setSecurityHeaders(reply);
    done();
  });
}

/** The two headers on one reply (for answers given before the hooks run: Fastify's own errors). */
export function setSecurityHeaders(reply: FastifyReply): void {
  reply.headers(SECURITY_HEADERS);
}
