import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { UpstreamNetwork } from '../../src/services/remote/guarded-http.js';
import { ReplicationRunner } from '../../src/services/replication/runner.js';
import type { DialectName } from '../../src/db/database.js';
import { startTestNode, type TestNode } from './node-context.js';
import type { RepoConfig } from '../../src/services/repositories.js';

/** One request the proxy passed to the target site. */
export interface SeenRequest {
  method: string;
  url: string;
  checksumDeploy: boolean;
  /** Bytes of the request body that went through. */
  bodyBytes: number;
  status: number;
  /** Milliseconds from the request's arrival to the target's answer. */
  ms: number;
}

/**
 * A counting HTTP proxy in front of a site: every request is recorded (method, URL, whether it
 * was a deploy by checksum, body bytes) and passed on; `down` answers every request with a
 * reset connection, as a target that is not running.
 */
export class CountingProxy {
  seen: SeenRequest[] = [];
  down = false;
  private server: Server | undefined;
  url = '';

  constructor(private readonly targetPort: number) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      if (this.down) {
        req.socket.destroy();
        return;
      }
      const entry: SeenRequest = { method: req.method ?? '', url: req.url ?? '', checksumDeploy: req.headers['x-checksum-deploy'] === 'true', bodyBytes: 0, status: 0, ms: 0 };
      const t0 = performance.now();
      this.seen.push(entry);
      req.on('data', (c: Buffer) => (entry.bodyBytes += c.length));
      const out = httpRequest({ host: '127.0.0.1', port: this.targetPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        entry.status = answer.statusCode ?? 0;
        entry.ms = Math.round(performance.now() - t0);
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      out.on('error', () => res.destroy());
      req.pipe(out);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  /** PUTs seen since `from`: with a body, and deploys by checksum. */
  puts(from = 0): { bodies: number; checksum: number; bytes: number } {
    const puts = this.seen.slice(from).filter((s) => s.method === 'PUT');
    return { bodies: puts.filter((p) => !p.checksumDeploy).length, checksum: puts.filter((p) => p.checksumDeploy).length, bytes: puts.reduce((n, p) => n + p.bodyBytes, 0) };
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

export interface Sites {
  source: TestNode;
  target: TestNode;
  proxy: CountingProxy;
  /** The target site's base URL through the proxy (`http://127.0.0.1:port/artifactory`). */
  base: string;
  network: UpstreamNetwork;
  close(): Promise<void>;
}

/** Two in-process sites with their own databases; the target listens (behind a counting proxy). */
export async function startSites(sourceDialect: DialectName = 'sqlite'): Promise<Sites> {
  const source = await startTestNode(sourceDialect, { ARCA_SHARED_NODE_ID: 'site-a' });
  const target = await startTestNode('sqlite', { ARCA_SHARED_NODE_ID: 'site-b' });
  await target.app.listen({ port: 0, host: '127.0.0.1' });
  const proxy = await new CountingProxy((target.app.server.address() as AddressInfo).port).start();
  const network = new UpstreamNetwork();
  return {
    source,
    target,
    proxy,
    base: `${proxy.url}/artifactory`,
    network,
    async close() {
      network.close();
      await proxy.stop();
      await source.close();
      await target.close();
    },
  };
}

/** A runner on the source node's parts with fast timings for tests (its own, beside the node's). */
export function testRunner(
  node: TestNode,
  network: UpstreamNetwork,
  options: { backoffBaseMs?: number; maxAttempts?: number; leaseMs?: number; transient?: (repo: RepoConfig) => ((path: string) => boolean) | undefined } = {},
): ReplicationRunner {
  const ctx = node.ctx;
  return new ReplicationRunner({
    database: ctx.database,
    content: ctx.content,
    log: pino({ level: process.env.ARCA_TEST_LOG_LEVEL ?? 'silent' }),
    masterKey: ctx.masterKey,
    network,
    replications: ctx.replications,
    repo: (key) => ctx.repos.get(key),
    remote: ctx.packages.remote,
    remove: (repo, path) => ctx.artifacts.delete(repo, path),
    transient: options.transient ?? ((repo) => ctx.formats.handlerFor(repo.packageType).transientPath),
    metrics: ctx.metrics,
    scratchDir: ctx.layout.tmp,
    self: { nodeId: ctx.identity.nodeId, taskAffinity: 'any', explicit: true, primary: false },
    queue: { backoffBaseMs: options.backoffBaseMs ?? 100, backoffCapMs: 1_000, maxAttempts: options.maxAttempts ?? 10, jitter: 0 },
    delivery: { refreshMs: 100, idleMs: 50, leaseMs: options.leaseMs ?? 10_000 },
  });
}

/** Polls `check` until it returns true or `ms` pass. */
export async function until(check: () => Promise<boolean> | boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
