import type { FastifyReply, FastifyRequest } from 'fastify';
import { OciError } from '../oci-errors.js';
import type { Action } from '../../../security/types.js';
import type { OciRegistry } from '../service/oci-registry.js';
import type { RepoConfig } from '../../../services/repositories.js';
import type { AppContext } from '../../../http/app-context.js';

/** One registry request addressed to an image of a repository. */
export interface OciCall {
  ctx: AppContext;
  reg: OciRegistry;
  request: FastifyRequest;
  reply: FastifyReply;
  /** '' for `/v2/…`, `/artifactory/api/docker/{repo}` for the repository-scoped API. */
  prefix: string;
  /** The name as the client wrote it after `/v2/` (`{repo}/{image}` at the root, `{image}` under a prefix). */
  name: string;
  repo: RepoConfig;
  image: string;
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

/** Checks a permission on a path of the image; 401 (with challenges) for anonymous callers, else 403. */
export async function need(call: OciCall, action: Action, path: string): Promise<void> {
  const { ctx, request, repo } = call;
  const principal = request.principal;
  if (await ctx.security.canAccess(principal, action, repo, path)) return;
  if (principal.anonymous) throw new OciError('UNAUTHORIZED', `Authentication is required to ${action} '${repo.key}/${call.image}'`);
  if ((await ctx.settings.get()).hideUnauthorizedResources) {
    throw new OciError('NAME_UNKNOWN', `Repository name '${call.name}' not known to the registry`, { detail: { name: call.name } });
  }
  throw new OciError('DENIED', `User '${principal.name}' may not ${action} '${repo.key}/${call.image}'`);
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
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of request.raw) {
    total += (chunk as Buffer).length;
    if (total > limit) throw new OciError('SIZE_INVALID', `The body is larger than ${limit} bytes`, { code: 'PAYLOAD_TOO_LARGE' });
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

/** `n` of a listing: a non-negative integer, or undefined when absent. */
export function pageSize(query: URLSearchParams): number | undefined {
  const n = query.get('n');
  if (n === null || n === '') return undefined;
  if (!/^\d+$/.test(n)) throw new OciError('UNSUPPORTED', `'n' must be a non-negative integer, not '${n}'`, { code: 'BAD_REQUEST' });
  return Number(n);
}
