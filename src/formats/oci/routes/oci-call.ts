import type { FastifyReply, FastifyRequest } from 'fastify';
import { readBounded } from '../../../core/read-bounded.js';
import type { AppContext } from '../../../http/app-context.js';
import type { Access } from '../../../security/access.js';
import { OciError } from '../oci-errors.js';
import type { ImageRef } from '../service/image-access.js';
import type { OciServices } from '../service/oci-services.js';

/** One registry request addressed to an image of a repository (`repo`, `image`, `name`). */
export interface OciCall extends ImageRef {
  ctx: AppContext;
  oci: OciServices;
  request: FastifyRequest;
  reply: FastifyReply;
  /** The caller's permissions: the use cases decide with them. */
  access: Access;
  /** '' for `/v2/…`, `/artifactory/api/docker/{repo}` for the repository-scoped API. */
  prefix: string;
  query: URLSearchParams;
}

export function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The URL of something below the image (`blobs/…`, `manifests/…`), as the client addresses it. */
export function urlOf(call: OciCall, rest: string): string {
  const name = call.name.split('/').map(encodeURIComponent).join('/');
  return `${call.prefix}/v2/${name}/${rest}`;
}

/** True when the request has a body to read (a length above zero, or a chunked one). */
export function hasBody(request: FastifyRequest): boolean {
  const len = header(request, 'content-length');
  if (header(request, 'transfer-encoding') !== undefined) return true;
  return len !== undefined && Number(len) > 0;
}

/** An AbortSignal that fires when the client goes away before its body is fully read. */
export function uploadSignal(request: FastifyRequest): AbortSignal {
  const abort = new AbortController();
  request.raw.on('close', () => {
    if (!request.raw.complete) abort.abort();
  });
  return abort.signal;
}

/** The request body into memory, refused past `limit` bytes (manifests). */
export async function readBody(request: FastifyRequest, limit: number): Promise<Buffer> {
  return readBounded(request.raw, limit, () => new OciError('SIZE_INVALID', `The body is larger than ${limit} bytes`, { code: 'PAYLOAD_TOO_LARGE' }));
}

/** `n` of a listing: a non-negative integer, or undefined when absent. */
export function pageSize(query: URLSearchParams): number | undefined {
  const n = query.get('n');
  if (n === null || n === '') return undefined;
  if (!/^\d+$/.test(n)) throw new OciError('UNSUPPORTED', `'n' must be a non-negative integer, not '${n}'`, { code: 'BAD_REQUEST' });
  return Number(n);
}
