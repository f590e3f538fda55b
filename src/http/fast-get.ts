import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parseRepoPath } from '../core/paths.js';
import type { StoredFileUrls } from '../formats/format-module.js';
import type { Principal } from '../security/types.js';
import type { CurrentFile } from '../services/serve/current-files.js';
import type { AppContext } from './app-context.js';
import type { HttpMetrics } from './http-metrics.js';
import { downloadHeaders } from './routes/artifacts/artifacts-serve.js';
import { SECURITY_HEADERS } from './security-headers.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface Target {
  repoKey: string;
  path: string;
  /** For a format's protocol URL: the package type the repository must have. */
  packageType?: string;
}

const PREFIX = '/artifactory/';
/** URLs remembered as parsed (or as not for this path); the map is emptied when full. */
const MAX_TARGETS = 4096;
/** Longer URLs go the full way (Fastify's own limits apply there). */
const MAX_URL = 2048;

/**
 * The download fast path: a plain GET of a small stored file in a local repository, by a
 * caller whose credentials, grants and repository this process already holds, is answered
 * here, before Fastify's request cycle, with headers made once per file and head and body
 * written by one `res.end`. Everything else, and every case this cannot decide without
 * waiting (a credential to verify, grants to load, a refusal to word, a range, a conditional
 * request, a checksum file a format makes, a folder…), goes to Fastify unchanged, which
 * answers exactly as it always did.
 *
 * It decides what the full path decides, with the same functions: the credential cache of
 * the security service, the permission evaluator's compiled grants (both dropped on every
 * 'security' change, as before), the cached repository configuration, the format's checksum
 * paths. The item comes from `ServeService.currentFiles`, which only answers with an item
 * the database proves current (see services/serve/current-files.ts). The answer is recorded
 * in the metrics and the request log as any other.
 */
export class FastGet {
  private readonly targets = new Map<string, Target | null>();
  /** First path segments below /artifactory/ that other routes serve (`api`, `ui`…). */
  private readonly reserved = new Set<string>();
  private off: boolean;
  /**
   * Requests whose file is kept, waiting for the change stamp (columns, reused). One stamp read
   * after the current round of requests serves them all; each was parsed before that read.
   */
  private readonly waiting = { req: [] as IncomingMessage[], res: [] as ServerResponse[], file: [] as CurrentFile[], principal: [] as Principal[], started: [] as number[], next: [] as Handler[] };
  private checkScheduled = false;
  private readonly checkWaiting = () => this.check();

  constructor(
    private readonly ctx: AppContext,
    private readonly metrics: HttpMetrics,
    enabled = true,
    /** Format protocol URLs that read stored files as they are (a Go module's .zip): served here too. */
    private readonly storedFiles: readonly StoredFileUrls[] = [],
  ) {
    // Object stores that answer downloads with their own URLs decide per file: the full path asks them.
    this.off = !enabled || ctx.serve.bodies.directDownloads;
  }

  /** Called for every route the app registers: URLs another GET route serves stay Fastify's. */
  noteRoute(url: string, methods: string[]): void {
    if (!methods.includes('GET') || !url.startsWith(PREFIX) || url === `${PREFIX}*`) return;
    const first = url.slice(PREFIX.length).split('/')[0];
    // A route with a parameter or a wildcard in that place could claim any repository key.
    if (first === '' || /[:*]/.test(first)) this.off = true;
    else this.reserved.add(first);
  }

  /** The server's request handler: answers here, or hands the request to `next` (Fastify). */
  handle(req: IncomingMessage, res: ServerResponse, next: Handler): void {
    if (this.off || req.method !== 'GET') return next(req, res);
    const started = performance.now();
    let principal: Principal | undefined;
    try {
      principal = this.allowed(req);
    } catch {
      // Whatever this cannot decide, the full path decides (and words).
    }
    if (principal === undefined) return next(req, res);
    const url = req.url as string;
    const file = this.ctx.serve.currentFiles.candidate(url);
    if (file === undefined) return this.load(req, res, principal, started, next);
    const w = this.waiting;
    w.req.push(req);
    w.res.push(res);
    w.file.push(file);
    w.principal.push(principal);
    w.started.push(started);
    w.next.push(next);
    if (!this.checkScheduled) {
      this.checkScheduled = true;
      setImmediate(this.checkWaiting);
    }
  }

  /** The caller, when the request is a plain download it may make of a file the full path would read from the store; else undefined. */
  private allowed(req: IncomingMessage): Principal | undefined {
    const target = this.targetOf(req.url as string);
    const h = req.headers;
    if (target === null || !plain(h)) return undefined;
    const { security, repos, formats } = this.ctx;
    const principal = security.cachedPrincipal({ authorization: h.authorization, apiKey: (h['x-jfrog-art-api'] ?? h['x-api-key']) as string | undefined });
    if (principal === undefined) return undefined;
    const repo = repos.cached(target.repoKey);
    if (repo === undefined || repo.rclass !== 'local') return undefined;
    if (target.packageType !== undefined && repo.packageType !== target.packageType) return undefined;
    if (security.canAccessNow(principal, 'read', repo, target.path) !== true) return undefined;
    if (formats.handlerFor(repo.packageType).checksumTarget?.(target.path)) return undefined;
    return principal;
  }

  /** Reads the stamp once for every waiting request: a kept file it proves current is sent, any other read now. */
  private check(): void {
    this.checkScheduled = false;
    let stamp: number | undefined;
    try {
      stamp = this.ctx.serve.currentFiles.stamp();
    } catch {
      // (the database is closing): every waiting request is read the full way
    }
    const w = this.waiting;
    const n = w.req.length;
    for (let i = 0; i < n; i++) {
      const file = w.file[i];
      if (stamp !== undefined && file.stamp === stamp) this.send(w.req[i], w.res[i], file, w.principal[i], w.started[i], w.next[i]);
      else this.load(w.req[i], w.res[i], w.principal[i], w.started[i], w.next[i]);
    }
    w.req.length = w.res.length = w.file.length = w.principal.length = w.started.length = w.next.length = 0;
  }

  /** Reads the item now (the target was parsed and allowed already), then sends it or hands the request on. */
  private load(req: IncomingMessage, res: ServerResponse, principal: Principal, started: number, next: Handler): void {
    const url = req.url as string;
    const target = this.targets.get(url);
    if (!target) return next(req, res);
    this.ctx.serve.currentFiles.load(url, target.repoKey, target.path).then(
      (f) => (f === undefined ? next(req, res) : this.send(req, res, f, principal, started, next)),
      () => next(req, res),
    );
  }

  private send(req: IncomingMessage, res: ServerResponse, file: CurrentFile, principal: Principal, started: number, next: Handler): void {
    let head = file.edge as Record<string, string> | undefined;
    if (head === undefined) file.edge = head = this.headersOf(file);
    try {
      res.writeHead(200, head);
    } catch {
      // A header Node refuses (Fastify's path answers it with its error).
      if (!res.headersSent) return next(req, res);
    }
    res.end(file.body);
    this.ctx.downloadStats.record(Number(file.item.id), principal.name);
    this.metrics.record({
      method: 'GET',
      status: 200,
      seconds: (performance.now() - started) / 1000,
      ip: req.socket.remoteAddress ?? '',
      user: principal.name,
      url: req.url as string,
      bytesIn: 0,
      bytesOut: file.body.length,
    });
  }

  /** The headers the full path sends with a whole small file (app.ts, security-headers.ts, artifacts-serve.ts). */
  private headersOf(file: CurrentFile): Record<string, string> {
    const { item, body } = file;
    return {
      'x-artifactory-node-id': this.ctx.node.nodeId,
      ...SECURITY_HEADERS,
      ...downloadHeaders({ name: item.name, sha1: item.sha1!, sha256: item.sha256, md5: item.md5, size: body.length, modified: item.modified, type: '' }),
      'content-type': item.mime_type ?? 'application/octet-stream',
      'content-length': String(body.length),
    };
  }

  /** The repository and path a download URL names, or null when the full path must parse it. */
  private targetOf(url: string): Target | null {
    let t = this.targets.get(url);
    if (t !== undefined) return t;
    t = this.parse(url);
    if (this.targets.size >= MAX_TARGETS) this.targets.clear();
    this.targets.set(url, t);
    return t;
  }

  private parse(url: string): Target | null {
    // Plain paths only: no query, matrix parameters, escapes, empty segments or folder URLs.
    if (url.length > MAX_URL || !url.startsWith(PREFIX) || /[?;%\\]|\/\/|\/$/.test(url)) return null;
    for (const urls of this.storedFiles) if (url.startsWith(urls.prefix)) return this.parseStored(urls, url.slice(urls.prefix.length));
    try {
      const rp = parseRepoPath(url.slice(PREFIX.length));
      if (rp.path === '' || this.reserved.has(rp.repoKey)) return null;
      return { repoKey: rp.repoKey, path: rp.path };
    } catch {
      return null;
    }
  }

  /** A format's protocol URL (`{repoKey}/{rest}` after its prefix) that reads one stored file. */
  private parseStored(urls: StoredFileUrls, tail: string): Target | null {
    const slash = tail.indexOf('/');
    if (slash <= 0) return null;
    try {
      const rp = parseRepoPath(tail);
      const path = urls.itemPath(tail.slice(slash + 1));
      return path === undefined || rp.repoKey !== tail.slice(0, slash) ? null : { repoKey: rp.repoKey, path, packageType: urls.packageType };
    } catch {
      return null;
    }
  }
}

/** A request with nothing but the download itself: no body, range or condition. */
function plain(h: IncomingHttpHeaders): boolean {
  return (
    h.range === undefined &&
    h['if-none-match'] === undefined &&
    h['if-modified-since'] === undefined &&
    h['content-length'] === undefined &&
    h['transfer-encoding'] === undefined &&
    h.cookie === undefined
  );
}
