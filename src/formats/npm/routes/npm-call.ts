/** One npm registry request, as the npm route handlers share it. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import { readBounded } from '../../../core/read-bounded.js';
import type { AppContext } from '../../../http/app-context.js';
import { baseUrl } from '../../../http/auth.js';
import type { Access } from '../../../security/access.js';
import type { RepoConfig } from '../../../services/repositories.js';
import type { NpmPackages } from '../service/npm-packages.js';

export interface NpmCall {
  ctx: AppContext;
  packages: NpmPackages;
  request: FastifyRequest;
  reply: FastifyReply;
  repo: RepoConfig;
  /** The path after `/api/npm/{repo}/`, still percent-encoded, without the query. */
  path: string;
  query: URLSearchParams;
  /** The caller's permissions (`request.access`), for the service to check. */
  access: Access;
}

/** `{base}/api/npm/{repo}/`: what tarball URLs and search links are written under. */
export async function registryUrl(call: NpmCall): Promise<string> {
  return `${await baseUrl(call.ctx, call.request)}/api/npm/${call.repo.key}/`;
}

/** Body limits of the npm endpoints (a publish streams, see ../publish-body.ts). */
export const NPM_BODY_LIMITS = {
  /** Login and dist-tag changes. */
  small: 64 * 1024,
  /** A whole packument sent back (`npm unpublish pkg@ver`, `npm deprecate`). */
  document: 16 * 1024 * 1024,
  /** An audit report request, forwarded upstream. */
  audit: 16 * 1024 * 1024,
} as const;

/** Refuses a body whose declared length is over `limit` before a byte of it is read. */
export function checkDeclaredLength(call: Pick<NpmCall, 'request'>, limit: number): void {
  const declared = Number(call.request.headers['content-length'] ?? 0);
  if (declared > limit) throw new ArcaError('PAYLOAD_TOO_LARGE', `The body is larger than ${limit} bytes`);
}

/** The request body, at most `limit` bytes (the npm routes leave every body unread until here). */
export async function readBody(call: Pick<NpmCall, 'request'>, limit: number): Promise<Buffer> {
  checkDeclaredLength(call, limit);
  return readBounded(call.request.raw, limit, () => new ArcaError('PAYLOAD_TOO_LARGE', `The body is larger than ${limit} bytes`));
}

/** The request body parsed as JSON, at most `limit` bytes. */
export async function jsonBody(call: Pick<NpmCall, 'request'>, limit: number): Promise<unknown> {
  const raw = await readBody(call, limit);
  if (raw.length === 0) throw new ArcaError('BAD_REQUEST', 'A JSON body is required');
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new ArcaError('BAD_REQUEST', `Invalid JSON body: ${(err as Error).message}`);
  }
}

export function sendJson(reply: FastifyReply, status: number, value: unknown): FastifyReply {
  return reply.code(status).type('application/json').send(Buffer.from(JSON.stringify(value)));
}
