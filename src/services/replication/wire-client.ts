import type { FileHandle } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { readBounded } from '../../core/read-bounded.js';
import { revealSecret } from '../../core/secrets.js';
import type { PropertyMap } from '../../db/items.js';
import { refusedUrl, type UpstreamNetwork } from '../remote/guarded-http.js';
import { parseFileList, type ListedFile } from './file-list-parser.js';
import { SITE_ID } from './site-id.js';

/** What the target client needs of a push replication's configuration. */
export interface WireTarget {
  url: string;
  username: string;
  /** As stored: `ENC(v1:…)` or ''. Decrypted only to build the Authorization header. */
  password: string;
  socketTimeoutMillis: number;
  syncProperties: boolean;
}

/** The item a deploy makes the target equal to. */
export interface SourceFile {
  sha1: string;
  sha256?: string | null;
  size: number;
  props?: PropertyMap;
}

/** Where the bodies a client sends come from (the node's content store). */
export interface BodySource {
  read(sha1: string): Promise<Readable>;
  /** An open file of the binary when it is kept on a local disk; lets small files go as one buffer. */
  openFile?(sha1: string): Promise<FileHandle | undefined>;
}

/** Files up to this size go as one buffer read from a local file (buffers reused), larger ones as a stream. */
export const WHOLE_BODY_LIMIT = 1 << 20;

/** A request the target answered with a status the protocol does not accept. */
export class TargetError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: IncomingMessage;
}

/** Each path segment percent-encoded (a `;` or `?` in a name must not read as matrix or query). */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/** The seed's matrix parameters `;key=v1,v2` (each key and value percent-encoded). */
export function matrixOf(props: PropertyMap | undefined): string {
  if (!props) return '';
  return Object.keys(props)
    .sort()
    .map((k) => `;${encodeURIComponent(k)}=${props[k].map(encodeURIComponent).join(',')}`)
    .join('');
}

/**
 * The sender's side of the wire protocol between sites (docs/replication.md): a deploy by
 * checksum and, when the target lacks the binary, the same PUT with the body streamed from
 * the content store; deletes; the target's deep file list read as a stream. Every request
 * goes through the node's upstream connections, so arca.remote.allowedAddresses /
 * deniedAddresses apply as for remote repositories. The password is decrypted for the
 * Authorization header only and never logged; errors name the URL without credentials.
 */
export class WireClient {
  /** The target's site id, learnt from its `X-Arca-Site-Id` answers. */
  siteId: string | undefined;
  /** Bytes of bodies sent so far. */
  bytesSent = 0;
  private readonly auth: string | undefined;
  private noBinariesApi = false;
  private noStatisticsApi = false;
  private readonly base: URL;
  /** Buffers of WHOLE_BODY_LIMIT bytes no request is sending now (a few, as many as requests run at once). */
  private readonly spare: Buffer[] = [];

  constructor(
    readonly target: WireTarget,
    private readonly network: UpstreamNetwork,
    masterKey: Buffer,
    private readonly bodies: BodySource,
  ) {
    this.base = new URL(target.url.replace(/\/+$/, ''));
    const password = target.password ? revealSecret(masterKey, target.password) : '';
    this.auth = target.username || password ? `Basic ${Buffer.from(`${target.username}:${password}`).toString('base64')}` : undefined;
  }

  /** The URL of `path` on the target (without credentials). */
  urlOf(path: string, suffix = ''): URL {
    return new URL(`${this.base.href}/${encodePath(path)}${suffix}`);
  }

  /**
   * Makes the target's `path` the given file: a deploy by checksum, then with the body when
   * the target answers 404. Returns whether the body was sent and its bytes.
   */
  async deploy(path: string, file: SourceFile, origin: string, signal?: AbortSignal, options: { unknownToTarget?: boolean } = {}): Promise<{ body: boolean; bytes: number }> {
    const matrix = this.target.syncProperties ? matrixOf(file.props ?? {}) : '';
    const url = this.urlOf(path, matrix);
    const headers: Record<string, string> = { 'x-checksum-sha1': file.sha1, 'x-arca-replication-origin': origin };
    if (file.sha256) headers['x-checksum-sha256'] = file.sha256;
    if (this.target.syncProperties) headers['x-arca-replication-properties'] = 'exact';
    // The target said just now it lacks the binary (`knownBinaries`): its checksum deploy would be a 404.
    if (!options.unknownToTarget) {
      const first = await this.send('PUT', url, { ...headers, 'x-checksum-deploy': 'true', 'content-length': '0' }, undefined, signal);
      await drain(first.body);
      if (ok(first.status)) return { body: false, bytes: 0 };
      if (first.status !== 404) throw this.refused('PUT', url, first);
    }
    const whole = await this.wholeBody(file);
    let counted = whole?.data.length ?? 0;
    const body = whole?.data ?? (await this.bodies.read(file.sha1));
    if (!whole)
      (body as Readable).on('data', (c: Buffer) => {
        counted += c.length;
      });
    // A reused buffer is free again once its request is over (sent, or cut).
    const second = await this.send('PUT', url, { ...headers, 'content-length': String(file.size), 'content-type': 'application/octet-stream' }, body, signal, whole && (() => this.spare.push(whole.buf)));
    await drain(second.body);
    this.bytesSent += counted;
    if (!ok(second.status)) throw this.refused('PUT', url, second);
    return { body: true, bytes: counted };
  }

  /**
   * A small file of a local store read whole into a reused buffer (one read, no stream and no
   * new memory per file); undefined for larger files, other stores, or a file whose size is not
   * the item's (then the stream's length mismatch fails the request as before).
   */
  private async wholeBody(file: SourceFile): Promise<{ buf: Buffer; data: Buffer } | undefined> {
    if (file.size > WHOLE_BODY_LIMIT || !this.bodies.openFile) return undefined;
    const fh = await this.bodies.openFile(file.sha1);
    if (!fh) return undefined;
    const buf = this.spare.pop() ?? Buffer.allocUnsafeSlow(WHOLE_BODY_LIMIT);
    try {
      const { bytesRead } = await fh.read(buf, 0, Math.min(file.size + 1, WHOLE_BODY_LIMIT), 0);
      if (bytesRead === file.size) return { buf, data: buf.subarray(0, bytesRead) };
    } finally {
      await fh.close();
    }
    this.spare.push(buf);
    return undefined;
  }

  /**
   * Which of `sha1s` the target would find for a checksum deploy by this user
   * (`POST {base}/api/replication/binaries`, an Arca extension). Undefined when the target does
   * not answer it (another kind of server): then every deploy tries by checksum first.
   */
  async knownBinaries(sha1s: string[], signal?: AbortSignal): Promise<Set<string> | undefined> {
    if (this.noBinariesApi || sha1s.length === 0) return this.noBinariesApi ? undefined : new Set();
    const url = new URL(`${this.apiBase()}api/replication/binaries`);
    const res = await this.postJson(url, { sha1: sha1s }, signal);
    if (!ok(res.status)) {
      await drain(res.body);
      // Not an Arca target: never ask it again; anything else: not this time.
      if (notAnswered(res.status)) this.noBinariesApi = true;
      return undefined;
    }
    // Never more than the sha1s asked about, quoted: a target answering more is not trusted.
    const answer = await readBounded(res.body, 64 + sha1s.length * 48, () => new TargetError(`POST ${url.origin}${url.pathname} answered more than the checksums asked about`, res.status));
    const known = (JSON.parse(answer.toString('utf8')) as { known?: unknown }).known;
    return new Set(Array.isArray(known) ? known.filter((k): k is string => typeof k === 'string') : []);
  }

  /**
   * Sends download statistics of files (`POST {base}/api/replication/statistics/{repo}`, an Arca
   * extension); the target keeps them as the items' remote statistics. Undefined when the
   * target does not answer it (another kind of server): then the run sends none.
   */
  async sendStatistics(items: { path: string; downloadCount: number; lastDownloaded: number }[], signal?: AbortSignal): Promise<{ applied: number; missing: number; refused: number } | undefined> {
    if (this.noStatisticsApi || items.length === 0) return this.noStatisticsApi ? undefined : { applied: 0, missing: 0, refused: 0 };
    const url = new URL(`${this.apiBase()}api/replication/statistics/${encodeURIComponent(this.repoKey() ?? '')}`);
    const res = await this.postJson(url, { items }, signal);
    if (!ok(res.status)) {
      await drain(res.body);
      // Not an Arca target (or its repository is gone, which the deploys report): no statistics to it.
      if (notAnswered(res.status)) {
        this.noStatisticsApi = true;
        return undefined;
      }
      throw this.refused('POST', url, res);
    }
    const answer = JSON.parse((await readBounded(res.body, 4096, () => new TargetError(`POST ${url.origin}${url.pathname} answered too much`, res.status))).toString('utf8')) as Record<string, unknown>;
    const n = (k: string) => (typeof answer[k] === 'number' ? (answer[k] as number) : 0);
    return { applied: n('applied'), missing: n('missing'), refused: n('refused') };
  }

  /** A JSON request body to one of the target's Arca extensions. */
  private postJson(url: URL, doc: unknown, signal?: AbortSignal): Promise<Answer> {
    const body = Buffer.from(JSON.stringify(doc));
    return this.send('POST', url, { 'content-type': 'application/json', 'content-length': String(body.length) }, body, signal);
  }

  /** The repository the target URL names (its last path segment). */
  private repoKey(): string | undefined {
    return this.base.pathname.split('/').filter(Boolean).pop();
  }

  /** `{origin}/{context…}/` of the target URL: where its REST API is (the URL minus the repository). */
  private apiBase(): string {
    const segments = this.base.pathname.split('/').filter(Boolean);
    segments.pop();
    return `${this.base.origin}/${segments.map(encodeURIComponent).join('/')}${segments.length ? '/' : ''}`;
  }

  /** Deletes `path` on the target; a 404 counts as done. */
  async delete(path: string, origin: string, signal?: AbortSignal): Promise<void> {
    const url = this.urlOf(path);
    const res = await this.send('DELETE', url, { 'x-arca-replication-origin': origin }, undefined, signal);
    await drain(res.body);
    if (!ok(res.status) && res.status !== 404) throw this.refused('DELETE', url, res);
  }

  /**
   * The target repository's files (`{base}/api/storage/{repo}?list&deep=1&listFolders=0`),
   * read as a stream. Throws a TargetError when the target cannot list it.
   */
  async *list(signal?: AbortSignal): AsyncGenerator<ListedFile> {
    const repo = this.repoKey();
    if (!repo) throw new TargetError(`The target URL ${this.base.origin}${this.base.pathname} names no repository`, 0);
    const url = new URL(`${this.apiBase()}api/storage/${encodeURIComponent(repo)}?list&deep=1&listFolders=0&mdTimestamps=0`);
    const res = await this.send('GET', url, { accept: 'application/json' }, undefined, signal);
    if (res.status === 404) {
      // An empty target repository lists as 404 on some servers; an unknown one too (then every deploy fails and says so).
      await drain(res.body);
      return;
    }
    if (!ok(res.status)) throw this.refused('GET', url, res);
    yield* parseFileList(withIdleTimeout(res.body, this.target.socketTimeoutMillis, url));
  }

  private refused(method: string, url: URL, res: Answer): TargetError {
    return new TargetError(`${method} ${url.origin}${url.pathname} answered ${res.status}`, res.status);
  }

  /** One request, through the guarded agents, with the socket timeout on the answer. */
  private send(method: string, url: URL, headers: Record<string, string>, body: Readable | Buffer | undefined, signal?: AbortSignal, closed?: () => void): Promise<Answer> {
    const why = refusedUrl(this.network.policy, url);
    if (why) return Promise.reject(new TargetError(`Replication to ${url.origin} is refused: ${why}`, 0));
    return new Promise((resolve, reject) => {
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const all = this.auth ? { ...headers, authorization: this.auth } : headers;
      const req = send(url, { method, headers: all, agent: this.network.agentFor(url), signal });
      const where = `${url.origin}${url.pathname}`;
      req.setTimeout(this.target.socketTimeoutMillis, () => req.destroy(new TargetError(`No answer from ${where} within ${this.target.socketTimeoutMillis} ms`, 0)));
      req.on('error', (err) => {
        if (body instanceof Readable) body.destroy();
        reject(err instanceof TargetError ? err : new TargetError(`${method} ${where} failed: ${err.message}`, 0));
      });
      req.on('response', (res) => {
        const site = res.headers['x-arca-site-id'];
        if (typeof site === 'string' && SITE_ID.test(site)) this.siteId = site;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
      });
      if (closed) req.once('close', closed);
      if (Buffer.isBuffer(body)) {
        req.end(body);
      } else if (body) {
        body.on('error', (err) => req.destroy(err));
        body.pipe(req);
      } else req.end();
    });
  }
}

function ok(status: number): boolean {
  return status >= 200 && status < 300;
}

/** 404, 405, 501 to an Arca extension: the target is another kind of server. */
function notAnswered(status: number): boolean {
  return status === 404 || status === 405 || status === 501;
}

async function drain(res: IncomingMessage): Promise<void> {
  try {
    for await (const _ of res) void _;
  } catch {
    // The answer's status is what counts; a cut body after it changes nothing.
  }
}

/** The body, failing when no data arrives for `ms` (a target that stalls mid-list). */
async function* withIdleTimeout(res: IncomingMessage, ms: number, url: URL): AsyncGenerator<Uint8Array> {
  res.setTimeout(ms, () => res.destroy(new TargetError(`No data from ${url.origin}${url.pathname} within ${ms} ms`, 0)));
  for await (const chunk of res) yield chunk as Uint8Array;
}

export type { ListedFile };
