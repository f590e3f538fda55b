import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { classifyChecksum, type Checksums } from '../../core/digests.js';
import { ArcaError } from '../../core/errors.js';
import { parseRepoPath, type RepoPath } from '../../core/paths.js';
import { fullPathOf, type ItemRow } from '../../db/items.js';
import { deployedFileJson, deployedFolderJson } from '../../services/item-info.js';
import type { AppContext } from '../app-context.js';
import { baseUrl, requireRepoAction } from '../auth.js';
import { multipartRanges, parseRange } from '../ranges.js';
import { sendFileRange } from '../send-file.js';
import type { ByteRange } from '../../binstore/binary-provider.js';
import { folderListingHtml } from './folder-listing.js';

const PREFIX = '/artifactory/';
const ITEM_CREATED = 'application/vnd.org.jfrog.artifactory.storage.ItemCreated+json';

function repoPathOf(request: FastifyRequest): RepoPath {
  const url = request.raw.url ?? '';
  return parseRepoPath(url.slice(url.indexOf(PREFIX) + PREFIX.length));
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Checksums the client declared; the generic `X-Checksum` fills in only a missing specific one. */
export function declaredChecksums(request: FastifyRequest): Partial<Checksums> {
  const out: Partial<Checksums> = {};
  for (const alg of ['sha1', 'sha256', 'md5'] as const) {
    const v = header(request, `x-checksum-${alg}`);
    if (v) out[alg] = v.trim().toLowerCase();
  }
  const generic = header(request, 'x-checksum');
  if (generic) {
    const alg = classifyChecksum(generic);
    if (alg && out[alg] === undefined) out[alg] = generic.trim().toLowerCase();
  }
  return out;
}

function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

function etagMatches(ifNoneMatch: string, sha1: string): boolean {
  return ifNoneMatch
    .split(',')
    .map((t) => t.trim().replace(/^W\//, '').replace(/^"|"$/g, ''))
    .some((t) => t === '*' || t === sha1);
}

async function serveFile(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, item: ItemRow, head: boolean) {
  const sha1 = item.sha1!;
  const size = item.size;
  const type = item.mime_type ?? 'application/octet-stream';
  reply.header('Last-Modified', new Date(item.modified).toUTCString());
  reply.header('ETag', sha1);
  reply.header('X-Checksum-Sha1', sha1);
  if (item.sha256) reply.header('X-Checksum-Sha256', item.sha256);
  if (item.md5) reply.header('X-Checksum-Md5', item.md5);
  reply.header('Accept-Ranges', 'bytes');
  reply.header('X-Artifactory-Filename', encodeURIComponent(item.name));
  reply.header('Content-Disposition', contentDisposition(item.name));

  const inm = header(request, 'if-none-match');
  const ims = header(request, 'if-modified-since');
  if ((inm && etagMatches(inm, sha1)) || (!inm && ims && Date.parse(ims) >= Math.floor(item.modified / 1000) * 1000)) {
    return reply.code(304).send();
  }

  const range = head ? ({ kind: 'none' } as const) : parseRange(header(request, 'range'), size);
  if (range.kind === 'unsatisfiable') {
    reply.header('Content-Range', `bytes */${size}`);
    throw new ArcaError('RANGE_NOT_SATISFIABLE', `Requested range not satisfiable for a ${size}-byte file`);
  }
  if (head) {
    reply.header('Content-Type', type).header('Content-Length', String(size));
    return reply.code(200).send();
  }
  const small = size <= ctx.content.smallFileLimit;
  if (range.kind === 'ranges' && range.ranges.length === 1) {
    const r = range.ranges[0];
    reply.code(206).header('Content-Range', `bytes ${r.start}-${r.end}/${size}`).header('Content-Type', type);
    if (small) return reply.send((await ctx.content.readSmall(sha1)).subarray(r.start, r.end + 1));
    reply.header('Content-Length', String(r.end - r.start + 1));
    return sendLarge(ctx, reply, sha1, r, 206);
  }
  if (range.kind === 'ranges') {
    const mp = multipartRanges(range.ranges, size, type, (r) => ctx.content.read(sha1, r));
    reply.code(206).header('Content-Type', `multipart/byteranges; boundary=${mp.boundary}`).header('Content-Length', String(mp.length));
    return reply.send(mp.body);
  }
  reply.code(200).header('Content-Type', type);
  if (small) return reply.send(await ctx.content.readSmall(sha1));
  reply.header('Content-Length', String(size));
  return sendLarge(ctx, reply, sha1, { start: 0, end: size - 1 }, 200);
}

async function sendLarge(ctx: AppContext, reply: FastifyReply, sha1: string, range: ByteRange, status: number) {
  const fh = await ctx.content.openFile(sha1);
  if (fh) return sendFileRange(reply, fh, range, status);
  return reply.code(status).send(await ctx.content.read(sha1, range));
}

async function get(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, head: boolean) {
  const rp = repoPathOf(request);
  const repo = await ctx.repos.require(rp.repoKey);
  await requireRepoAction(ctx, request, 'read', repo, rp.path);
  const item = rp.path === '' ? undefined : await ctx.artifacts.resolve(repo.key, rp.path);
  if (item && item.type === 'file') return serveFile(ctx, request, reply, item, head);
  const url = request.raw.url ?? '';
  const pathOnly = url.split('?')[0];
  if (!pathOnly.endsWith('/')) return reply.redirect(`${pathOnly}/`, 302);
  const children = await ctx.artifacts.children(repo.key, item ? fullPathOf(item) : '');
  const visible = [];
  for (const c of children) {
    if (await ctx.security.canAccess(request.principal, 'read', repo, fullPathOf(c))) visible.push(c);
  }
  reply.type('text/html; charset=utf-8');
  if (head) return reply.code(200).send();
  return reply.send(folderListingHtml(repo.key, item ? fullPathOf(item) : '', visible));
}

async function put(ctx: AppContext, request: FastifyRequest, reply: FastifyReply) {
  const rp = repoPathOf(request);
  const repo = await ctx.repos.require(rp.repoKey);
  await requireRepoAction(ctx, request, 'write', repo, rp.path);
  const principal = request.principal;
  const hasProps = Object.keys(rp.matrix).length > 0;
  const canAnnotate = hasProps && (await ctx.security.canAccess(principal, 'annotate', repo, rp.path));
  const canOverwrite = await ctx.security.canAccess(principal, 'delete', repo, rp.path);
  const abort = new AbortController();
  request.raw.on('close', () => {
    if (!request.raw.complete) abort.abort();
  });
  let result;
  try {
    result = await ctx.artifacts.deploy({
      repo,
      path: rp.path,
      folder: rp.folder,
      body: request.raw,
      signal: abort.signal,
      expected: declaredChecksums(request),
      checksumDeploy: /^true$/i.test(header(request, 'x-checksum-deploy') ?? ''),
      user: principal.name,
      properties: canAnnotate ? rp.matrix : {},
      canOverwrite,
    });
  } catch (err) {
    // A server-side failure (full disk, bad checksum) stops reading the body, which also
    // closes the request: only an error that is not ours means the client went away.
    if (abort.signal.aborted && !(err instanceof ArcaError && err.code !== 'UPLOAD_ABORTED')) {
      throw new ArcaError('UPLOAD_ABORTED', 'The client aborted the upload; nothing was stored');
    }
    throw err;
  }
  const base = await baseUrl(ctx, request);
  if (result.item.type === 'folder') {
    const body = deployedFolderJson(base, result.item);
    return reply.code(201).header('Location', body.uri).header('Content-Type', ITEM_CREATED).send(Buffer.from(JSON.stringify(body)));
  }
  const body = deployedFileJson(base, result.item, !(header(request, 'user-agent') ?? '').includes('ArtifactoryBuildClient/'));
  return reply.code(201).header('Location', body.downloadUri).header('Content-Type', ITEM_CREATED).send(Buffer.from(JSON.stringify(body)));
}

async function del(ctx: AppContext, request: FastifyRequest, reply: FastifyReply) {
  const rp = repoPathOf(request);
  const repo = await ctx.repos.require(rp.repoKey);
  await requireRepoAction(ctx, request, 'delete', repo, rp.path);
  await ctx.artifacts.delete(repo.key, rp.path);
  return reply.code(204).send();
}

/** Deploy, download and delete at `/artifactory/{repoKey}/{path}` (REST-API.md §1). */
export async function artifactRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // Artifact bodies are never parsed: every content type reaches the handler as a raw stream.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  // HEAD before GET, so Fastify does not derive a HEAD route from the GET handler.
  app.head('/artifactory/*', (request, reply) => get(ctx, request, reply, true));
  app.get('/artifactory/*', (request, reply) => get(ctx, request, reply, false));
  app.put('/artifactory/*', (request, reply) => put(ctx, request, reply));
  app.delete('/artifactory/*', (request, reply) => del(ctx, request, reply));
}
