import { createServer } from 'node:http';
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
import type { Socket } from 'node:net';
import { FastGet } from './fast-get.js';
import { HttpMetrics } from './http-metrics.js';
import { registerFormatProtocols } from './format-protocols.js';
import { FORMATS } from '../formats/registry.js';
import { artifactRoutes } from './routes/artifacts/artifacts.js';
import { repositoryRoutes } from './routes/repositories/repositories.js';
import { repositoryAdminRoutes } from './routes/repositories/repository-admin.js';
import { systemInfoRoutes } from './routes/system/system-info.js';
import { securityRoutes } from './routes/security/routes.js';
import { systemRoutes } from './routes/system/system.js';
import { configFileRoutes } from './routes/system/config-files.js';
import { uiAuthRoutes } from './routes/security/ui-auth.js';
import { searchRoutes } from './routes/storage/search.js';
import { copyMoveRoutes } from './routes/storage/copy-move.js';
import { buildRoutes } from './routes/builds/builds.js';
import { archiveDownloadRoutes } from './routes/storage/archive-download.js';
import { trashRoutes } from './routes/storage/trash.js';
import { storageRoutes } from './routes/storage/storage.js';
import { taskRoutes } from './routes/system/tasks.js';
import { licenseRoutes } from './routes/system/licenses.js';
import { binstoreNodeRoutes } from './routes/system/binstore-node.js';
import { uiStaticRoutes } from './routes/ui/static.js';
import { systemLogRoutes } from './routes/system/logs.js';
import { replicationRoutes } from './routes/replication/replications.js';
import { signingKeyRoutes } from './routes/security/signing-keys.js';

export interface AppOptions {
  /** Where one line per request goes (`logs/request.log`); none when undefined. */
  requestLog?: RequestLog;
  /** Serve plain downloads of small files before Fastify's cycle (fast-get.ts); default true. */
  fastGet?: boolean;
}

/** The JFrog REST API plugins, in registration order. Formats bring their own protocol routes (formats/registry.ts). */
const API_PLUGINS = [systemRoutes, systemInfoRoutes, repositoryRoutes, repositoryAdminRoutes, storageRoutes, searchRoutes, copyMoveRoutes, archiveDownloadRoutes, buildRoutes, trashRoutes, securityRoutes, configFileRoutes, uiAuthRoutes, taskRoutes, licenseRoutes, binstoreNodeRoutes, systemLogRoutes, replicationRoutes, signingKeyRoutes, uiStaticRoutes];

const KEEP_ALIVE_MS = 65_000;

declare module 'fastify' {
  interface FastifyRequest {
    startedAt: bigint;
    /** The request's socket (see unread-body.ts). */
    connection: Socket | null;
  }
}

/** Builds the whole HTTP application from an AppContext; tests use it with `inject()`. */
export async function buildApp(ctx: AppContext, options: AppOptions = {}): Promise<FastifyInstance> {
  const metrics = new HttpMetrics(ctx.metrics, options.requestLog);
  const fast = new FastGet(
    ctx,
    metrics,
    options.fastGet ?? true,
    FORMATS.flatMap((f) => (f.protocol?.storedFiles ? [f.protocol.storedFiles] : [])),
  );
  const app: FastifyInstance = Fastify({
    // Fastify's own server, with the download fast path in front of Fastify's handler.
    // Set up as Fastify sets up its own: no request or socket timeout (uploads take as long as
    // they take), keep-alive connections kept for 65 s.
    serverFactory: (handler) => {
      const server = createServer((req, res) => fast.handle(req, res, handler));
      server.keepAliveTimeout = KEEP_ALIVE_MS;
      server.requestTimeout = 0;
      server.setTimeout(0);
      return server;
    },
    loggerInstance: ctx.log as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { maxParamLength: 16384 },
    keepAliveTimeout: KEEP_ALIVE_MS,
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

  const nodeId = ctx.node.nodeId;

  app.decorateRequest('startedAt', 0n);
  app.decorateRequest('connection', null);
  app.addHook('onRequest', (request, reply, done) => {
    request.startedAt = process.hrtime.bigint();
    // Kept: a request whose body stream was destroyed unread no longer names its socket.
    request.connection = request.raw.socket;
    reply.header('X-Artifactory-Node-Id', nodeId);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    metrics.record({
      method: request.method,
      status: reply.statusCode,
      seconds: Number(process.hrtime.bigint() - request.startedAt) / 1e9,
      ip: request.ip,
      user: request.principal?.name,
      url: request.url,
      bytesIn: Number(request.headers['content-length'] ?? 0),
      bytesOut: Number(reply.getHeader('content-length') ?? 0),
    });
    boundUnreadBody(request);
    done();
  });
  // The fast path leaves every URL another GET route serves to Fastify.
  app.addHook('onRoute', (route) => fast.noteRoute(route.url, Array.isArray(route.method) ? route.method : [route.method]));

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
