/** One npm registry request, as the npm route handlers share it. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ArcaError } from '../../core/errors.js';
import type { RepoConfig } from '../../services/repositories.js';
import type { AccessCheck } from '../../services/storage-api.js';
import type { AppContext } from '../app-context.js';
import { baseUrl } from '../auth.js';
import type { NpmPackages } from './npm-packages.js';

export interface NpmCall {
  ctx: AppContext;
  packages: NpmPackages;
  request: FastifyRequest;
  reply: FastifyReply;
  repo: RepoConfig;
  /** The path after `/api/npm/{repo}/`, still percent-encoded, without the query. */
  path: string;
  query: URLSearchParams;
  can: AccessCheck;
}

/** `{base}/api/npm/{repo}/`: what tarball URLs and search links are written under. */
export async function registryUrl(call: NpmCall): Promise<string> {
  return `${await baseUrl(call.ctx, call.request)}/api/npm/${call.repo.key}/`;
}

/** The request body parsed as JSON (the npm routes read every body as bytes). */
export function jsonBody(call: Pick<NpmCall, 'request'>): unknown {
  const raw = call.request.body;
  if (!Buffer.isBuffer(raw) || raw.length === 0) throw new ArcaError('BAD_REQUEST', 'A JSON body is required');
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new ArcaError('BAD_REQUEST', `Invalid JSON body: ${(err as Error).message}`);
  }
}

export function sendJson(reply: FastifyReply, status: number, value: unknown): FastifyReply {
  return reply.code(status).type('application/json').send(Buffer.from(JSON.stringify(value)));
}
