import type { FastifyInstance } from 'fastify';
import { buildApp } from '../http/app.js';
import { RequestLog } from '../http/request-log.js';
import { banner, createNodeContext, type NodeContext, type NodeOptions } from './context.js';

export interface ServeOptions extends NodeOptions {
  port: number;
  host: string;
  /** Run the node's singletons (the GC schedule) in this process. */
  singletons?: boolean;
  /** Print the banner (the supervisor prints it once for all workers). */
  printBanner?: boolean;
  /** Called once the node's context is built (start-up duties done), before listening. */
  onInitialised?: () => void;
  /** Called once the HTTP server listens. */
  onListening?: (address: string) => void;
}

export interface RunningNode {
  ctx: NodeContext;
  app: FastifyInstance;
  address: string;
  stop(reason?: string): Promise<void>;
}

/** Periodic node-local duties; cluster-wide scheduling replaces this in HA mode. */
function startSingletons(ctx: NodeContext): () => void {
  const intervalMs = ctx.system.number('arca.gc.intervalSecs') * 1000;
  if (intervalMs <= 0) return () => undefined;
  let running = false;
  const timer = setInterval(() => {
    if (running || ctx.state.draining) return;
    running = true;
    ctx
      .runGc()
      .catch((err: unknown) => ctx.log.error({ err }, 'garbage collection failed'))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Builds the context and the HTTP app of one process and starts listening. */
export async function serve(options: ServeOptions): Promise<RunningNode> {
  const ctx = await createNodeContext(options);
  options.onInitialised?.();
  if (options.printBanner !== false) ctx.log.info(banner(ctx));
  const requestLog = new RequestLog(`${ctx.layout.logs}/request.log`);
  const app = await buildApp(ctx, { requestLog });
  let address: string;
  try {
    address = await app.listen({ port: options.port, host: options.host });
  } catch (err) {
    await ctx.close();
    throw err;
  }
  ctx.state.ready = true;
  const registering = options.init !== false;
  if (registering) {
    await ctx.registry.setState('RUNNING');
    if (options.singletons !== false) ctx.registry.startHeartbeat((err) => ctx.log.warn({ err }, 'heartbeat failed'));
  }
  const stopSingletons = options.singletons === false ? () => undefined : startSingletons(ctx);
  options.onListening?.(address);
  let stopping: Promise<void> | undefined;
  const stop = (reason = 'stop requested') => {
    stopping ??= (async () => {
      ctx.state.draining = true;
      ctx.log.info({ reason }, 'stopping: no new connections, finishing in-flight requests');
      stopSingletons();
      if (registering) {
        ctx.registry.stopHeartbeat();
        await ctx.registry.setState('STOPPING').catch(() => undefined);
      }
      const timeoutMs = ctx.system.number('arca.shutdownTimeoutSecs') * 1000;
      const timer = setTimeout(() => {
        ctx.log.warn({ timeoutMs }, 'in-flight requests did not finish in time; closing their connections');
        app.server.closeAllConnections();
      }, timeoutMs);
      timer.unref();
      await app.close();
      clearTimeout(timer);
      if (registering) await ctx.registry.setState('STOPPED').catch(() => undefined);
      await ctx.close();
      requestLog.flush();
      ctx.log.info('stopped');
      ctx.log.flush();
    })();
    return stopping;
  };
  return { ctx, app, address, stop };
}
