import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import type { AppContext } from '../../app-context.js';

/** The static files need no credentials: the UI itself logs in through the session API. */
const PUBLIC = { config: { public: true } };

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Vite names every asset under assets/ by its content hash: those never change. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

/**
 * Where the built UI is: `dist/ui` beside the running code, found by walking up from this
 * module (dist/arca.mjs or dist/chunks/… when bundled, src/http/routes/ui/ when run from source).
 */
export function findUiDir(from = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = from;
  for (let i = 0; i < 5; i++) {
    const candidates = basename(dir) === 'dist' ? [join(dir, 'ui')] : [join(dir, 'dist', 'ui')];
    for (const c of candidates) if (existsSync(join(c, 'index.html'))) return c;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

interface Cached {
  mtimeMs: number;
  size: number;
  body: Buffer;
  gz?: Buffer;
}

/** The path below /ui/ as file-system segments, or undefined when it tries to leave the folder. */
export function uiRelativePath(rawUrl: string): string[] | undefined {
  const path = rawUrl.split('?')[0].replace(/^\/ui\/?/, '');
  const out: string[] = [];
  for (const raw of path.split('/')) {
    if (raw === '') continue;
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (seg === '.' || seg === '..' || seg.includes('/') || seg.includes('\\') || seg.includes('\0')) return undefined;
    out.push(seg);
  }
  return out;
}

/**
 * Serves the web UI (dist/ui, built by scripts/build-ui.mjs) at `/ui/` on every node: hashed
 * assets with a year-long immutable cache, index.html revalidated on every load and returned
 * for every client route (a path without a file extension), gzip when the build left a .gz
 * sibling and the client accepts it. `/` and `/ui` redirect to `/ui/`.
 */
export async function uiStaticRoutes(app: FastifyInstance, _ctx: AppContext, uiDir?: string): Promise<void> {
  let dir = uiDir;
  const cache = new Map<string, Cached>();

  async function load(file: string): Promise<Cached | undefined> {
    const st = await stat(file).catch(() => undefined);
    if (!st || !st.isFile()) return undefined;
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit;
    const body = await readFile(file);
    const gz = await readFile(`${file}.gz`).catch(() => undefined);
    const entry = { mtimeMs: st.mtimeMs, size: st.size, body, gz };
    cache.set(file, entry);
    return entry;
  }

  async function send(request: FastifyRequest, reply: FastifyReply, file: string, entry: Cached, immutable: boolean) {
    const etag = `W/"${entry.size.toString(16)}-${Math.floor(entry.mtimeMs).toString(16)}"`;
    reply.header('content-type', TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream');
    reply.header('cache-control', immutable ? IMMUTABLE : 'no-cache');
    reply.header('etag', etag);
    reply.header('x-content-type-options', 'nosniff');
    if (file.endsWith('.html')) {
      reply.header('content-security-policy', CSP);
      reply.header('x-frame-options', 'DENY');
    }
    if (entry.gz) reply.header('vary', 'accept-encoding');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    const gzip = entry.gz && /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
    if (gzip) reply.header('content-encoding', 'gzip');
    return reply.send(gzip ? entry.gz : entry.body);
  }

  async function serve(request: FastifyRequest, reply: FastifyReply) {
    dir ??= findUiDir();
    if (!dir) throw new ArcaError('NOT_FOUND', 'The web UI is not built on this node (npm run build writes dist/ui)');
    const segments = uiRelativePath(request.raw.url ?? request.url);
    if (!segments) throw new ArcaError('NOT_FOUND', 'Not found');
    if (segments[0] === 'api') throw new ArcaError('NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}`);
    if (segments.length > 0 && !segments[segments.length - 1].endsWith('.gz')) {
      const file = join(dir, ...segments);
      const entry = await load(file);
      if (entry) return send(request, reply, file, entry, segments[0] === 'assets');
    }
    // A missing asset or top-level file is a 404; any other path is a client route of the
    // single-page app (including browser routes that end in a file name: /ui/browse/repo/a.jar).
    const topLevelFile = segments.length === 1 && /\.[A-Za-z0-9]{1,8}$/.test(segments[0]);
    if (segments[0] === 'assets' || topLevelFile) throw new ArcaError('NOT_FOUND', `No UI file ${request.url.split('?')[0]}`);
    const index = join(dir, 'index.html');
    const entry = await load(index);
    if (!entry) throw new ArcaError('NOT_FOUND', 'The web UI is not built on this node (npm run build writes dist/ui)');
    return send(request, reply, index, entry, false);
  }

  app.get('/', PUBLIC, async (_request, reply) => reply.redirect('/ui/', 302));
  app.get('/ui', PUBLIC, async (_request, reply) => reply.redirect('/ui/', 301));
  app.get('/ui/', PUBLIC, serve);
  app.get('/ui/*', PUBLIC, serve);
}
