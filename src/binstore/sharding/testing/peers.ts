import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { systemClock, type Clock } from '../../../core/clock.js';
import { freePort } from '../../../core/testing/ports.js';
import type { AppContext } from '../../../http/app-context.js';
import { errorHandler } from '../../../http/error-handler.js';
import { binstoreNodeRoutes } from '../../../http/routes/system/binstore-node.js';
import { FileSystemProvider } from '../../file-system-provider.js';
import type { BinaryProvider } from '../../binary-provider.js';
import type { BuildContext, PeerNode, ProviderNode } from '../../chain/types.js';
import { remoteProviderType } from '../remote-provider.js';

export const SECRET = Buffer.alloc(32, 7);
export const SILENT_LOG: BuildContext['log'] = { info() {}, warn() {}, error() {} };

export function tempDir(prefix = 'arca-shard-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A real file-system store in `<dir>/<name>/{filestore,tmp}`. */
export async function fsStore(dir: string, name: string, clock: Clock = systemClock): Promise<FileSystemProvider> {
  return new FileSystemProvider({ fileStoreDir: join(dir, name, 'filestore'), tempDir: join(dir, name, 'tmp'), clock }).init();
}

/** Staging files of a store (what the conformance suite expects to be empty). */
export function stagingOf(dir: string, name: string): string[] {
  try {
    return readdirSync(join(dir, name, 'tmp')).filter((n) => !n.startsWith('.probe'));
  } catch {
    return [];
  }
}

/** A peer node's side: a real HTTP server on 127.0.0.1 mounting the node API over its own file store. */
export interface TestPeer {
  nodeId: string;
  url: string;
  port: number;
  dir: string;
  store: FileSystemProvider;
  /** Stops listening (the peer is down); `start` listens again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startPeer(nodeId: string, opts: { secret?: Buffer; clock?: Clock; maxSkewMs?: number } = {}): Promise<TestPeer> {
  const dir = tempDir(`arca-peer-${nodeId}-`);
  const store = await fsStore(dir, 'local');
  const port = await freePort();
  const clock = opts.clock ?? systemClock;
  const ctx = { clock, binstoreNode: { local: store, secret: opts.secret ?? SECRET, nodeId, maxSkewMs: opts.maxSkewMs } } as unknown as AppContext;
  let app: FastifyInstance | undefined;
  const start = async () => {
    const a = Fastify({ forceCloseConnections: true });
    a.setErrorHandler(errorHandler);
    await a.register(async (scope) => binstoreNodeRoutes(scope, ctx));
    await a.listen({ host: '127.0.0.1', port });
    app = a;
  };
  const stop = async () => {
    await app?.close();
    app = undefined;
  };
  await start();
  return {
    nodeId,
    url: `http://127.0.0.1:${port}/artifactory`,
    port,
    dir,
    store,
    start,
    stop,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function providerNode(id: string, type: string, params: Record<string, string>, more: Partial<ProviderNode> = {}): ProviderNode {
  return { id, type, params, explicit: Object.keys(params), subProviders: [], ...more };
}

/** The remote dynamic provider as the cluster-file-system template declares it (short timeouts for tests). */
export function remoteNode(params: Record<string, string> = {}): ProviderNode {
  return providerNode('remote-fs', 'remote', { zone: 'remote', connectionTimeout: '2000', socketTimeout: '5000', maxConnections: '20', connectionRetry: '1', checkPeriod: '15000', ...params });
}

/** A BuildContext whose `build` creates remote providers (the only dynamic type the tests use). */
export function buildContext(dataDir: string, peers: () => PeerNode[], opts: { clock?: Clock; nodeId?: string; secret?: Buffer } = {}): BuildContext {
  const ctx: BuildContext = {
    dataDir,
    nodeId: opts.nodeId ?? 'node-1',
    clock: opts.clock ?? systemClock,
    log: SILENT_LOG,
    peers: async () => peers(),
    nodeSecret: opts.secret ?? SECRET,
    build: async (node, extra): Promise<BinaryProvider> => remoteProviderType.create({ node, ctx, subs: [], peer: extra?.peer }),
  };
  return ctx;
}

export async function* chunks(data: Buffer, size = 64 * 1024): AsyncIterable<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

export async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Stages and commits `data` through a provider; returns its SHA-1. */
export async function put(provider: BinaryProvider, data: Buffer): Promise<string> {
  const staged = await provider.stage(chunks(data));
  await staged.commit();
  return staged.sha1;
}
