import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface ScriptedAnswer {
  status: number;
  body?: Buffer | string;
  headers?: Record<string, string>;
  /** Wait this long before answering (for timeouts and concurrent requests). */
  delayMs?: number;
  /** Send the headers and part of the body, then stall forever (a dead socket). */
  stallAfterBytes?: number;
}

/** A tiny HTTP upstream whose answers a test scripts per path, counting every request. */
export class FakeUpstream {
  readonly requests: { method: string; path: string; headers: IncomingMessage['headers'] }[] = [];
  private readonly answers = new Map<string, (req: IncomingMessage) => ScriptedAnswer>();
  private server!: Server;
  url = '';

  /** Listens on `host` (another loopback address, 127.0.0.2…, where a test needs a second host). */
  async start(host = '127.0.0.1'): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, host, r));
    const addr = this.server.address() as { port: number };
    this.url = `http://${host}:${addr.port}`;
    return this;
  }

  /** Scripts the answer for a path (`/a/b.jar`); unscripted paths get 404. */
  on(path: string, answer: ScriptedAnswer | ((req: IncomingMessage) => ScriptedAnswer)): this {
    this.answers.set(path, typeof answer === 'function' ? answer : () => answer);
    return this;
  }

  count(path: string): number {
    return this.requests.filter((r) => r.path === path).length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    this.requests.push({ method: req.method ?? 'GET', path, headers: req.headers });
    const a = this.answers.get(path)?.(req) ?? { status: 404, body: 'not here' };
    if (a.delayMs) await new Promise((r) => setTimeout(r, a.delayMs));
    const body = a.body === undefined ? Buffer.alloc(0) : Buffer.from(a.body);
    res.writeHead(a.status, { 'content-length': String(body.length), ...(a.headers ?? {}) });
    if (a.stallAfterBytes !== undefined) {
      res.write(body.subarray(0, a.stallAfterBytes));
      return;
    }
    res.end(body);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
