import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ByteRange } from '../../../binstore/binary-provider.js';
import { checksumsOf } from '../../../core/digests.js';
import { ArcaError } from '../../../core/errors.js';
import { nameOf } from '../../../core/paths.js';
import type { StreamedContent } from '../../../formats/format-handler.js';
import { mimeTypeOf } from '../../../services/mime-types.js';
import type { Found } from '../../../services/serve/locate.js';
import type { AppContext } from '../../app-context.js';
import { multipartRanges, parseRange } from '../../ranges.js';
import { sendFileRange } from '../../send-file.js';

/** A stored file as a read answers it: the fields of its item this sends. */
export interface StoredFile {
  /** The item's id, when the file is an item (its downloads are counted). */
  id?: number;
  name: string;
  sha1: string | null;
  sha256: string | null;
  md5: string | null;
  size: number;
  modified: number;
  mime_type: string | null;
}

export function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
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

export interface Described {
  name: string;
  sha1: string;
  sha256?: string | null;
  md5?: string | null;
  size: number;
  modified: number;
  type: string;
}

/** The JFrog download headers of a file (names in lower case, as Fastify sends them). */
export function downloadHeaders(d: Described): Record<string, string> {
  const h: Record<string, string> = {};
  h['last-modified'] = new Date(d.modified).toUTCString();
  h.etag = d.sha1;
  h['x-checksum-sha1'] = d.sha1;
  if (d.sha256) h['x-checksum-sha256'] = d.sha256;
  if (d.md5) h['x-checksum-md5'] = d.md5;
  h['accept-ranges'] = 'bytes';
  h['x-artifactory-filename'] = encodeURIComponent(d.name);
  h['content-disposition'] = contentDisposition(d.name);
  return h;
}

/** Sets the JFrog download headers and answers 304 when the client's copy is current. */
function describe(request: FastifyRequest, reply: FastifyReply, d: Described): boolean {
  reply.headers(downloadHeaders(d));
  const inm = header(request, 'if-none-match');
  const ims = header(request, 'if-modified-since');
  return Boolean((inm && etagMatches(inm, d.sha1)) || (!inm && ims && Date.parse(ims) >= Math.floor(d.modified / 1000) * 1000));
}

/** Serves a stored file: conditional requests, ranges, HEAD, small files from memory. */
export async function serveFile(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, item: StoredFile, head: boolean) {
  const sha1 = item.sha1!;
  const size = Number(item.size);
  const type = item.mime_type ?? 'application/octet-stream';
  if (describe(request, reply, { name: item.name, sha1, sha256: item.sha256, md5: item.md5, size, modified: item.modified, type })) {
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
  const small = size <= ctx.serve.bodies.smallFileLimit;
  if (range.kind === 'ranges' && range.ranges.length === 1) {
    const r = range.ranges[0];
    reply.code(206).header('Content-Range', `bytes ${r.start}-${r.end}/${size}`).header('Content-Type', type);
    if (small) return reply.send((await ctx.serve.bodies.readSmall(sha1)).subarray(r.start, r.end + 1));
    reply.header('Content-Length', String(r.end - r.start + 1));
    return sendLarge(ctx, reply, sha1, r, 206);
  }
  if (range.kind === 'ranges') {
    const mp = multipartRanges(range.ranges, size, type, (r) => ctx.serve.bodies.read(sha1, r));
    reply.code(206).header('Content-Type', `multipart/byteranges; boundary=${mp.boundary}`).header('Content-Length', String(mp.length));
    return reply.send(mp.body);
  }
  // A whole file sent (or handed to the object store) is a download; ranges and HEADs are not.
  if (item.id !== undefined) ctx.downloadStats.record(Number(item.id), request.access.user);
  // Object stores with direct downloads (presigned URLs) serve whole files themselves.
  const direct = await ctx.serve.bodies.downloadUrl(sha1, size);
  if (direct) return reply.redirect(direct, 302);
  reply.code(200).header('Content-Type', type);
  if (small) return reply.send(await ctx.serve.bodies.readSmall(sha1));
  reply.header('Content-Length', String(size));
  return sendLarge(ctx, reply, sha1, { start: 0, end: size - 1 }, 200);
}

async function sendLarge(ctx: AppContext, reply: FastifyReply, sha1: string, range: ByteRange, status: number) {
  const fh = await ctx.serve.bodies.openFile(sha1);
  if (fh) return sendFileRange(reply, fh, range, status);
  return reply.code(status).send(await ctx.serve.bodies.read(sha1, range));
}

/** Serves content made on the fly (merged metadata, checksum files) with the same headers. */
export function serveBytes(request: FastifyRequest, reply: FastifyReply, path: string, data: Buffer, modified: number, head: boolean, type?: string) {
  const sums = checksumsOf(data);
  const mime = type ?? mimeTypeOf(path);
  if (describe(request, reply, { name: nameOf(path), ...sums, size: data.length, modified, type: mime })) return reply.code(304).send();
  reply.code(200).header('Content-Type', mime);
  if (head) return reply.header('Content-Length', String(data.length)).send();
  return reply.send(data);
}

/** Content a format makes as it is sent (whole: no ranges), with the headers and conditional answers of a stored file. */
function serveStream(request: FastifyRequest, reply: FastifyReply, path: string, a: StreamedContent, head: boolean) {
  if (describe(request, reply, { name: nameOf(path), ...a.sums, modified: a.modified, type: a.type })) return reply.code(304).send();
  reply.removeHeader('accept-ranges');
  reply.code(200).header('Content-Type', a.type).header('Content-Length', String(a.sums.size));
  if (head) return reply.send();
  return reply.send(Readable.from(a.parts()));
}

/** Sends what the serve service found at `path`: a stored file, bytes or a stream a format made; undefined for a folder (the route decides). */
export async function serveFound(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, path: string, found: Found, head: boolean): Promise<FastifyReply | undefined> {
  if (found.kind === 'item') {
    await serveFile(ctx, request, reply, found.item, head);
    return reply;
  }
  if (found.kind === 'bytes') return serveBytes(request, reply, path, found.data, found.modified, head, found.type);
  if (found.kind === 'stream') return serveStream(request, reply, path, found, head);
  return undefined;
}
