import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ArcaError } from '../../../core/errors.js';
import type { AppContext } from '../../app-context.js';
import { requireAdmin } from '../../auth.js';

/** The log files of `logs/` a caller may read. */
export const LOG_FILES = ['arca.log', 'request.log'] as const;
export const DEFAULT_LINES = 200;
export const MAX_LINES = 5000;
/** How far back from the end a tail reads at most, whatever the line count. */
const MAX_TAIL_BYTES = 8 << 20;
const CHUNK = 64 << 10;
const FORWARD_TIMEOUT_MS = 10_000;
/** Marks a request one node forwarded to another, so a wrong registry URL cannot loop. */
const FORWARDED = 'x-arca-logs-forwarded';

export interface LogTail {
  node: string;
  file: string;
  /** The file's size in bytes (0 when it does not exist yet). */
  size: number;
  lines: string[];
  /** True when the file holds more lines before the first one returned. */
  truncated: boolean;
}

/** The last `lines` lines of a file, reading backwards from its end in chunks. */
export async function tailFile(path: string, lines: number): Promise<{ size: number; lines: string[]; truncated: boolean }> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { size: 0, lines: [], truncated: false };
    throw err;
  }
  try {
    const { size } = await fh.stat();
    const chunks: Buffer[] = [];
    let position = size;
    let newlines = 0;
    // One more line break than lines wanted: the text after it is complete.
    while (position > 0 && newlines <= lines && size - position < MAX_TAIL_BYTES) {
      const length = Math.min(CHUNK, position);
      position -= length;
      const buf = Buffer.alloc(length);
      await fh.read(buf, 0, length, position);
      for (const b of buf) if (b === 10) newlines++;
      chunks.unshift(buf);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    let all = text.split('\n');
    if (all[all.length - 1] === '') all.pop();
    // A partial first line (the read started mid-line) is dropped.
    if (position > 0) all = all.slice(1);
    const truncated = position > 0 || all.length > lines;
    return { size, lines: all.slice(-lines), truncated };
  } finally {
    await fh.close();
  }
}

function parseLines(raw: unknown): number {
  if (raw === undefined || raw === '') return DEFAULT_LINES;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LINES) throw new ArcaError('BAD_REQUEST', `'lines' is a whole number from 1 to ${MAX_LINES}, got '${String(raw)}'`);
  return n;
}

function parseFile(raw: unknown): string {
  if (raw === undefined || raw === '') return LOG_FILES[0];
  if (!(LOG_FILES as readonly string[]).includes(String(raw))) throw new ArcaError('BAD_REQUEST', `'file' is one of ${LOG_FILES.join(', ')}, got '${String(raw)}'`);
  return String(raw);
}

/** Asks another node for its own log tail, with the caller's credentials (sessions are shared). */
async function forward(ctx: AppContext, request: FastifyRequest, nodeId: string, file: string, lines: number) {
  if (request.headers[FORWARDED]) {
    throw new ArcaError('CONFLICT', `This is node '${ctx.node.nodeId}', not '${nodeId}': the registry's URL for '${nodeId}' points at another node`);
  }
  const target = (await ctx.registry.list()).find((n) => n.id === nodeId);
  if (!target) throw new ArcaError('NOT_FOUND', `No node '${nodeId}' in the cluster`);
  if (!target.url) throw new ArcaError('NOT_FOUND', `Node '${nodeId}' has no context URL`);
  const headers: Record<string, string> = { [FORWARDED]: ctx.node.nodeId, accept: 'application/json' };
  for (const h of ['authorization', 'cookie', 'x-jfrog-art-api', 'x-api-key']) {
    const v = request.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  const url = `${target.url.replace(/\/+$/, '')}/api/system/logs?node=${encodeURIComponent(nodeId)}&file=${encodeURIComponent(file)}&lines=${lines}`;
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS) });
  } catch (err) {
    throw new ArcaError('UPSTREAM_FAILED', `Node '${nodeId}' (${target.url}) did not answer: ${(err as Error).message}`);
  }
  const body = await res.json().catch(() => undefined);
  return { status: res.status, body: body ?? { errors: [{ status: 502, message: `Node '${nodeId}' answered ${res.status} without JSON` }] } };
}

/**
 * `GET /artifactory/api/system/logs?node=&file=&lines=` (admin): the tail of a node's
 * `logs/arca.log` (or `request.log`). Without `node`, or with this node's id, the answering
 * node reads its own file; with another id it asks that node through its context URL, so the
 * UI behind a balancer can show every node's logs.
 */
export async function systemLogRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Querystring: { node?: string; file?: string; lines?: string } }>('/artifactory/api/system/logs', async (request, reply) => {
    await requireAdmin(ctx, request);
    const lines = parseLines(request.query.lines);
    const file = parseFile(request.query.file);
    const nodeId = request.query.node;
    reply.header('cache-control', 'no-store');
    if (nodeId && nodeId !== ctx.node.nodeId) {
      const answer = await forward(ctx, request, nodeId, file, lines);
      return reply.code(answer.status).send(answer.body);
    }
    const tail = await tailFile(join(ctx.node.home, 'logs', file), lines);
    const body: LogTail = { node: ctx.node.nodeId, file, ...tail };
    return body;
  });
}
