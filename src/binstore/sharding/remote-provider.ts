import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Clock } from '../../core/clock.js';
import { ArcaError, type ErrorCode } from '../../core/errors.js';
import type { BinaryProvider, ByteRange, StagedBinary, StageOptions } from '../binary-provider.js';
import { intParam, paramError } from '../chain/params.js';
import type { PeerNode, ProviderType } from '../chain/types.js';
import { NODE_API_PREFIX, signRequest } from './node-auth.js';
import { cleanStaleFiles, stageToFile } from '../wrappers/staging-file.js';
import { registerTempDir } from '../temp-files.js';

const LIST_PAGE = 1000;

export interface RemoteProviderOptions {
  /** Provider id as shown in logs (the dynamic provider's id and the peer's node id). */
  id: string;
  peer: PeerNode;
  /** This node's id and the cluster's node secret, to sign every request. */
  nodeId: string;
  secret: Buffer;
  clock: Clock;
  /** Where `stage` spools bytes before a commit sends them (rarely used: sharding copies stream). */
  tempDir: string;
  connectionTimeout?: number;
  socketTimeout?: number;
  maxConnections?: number;
  connectionRetry?: number;
  checkPeriod?: number;
}

/** A request that never reached the peer's application (refused, reset, timed out). */
class ConnectionError extends Error {}

interface Call {
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** Opens the request body; called again for a retry. */
  body?: () => Promise<AsyncIterable<Uint8Array>>;
}

const STATUS_CODES: Record<number, ErrorCode> = { 400: 'BAD_REQUEST', 404: 'ITEM_NOT_FOUND', 409: 'CHECKSUM_MISMATCH', 416: 'RANGE_NOT_SATISFIABLE', 507: 'STORAGE_FULL' };

/**
 * The seed's `remote` provider: one peer node's local shard, reached through the peer's
 * internal node API (`<peer context url>/api/binstore/node/…`) with signed requests over a
 * keep-alive agent of `maxConnections` sockets. Connection failures are retried
 * `connectionRetry` times; then the peer counts as down for `checkPeriod` ms and calls fail
 * at once with UNAVAILABLE.
 */
export class RemoteProvider implements BinaryProvider {
  readonly type = 'remote';
  private readonly agent: http.Agent;
  private readonly base: URL;
  private downUntil = 0;
  private lastError = '';

  constructor(readonly opts: RemoteProviderOptions) {
    registerTempDir(opts.tempDir);
    this.base = new URL(opts.peer.url.replace(/\/+$/, '') + '/');
    const max = opts.maxConnections ?? 200;
    const agentOpts = { keepAlive: true, maxSockets: max, maxFreeSockets: Math.min(max, 32) };
    this.agent = this.base.protocol === 'https:' ? new https.Agent(agentOpts) : new http.Agent(agentOpts);
  }

  get peer(): PeerNode {
    return this.opts.peer;
  }

  available(): boolean {
    return this.opts.clock.now() >= this.downUntil;
  }

  private unavailable(): ArcaError {
    const secs = Math.max(0, Math.ceil((this.downUntil - this.opts.clock.now()) / 1000));
    return new ArcaError('UNAVAILABLE', `Peer node '${this.opts.peer.nodeId}' (${this.opts.peer.url}) is unavailable: ${this.lastError} (next attempt in ${secs} s)`);
  }

  private markDown(reason: string): void {
    this.lastError = reason;
    this.downUntil = this.opts.clock.now() + (this.opts.checkPeriod ?? 15_000);
  }

  private once(call: Call): Promise<IncomingMessage> {
    const url = new URL(call.path.slice(1), this.base);
    const headers = { ...call.headers, ...signRequest(this.opts.secret, this.opts.nodeId, call.method, call.path, this.opts.clock.now()) };
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = lib.request(url, { method: call.method, headers, agent: this.agent });
      let connected = false;
      const connectTimer = setTimeout(() => {
        if (!connected) req.destroy(new ConnectionError(`no connection within ${this.opts.connectionTimeout ?? 5000} ms`));
      }, this.opts.connectionTimeout ?? 5000);
      req.on('socket', (socket) => {
        const onConnect = () => {
          connected = true;
          clearTimeout(connectTimer);
        };
        if (socket.connecting) socket.once('connect', onConnect);
        else onConnect();
      });
      req.setTimeout(this.opts.socketTimeout ?? 15_000, () => req.destroy(new ConnectionError(`no data for ${this.opts.socketTimeout ?? 15_000} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(connectTimer);
        // A kept-alive socket the peer closed meanwhile fails on reuse: that request never arrived.
        const stale = req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
        reject(!connected || stale || err instanceof ConnectionError ? new ConnectionError(err.message) : err);
      });
      req.on('response', (res) => {
        clearTimeout(connectTimer);
        resolve(res);
      });
      if (!call.body) {
        req.end();
        return;
      }
      call
        .body()
        .then((body) => pipeline(Readable.from(body), req))
        .catch((err) => req.destroy(err as Error));
    });
  }

  /** One call with retries on connection failures; non-2xx statuses become catalogue errors. */
  private async call(call: Call, accept: number[] = [200]): Promise<IncomingMessage> {
    if (!this.available()) throw this.unavailable();
    const attempts = 1 + (this.opts.connectionRetry ?? 2);
    let last: unknown;
    for (let i = 0; i < attempts; i++) {
      try {
        const res = await this.once(call);
        if (accept.includes(res.statusCode ?? 0)) return res;
        const text = await readAll(res).then((b) => b.toString('utf8').slice(0, 500), () => '');
        const status = res.statusCode ?? 0;
        if (status === 401 || status === 403) {
          this.markDown(`it refused this node's signed request (${status}: ${text}); do both nodes share the master key?`);
          throw this.unavailable();
        }
        const code = STATUS_CODES[status] ?? 'UNAVAILABLE';
        throw new ArcaError(code, `Peer node '${this.opts.peer.nodeId}' answered ${status} to ${call.method} ${call.path}: ${messageOf(text)}`);
      } catch (err) {
        if (!(err instanceof ConnectionError)) throw err;
        last = err;
      }
    }
    this.markDown((last as Error).message);
    throw this.unavailable();
  }

  private path(sha1: string): string {
    return `${NODE_API_PREFIX}/binaries/${sha1}`;
  }

  async size(sha1: string): Promise<number | undefined> {
    try {
      const res = await this.call({ method: 'HEAD', path: this.path(sha1) });
      res.resume();
      return Number(res.headers['content-length']);
    } catch (err) {
      if (err instanceof ArcaError && err.code === 'ITEM_NOT_FOUND') return undefined;
      throw err;
    }
  }

  async exists(sha1: string): Promise<boolean> {
    return (await this.size(sha1)) !== undefined;
  }

  async read(sha1: string, range?: ByteRange): Promise<Readable> {
    const headers: Record<string, string> = range ? { range: `bytes=${range.start}-${range.end}` } : {};
    return this.call({ method: 'GET', path: this.path(sha1), headers }, [200, 206]);
  }

  async readBuffer(sha1: string): Promise<Buffer> {
    return readAll(await this.read(sha1));
  }

  async delete(sha1: string): Promise<boolean> {
    const res = await this.call({ method: 'DELETE', path: this.path(sha1) }, [204, 404]);
    res.resume();
    return res.statusCode === 204;
  }

  /** Sends a binary whose SHA-1 is known; the peer stages it, verifies the SHA-1 and commits. */
  async putBinary(sha1: string, openBody: () => Promise<AsyncIterable<Uint8Array>>, size: number): Promise<void> {
    const res = await this.call(
      { method: 'PUT', path: this.path(sha1), headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) }, body: openBody },
      [200, 201],
    );
    res.resume();
  }

  async *list(): AsyncIterable<{ sha1: string; mtimeMs: number }> {
    let after = '';
    for (;;) {
      const res = await this.call({ method: 'GET', path: `${NODE_API_PREFIX}/binaries?after=${after}&limit=${LIST_PAGE}` });
      const page = JSON.parse((await readAll(res)).toString('utf8')) as { items: { sha1: string; mtimeMs: number }[]; next?: string };
      for (const item of page.items) yield item;
      if (!page.next) return;
      after = page.next;
    }
  }

  async check(): Promise<void> {
    (await this.call({ method: 'GET', path: `${NODE_API_PREFIX}/check` })).resume();
  }

  /** Spools the bytes to a local file (computing checksums); `commit` sends them to the peer. */
  async stage(source: AsyncIterable<Uint8Array>, options: StageOptions = {}): Promise<StagedBinary> {
    await mkdir(this.opts.tempDir, { recursive: true, mode: 0o700 });
    const { path: tmp, ...info } = await stageToFile(source, this.opts.tempDir, options, { fsync: false });
    let done = false;
    return {
      ...info,
      commit: async () => {
        if (done) return;
        await this.putBinary(info.sha1, async () => createReadStream(tmp), info.size);
        done = true;
        await rm(tmp, { force: true });
      },
      discard: async () => {
        done = true;
        await rm(tmp, { force: true });
      },
    };
  }

  async cleanTemp(olderThanMs: number, now = Date.now()): Promise<number> {
    return cleanStaleFiles(this.opts.tempDir, olderThanMs, now);
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function messageOf(text: string): string {
  try {
    const body = JSON.parse(text) as { errors?: { message?: string }[] };
    return body.errors?.[0]?.message ?? text;
  } catch {
    return text;
  }
}

/** `<dynamic-provider type="remote">`: built once per live peer by a sharding-cluster provider. */
export const remoteProviderType: ProviderType = {
  type: 'remote',
  async create({ node, ctx, peer }) {
    if (!peer) {
      throw paramError(node, 'a remote provider is a <dynamic-provider> of a sharding-cluster provider (one per peer node)');
    }
    return new RemoteProvider({
      id: `${node.id}@${peer.nodeId}`,
      peer,
      nodeId: ctx.nodeId,
      secret: ctx.nodeSecret,
      clock: ctx.clock,
      tempDir: join(ctx.dataDir, 'tmp', 'remote'),
      connectionTimeout: intParam(node, 'connectionTimeout', 5000, 1),
      socketTimeout: intParam(node, 'socketTimeout', 15_000, 1),
      maxConnections: intParam(node, 'maxConnections', 200, 1),
      connectionRetry: intParam(node, 'connectionRetry', 2),
      checkPeriod: intParam(node, 'checkPeriod', 15_000),
    });
  },
};
