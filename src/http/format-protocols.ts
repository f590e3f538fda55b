import type { FastifyInstance } from 'fastify';
import type { FormatModule } from '../formats/format-module.js';
import type { AppContext } from './app-context.js';
import { errorHandlerFor } from './error-handler.js';

/**
 * Registers the protocol of every format that has one, each in a Fastify scope of its own:
 * the format's error shape (over the one error mapper) and the challenge of its 401s apply
 * to its routes only, and a route outside the format's declared prefixes stops the app from
 * being built.
 */
export async function registerFormatProtocols(app: FastifyInstance, ctx: AppContext, formats: readonly FormatModule[]): Promise<void> {
  for (const format of formats) {
    const protocol = format.protocol;
    if (!protocol) continue;
    await app.register(async (scope) => {
      scope.setErrorHandler(errorHandlerFor(protocol.errors, { challenge: protocol.challenge?.(ctx) }));
      scope.addHook('onRoute', (route) => {
        if (!protocol.prefixes.some((p) => route.url.startsWith(p))) {
          throw new Error(`Format '${format.name}' registers ${route.url}, outside its prefixes ${protocol.prefixes.join(', ')}`);
        }
      });
      await protocol.routes(scope, ctx, ctx.formatServices.find(format));
    });
  }
}
