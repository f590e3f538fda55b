/**
 * The HTTP side of the JFrog CLI replay: one `Wire` per simulated CLI run, sending requests the
 * way jfrog-client-go's http client does (Basic auth, its User-Agent, no Content-Type unless the
 * service sets one) and recording every exchange, with the node that answered it (nginx picks
 * the node; each node names itself in `X-Artifactory-Node-Id`).
 */

export interface Exchange {
  method: string;
  /** Path and query below the server root, exactly as sent (e.g. `/artifactory/api/search/aql`). */
  url: string;
  headers: Record<string, string>;
  body?: string;
  status: number;
  node: string;
}

export interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
  node: string;
  text(): string;
  json<T = unknown>(): T;
}

/** The User-Agent the CLI sends (`jfrog-cli-go/<version>`). */
export const CLI_USER_AGENT = 'jfrog-cli-go/2.71.0';

export class Wire {
  readonly log: Exchange[] = [];

  constructor(
    /** Server root, e.g. `http://127.0.0.1:8080` (the CLI's URL is `<root>/artifactory/`). */
    readonly root: string,
    private readonly user: string,
    private readonly password: string,
  ) {}

  /** The CLI's Artifactory URL, with the trailing slash its services append paths to. */
  get rtUrl(): string {
    return `${this.root}/artifactory/`;
  }

  async send(method: string, rtRelative: string, opts: { headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<Reply> {
    const headers: Record<string, string> = {
      authorization: 'Basic ' + Buffer.from(`${this.user}:${this.password}`).toString('base64'),
      'user-agent': CLI_USER_AGENT,
      ...lower(opts.headers ?? {}),
    };
    const url = this.rtUrl + rtRelative;
    // Go sends `Content-Length: 0` on a PUT/POST without a body; fetch does the same for ''.
    const body = opts.body ?? (method === 'PUT' || method === 'POST' ? '' : undefined);
    const res = await fetch(url, { method, headers, body });
    const buf = Buffer.from(await res.arrayBuffer());
    const node = res.headers.get('x-artifactory-node-id') ?? '?';
    this.log.push({
      method,
      url: url.slice(this.root.length),
      headers,
      body: typeof opts.body === 'string' ? opts.body : opts.body ? `<${opts.body.length} bytes>` : undefined,
      status: res.status,
      node,
    });
    return {
      status: res.status,
      headers: res.headers,
      body: buf,
      node,
      text: () => buf.toString('utf8'),
      json: <T>() => JSON.parse(buf.toString('utf8')) as T,
    };
  }

  /** `METHOD path` of each exchange since `from` (query strings kept), for sequence assertions. */
  lines(from = 0): string[] {
    return this.log.slice(from).map((e) => `${e.method} ${e.url.replace(/^\/artifactory\//, '')}`);
  }

  nodes(from = 0): Set<string> {
    return new Set(this.log.slice(from).map((e) => e.node));
  }
}

function lower(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

/** A failed exchange, with the server's answer, so a test failure says what went wrong. */
export function expectStatus(reply: Reply, ok: number[], what: string): void {
  if (!ok.includes(reply.status)) throw new Error(`${what}: expected ${ok.join('/')} from ${reply.node}, got ${reply.status}: ${reply.text().slice(0, 500)}`);
}

const PATH_SAFE = /[A-Za-z0-9\-_.~$&+,/:=@]/;

/**
 * A repository path as jfrog-client-go's `BuildUrl` writes it: Go's path escaping (unreserved
 * characters and `$&+,/:=@` kept, everything else percent-encoded as UTF-8), and `;` always as
 * `%3B` so the server cannot read it as the start of matrix parameters.
 */
export function escapePath(path: string): string {
  let out = '';
  for (const ch of path) {
    if (PATH_SAFE.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Go's `url.QueryEscape`: space as `+`, only `A-Za-z0-9-_.~` kept. */
export function queryEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    if (/[A-Za-z0-9\-_.~]/.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else for (const b of Buffer.from(ch, 'utf8')) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Go's `url.Values.Encode` of the given pairs (sorted by key, as Go does). */
export function encodeQuery(params: Record<string, string>): string {
  return Object.keys(params)
    .sort()
    .map((k) => `${queryEscape(k)}=${queryEscape(params[k])}`)
    .join('&');
}
