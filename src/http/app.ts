import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { ArcaError } from '../core/errors.js';
import { errorHandler, sendError } from './error-handler.js';
import { mapError } from './error-mapper.js';
import { jfrogRenderer } from './error-renderers.js';
import type { AppContext } from './app-context.js';
import { registerAuth } from './auth.js';
import type { RequestLog } from './request-log.js';
import { registerSecurityHeaders, setSecurityHeaders } from './security-headers.js';
import { registerRouteAccess } from './route-access.js';
import { boundUnreadBody } from './unread-body.js';
import { registerFormatProtocols } from './format-protocols.js';
import { FORMATS } from '../formats/registry.js';
import { artifactRoutes } from './routes/artifacts/artifacts.js';
import { repositoryRoutes } from './routes/repositories/repositories.js';
import { securityRoutes } from './routes/security/routes.js';
import { systemRoutes } from './routes/system/system.js';
import { configFileRoutes } from './routes/system/config-files.js';
import { uiAuthRoutes } from './routes/security/ui-auth.js';
import { searchRoutes } from './routes/storage/search.js';
import { storageRoutes } from './routes/storage/storage.js';
import { taskRoutes } from './routes/system/tasks.js';
import { licenseRoutes } from './routes/system/licenses.js';
import { binstoreNodeRoutes } from './routes/system/binstore-node.js';
import { uiStaticRoutes } from './routes/ui/static.js';
import { systemLogRoutes } from './routes/system/logs.js';

export interface AppOptions {
  /** Where one line per request goes (`logs/request.log`); none when undefined. */
  requestLog?: RequestLog;
}

/** The JFrog REST API plugins, in registration order. Formats bring their own protocol routes (formats/registry.ts). */
const API_PLUGINS = [systemRoutes, repositoryRoutes, storageRoutes, searchRoutes, securityRoutes, configFileRoutes, uiAuthRoutes, taskRoutes, licenseRoutes, binstoreNodeRoutes, systemLogRoutes, uiStaticRoutes];

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

declare module 'fastify' {
  interface FastifyRequest {
    startedAt: bigint;
  }
}

/** Builds the whole HTTP application from an AppContext; tests use it with `inject()`. */
export async function buildApp(ctx: AppContext, options: AppOptions = {}): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: ctx.log as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { maxParamLength: 16384 },
    keepAliveTimeout: 65_000,
    // A request already accepted when the server stops listening is served, not refused: the
    // drain on SIGTERM finishes it (and its response closes the connection; see node/server.ts).
    return503OnClosing: false,
    bodyLimit: 4 * 1024 * 1024,
    // Errors raised before routing (an undecodable URL, say) get the JFrog error body too.
    frameworkErrors: (error, _request, reply) => {
      setSecurityHeaders(reply as unknown as FastifyReply);
      sendError(reply as unknown as FastifyReply, jfrogRenderer, mapError(error, { beforeRouting: true }));
    },
  });

  const requests = ctx.metrics.counter('arca_http_requests_total', 'HTTP requests by method and status');
  const duration = ctx.metrics.histogram('arca_http_request_duration_seconds', 'HTTP request latency', DURATION_BUCKETS);
  const bytesIn = ctx.metrics.counter('arca_http_received_bytes_total', 'Request body bytes received');
  const bytesOut = ctx.metrics.counter('arca_http_sent_bytes_total', 'Response body bytes sent');
  const nodeId = ctx.node.nodeId;
  const labelCache = new Map<string, Readonly<Record<string, string>>>();
  const labelsFor = (method: string, status: number) => {
    const k = `${method} ${status}`;
    let l = labelCache.get(k);
    if (!l) labelCache.set(k, (l = Object.freeze<Record<string, string>>(status === 0 ? { method } : { method, status: String(status) })));
    return l;
  };

  app.decorateRequest('startedAt', 0n);
  app.addHook('onRequest', (request, reply, done) => {
    request.startedAt = process.hrtime.bigint();
    reply.header('X-Artifactory-Node-Id', nodeId);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const seconds = Number(process.hrtime.bigint() - request.startedAt) / 1e9;
    const method = request.method;
    const status = reply.statusCode;
    requests.inc(labelsFor(method, status));
    duration.observe(seconds, labelsFor(method, 0));
    const inLen = Number(request.headers['content-length'] ?? 0);
    if (inLen > 0) bytesIn.inc(undefined, inLen);
    const outLen = Number(reply.getHeader('content-length') ?? 0);
    if (outLen > 0 && method !== 'HEAD') bytesOut.inc(undefined, outLen);
    options.requestLog?.write({
      ip: request.ip,
      user: request.principal?.name,
      method,
      url: request.url,
      status,
      ms: Math.round(seconds * 100_000) / 100,
      bytes: outLen,
    });
    boundUnreadBody(request);
    done();
  });

  // Arca's own HTML (and any HTML it passes on) runs no script: see security-headers.ts.
  registerSecurityHeaders(app);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    sendError(reply, jfrogRenderer, mapError(new ArcaError('NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}`)));
  });

  registerAuth(app, ctx);
  registerRouteAccess(app, ctx);
  for (const plugin of API_PLUGINS) await app.register(async (scope) => plugin(scope, ctx));
  await registerFormatProtocols(app, ctx, FORMATS);
  await app.register(async (scope) => artifactRoutes(scope, ctx));
  return app;
}
