import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Readable } from 'node:stream';
import { DEFAULT_ADDRESS_POLICY, type AddressPolicy } from './address-policy.js';

/**
 * Outgoing HTTP(S) for remote repositories, checked against the address policy at every
 * step: the URL's host before each request (an IP literal is never resolved, so it is checked
 * here), every address a name resolves to inside the connection's own lookup (so the socket
 * connects to exactly the address that was checked: a DNS answer that changes between a check
 * and the connection, DNS rebinding, cannot slip past), and every redirect hop, which is
 * followed here rather than by the HTTP stack. Credentials never leave for another origin on
 * a redirect, and a URL that carries credentials (`user:pass@`) is refused.
 */

/** An upstream answer: status, headers and (for a GET) a body read with an idle timeout. */
export interface UpstreamResponse {
  status: number;
  headers: Headers;
  url: string;
  /** The upstream redirected the request (the final URL is `url`). */
  redirected: boolean;
  /** The body; each chunk must arrive within the socket timeout. Consume it or call `cancel`. */
  body: AsyncIterable<Uint8Array>;
  cancel(): void;
}

/** The upstream could not be reached or stopped answering (refused, reset, timed out). */
export class UpstreamUnreachable extends Error {}

/** The address policy refused the connection (a denied host, address or redirect hop). */
export class UpstreamRefused extends UpstreamUnreachable {}

export interface GuardedInit {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Longest wait for the headers and for each further piece of the body. */
  timeoutMs: number;
}

const MAX_REDIRECTS = 20;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Headers that must not follow a redirect to another origin. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

/** A DNS lookup that refuses names resolving to a denied address, for the agents' sockets. */
export function guardedLookup(policy: AddressPolicy, resolve: typeof dnsLookup = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { family: options.family, hints: options.hints, all: true }, (err, found) => {
      if (err) return callback(err, '', 0);
      const list = found as unknown as LookupAddress[];
      if (list.length === 0) return callback(new UpstreamUnreachable(`${hostname} has no address`), '', 0);
      if (!policy.allowsName(hostname)) {
        for (const a of list) {
          const why = policy.deniedAddress(a.address);
          if (why) return callback(new UpstreamRefused(`Refused to connect to ${hostname}: ${why}`), '', 0);
        }
      }
      if (options.all) (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, list);
      else callback(null, list[0].address, list[0].family);
    });
  };
}

/**
 * Where remote repositories connect from: the address policy and the kept-alive connections
 * made under it, whose DNS lookups the policy checks. The composition root builds one per
 * node and closes it with the node.
 */
export class UpstreamNetwork {
  private readonly http: HttpAgent;
  private readonly https: HttpsAgent;

  constructor(readonly policy: AddressPolicy = DEFAULT_ADDRESS_POLICY) {
    const options = { keepAlive: true, scheduling: 'lifo' as const, lookup: guardedLookup(policy) };
    this.http = new HttpAgent(options);
    this.https = new HttpsAgent(options);
  }

  agentFor(url: URL): HttpAgent {
    return url.protocol === 'https:' ? this.https : this.http;
  }

  /** Closes the kept-alive connections (requests under way are cut). */
  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

/** Why a URL may not be requested (its scheme, embedded credentials, or a denied host); undefined when it may. */
export function refusedUrl(policy: AddressPolicy, url: URL): string | undefined {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${url.protocol} URLs are not followed`;
  if (url.username || url.password) return 'the URL carries credentials';
  return policy.deniedHost(url.hostname);
}

function headersOf(res: IncomingMessage): Headers {
  const h = new Headers();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
    try {
      h.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
    } catch {
      // A header Headers cannot hold (invalid characters): left out.
    }
  }
  return h;
}

function decoded(res: IncomingMessage, method: string): Readable {
  if (method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304) return res;
  const encoding = (res.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decoder = encoding === 'gzip' || encoding === 'x-gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : encoding === 'br' ? createBrotliDecompress() : undefined;
  if (!decoder) return res;
  res.on('error', (err) => decoder.destroy(err));
  return res.pipe(decoder);
}

/** One request and its answer (no redirects), with the header and idle timeouts. */
function exchange(network: UpstreamNetwork, url: URL, method: string, headers: Record<string, string>, body: Uint8Array | string | undefined, timeoutMs: number, retried = false): Promise<Omit<UpstreamResponse, 'redirected'>> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let req: ClientRequest;
    let timer: NodeJS.Timeout | undefined;
    let answered = false;
    const fail = (err: Error) => {
      clearTimeout(timer);
      if (answered) return;
      answered = true;
      // A kept-alive connection the upstream closed meanwhile: an idempotent request is sent once more.
      const code = (err as NodeJS.ErrnoException).code;
      if (!retried && req.reusedSocket && (method === 'GET' || method === 'HEAD') && (code === 'ECONNRESET' || code === 'EPIPE')) {
        resolve(exchange(network, url, method, headers, body, timeoutMs, true));
        return;
      }
      if (err instanceof UpstreamUnreachable) reject(err);
      else reject(new UpstreamUnreachable(`Upstream ${url.origin}${url.pathname} is unreachable: ${err.message}`));
    };
    try {
      const length = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
      req = send(url, { method, headers: { ...length, ...headers }, agent: network.agentFor(url) });
    } catch (err) {
      reject(new UpstreamUnreachable(`Upstream ${url.origin}${url.pathname} cannot be requested: ${(err as Error).message}`));
      return;
    }
    timer = setTimeout(() => req.destroy(new UpstreamUnreachable(`No answer from ${url.origin}${url.pathname} within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', fail);
    req.on('response', (res) => {
      clearTimeout(timer);
      answered = true;
      const stream = decoded(res, method);
      // An error before anyone reads (a reset while the caller looks at the status) must not go
      // unhandled: it is kept and thrown by the first read.
      let early: Error | undefined;
      const keep = (err: Error) => {
        early ??= err;
      };
      res.on('error', keep);
      if (stream !== res) stream.on('error', keep);
      let idle: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(idle);
        idle = setTimeout(() => stream.destroy(new UpstreamUnreachable(`No data from ${url.origin}${url.pathname} within ${timeoutMs} ms`)), timeoutMs);
      };
      const stop = () => {
        clearTimeout(idle);
        if (!res.complete || stream !== res) {
          res.destroy();
          if (stream !== res) stream.destroy();
        }
      };
      async function* chunks(): AsyncIterable<Uint8Array> {
        let finished = false;
        try {
          if (early) throw early;
          arm();
          for await (const chunk of stream) {
            arm();
            yield chunk as Uint8Array;
          }
          finished = true;
        } catch (err) {
          throw err instanceof UpstreamUnreachable ? err : new UpstreamUnreachable(`Download from ${url.origin}${url.pathname} failed: ${(err as Error).message}`);
        } finally {
          clearTimeout(idle);
          // Left early (a consumer stopped reading): close the upstream connection.
          if (!finished) stop();
        }
      }
      resolve({ status: res.statusCode ?? 0, headers: headersOf(res), url: url.href, body: chunks(), cancel: stop });
    });
    req.end(body);
  });
}

/**
 * Sends a request on the network's connections, following redirects (at most 20) with each
 * hop checked against its address policy. `headers` go to the first origin; credential
 * headers are dropped when a redirect leaves it. Throws UpstreamRefused for a refused URL,
 * host or address, UpstreamUnreachable when the upstream cannot be reached or does not
 * answer in time.
 */
export async function guardedRequest(network: UpstreamNetwork, target: string, init: GuardedInit): Promise<UpstreamResponse> {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new UpstreamRefused(`'${target}' is not a URL`);
  }
  let method = (init.method ?? 'GET').toUpperCase();
  let body = init.body;
  const headers: Record<string, string> = { accept: '*/*', 'accept-encoding': 'gzip, deflate, br' };
  for (const [k, v] of Object.entries(init.headers ?? {})) headers[k.toLowerCase()] = v;
  const origin = url.origin;
  for (let hop = 0; ; hop++) {
    const why = refusedUrl(network.policy, url);
    if (why) throw new UpstreamRefused(hop === 0 ? `Refused to connect to ${url.origin}: ${why}` : `Refused to follow the redirect to ${url.origin}: ${why}`);
    const res = await exchange(network, url, method, headers, body, init.timeoutMs);
    const location = res.headers.get('location');
    if (!REDIRECTS.has(res.status) || !location) return { ...res, redirected: hop > 0 };
    res.cancel();
    if (hop >= MAX_REDIRECTS) throw new UpstreamUnreachable(`Upstream ${origin} redirected more than ${MAX_REDIRECTS} times`);
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new UpstreamUnreachable(`Upstream ${url.origin} redirected to an invalid URL`);
    }
    // As browsers do: 303 (and 301/302 after a POST) continue as a GET without the body.
    if ((res.status === 303 && method !== 'HEAD') || ((res.status === 301 || res.status === 302) && method === 'POST')) {
      method = 'GET';
      body = undefined;
      for (const h of ['content-type', 'content-encoding', 'content-length']) delete headers[h];
    }
    if (next.origin !== url.origin) for (const h of CREDENTIAL_HEADERS) delete headers[h];
    next.hash = '';
    url = next;
  }
}
