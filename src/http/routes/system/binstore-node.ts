import type { FastifyInstance, FastifyRequest } from 'fastify';
import { checkSha1, isSha1 } from '../../../binstore/guard/sha1-key.js';
import { NODE_API_PREFIX, signedPath, verifyRequest, type NodeBinstore } from '../../../binstore/sharding/node-auth.js';
import { ArcaError } from '../../../core/errors.js';
import type { AppContext } from '../../app-context.js';
import { parseRange } from '../../ranges.js';

const PREFIX = `/artifactory${NODE_API_PREFIX}`;
/** A listing is sorted once and served page by page from that snapshot for this long. */
const SNAPSHOT_MS = 60_000;
const MAX_PAGE = 10_000;

interface Entry {
  sha1: string;
  mtimeMs: number;
}

function sha1Param(request: FastifyRequest<{ Params: { sha1: string } }>): string {
  checkSha1(request.params.sha1);
  return request.params.sha1;
}

/** First index whose SHA-1 sorts after `after`. */
function firstAfter(entries: Entry[], after: string): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (entries[mid].sha1 <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The internal node-to-node binary-store API (the `remote` provider's peer side), served from
 * this node's LOCAL shard only, so a request never travels further. Every request must carry
 * a valid node signature (binstore/sharding/node-auth.ts); user credentials play no part.
 *
 * - HEAD/GET  …/binaries/{sha1}      size / bytes (one `Range` allowed)
 * - PUT       …/binaries/{sha1}      streamed body, staged locally, committed only if its SHA-1 matches (409 otherwise)
 * - DELETE    …/binaries/{sha1}      204, or 404 when absent
 * - GET       …/binaries?after=&limit=  `{ items: [{sha1, mtimeMs}], next? }` in SHA-1 order
 * - GET       …/check                the local shard takes writes
 */
export async function binstoreNodeRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  // Signed by a node: checked by the onRequest hook below, before any body is read.
  const route = { config: { public: true, access: 'open' as const } };
  let snapshot: { at: number; entries: Entry[] } | undefined;

  const local = (): NodeBinstore => {
    const node = ctx.binstoreNode;
    if (!node) throw new ArcaError('NOT_FOUND', 'This node keeps no cluster file store (its binarystore.xml has no sharding-cluster provider)');
    return node;
  };

  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith(PREFIX)) return;
    const node = local();
    const path = signedPath(request.raw.url ?? '');
    const verdict = path === undefined ? { ok: false as const, reason: 'not a node API path' } : verifyRequest(node.secret, request.headers, request.method, path, ctx.clock.now(), node.maxSkewMs);
    if (!verdict.ok) throw new ArcaError('UNAUTHORIZED', `Node request refused: ${verdict.reason}`);
  });

  app.head<{ Params: { sha1: string } }>(`${PREFIX}/binaries/:sha1`, route, async (request, reply) => {
    const size = await local().local.size(sha1Param(request));
    if (size === undefined) return reply.code(404).send();
    return reply.code(200).header('content-length', String(size)).header('content-type', 'application/octet-stream').send();
  });

  app.get<{ Params: { sha1: string } }>(`${PREFIX}/binaries/:sha1`, route, async (request, reply) => {
    const sha1 = sha1Param(request);
    const provider = local().local;
    const size = await provider.size(sha1);
    if (size === undefined) throw new ArcaError('ITEM_NOT_FOUND', `Binary ${sha1} is not on node '${local().nodeId}'`);
    const range = parseRange(request.headers.range, size);
    if (range.kind === 'unsatisfiable') {
      reply.header('content-range', `bytes */${size}`);
      throw new ArcaError('RANGE_NOT_SATISFIABLE', `Range not satisfiable for a ${size}-byte binary`);
    }
    reply.header('content-type', 'application/octet-stream');
    if (range.kind === 'ranges' && range.ranges.length === 1) {
      const r = range.ranges[0];
      reply.code(206).header('content-range', `bytes ${r.start}-${r.end}/${size}`).header('content-length', String(r.end - r.start + 1));
      return reply.send(await provider.read(sha1, r));
    }
    return reply.code(200).header('content-length', String(size)).send(await provider.read(sha1));
  });

  app.put<{ Params: { sha1: string } }>(`${PREFIX}/binaries/:sha1`, route, async (request, reply) => {
    const sha1 = sha1Param(request);
    const abort = new AbortController();
    request.raw.on('close', () => {
      if (!request.raw.complete) abort.abort();
    });
    const staged = await local().local.stage(request.raw, { signal: abort.signal });
    if (staged.sha1 !== sha1) {
      await staged.discard();
      throw new ArcaError('CHECKSUM_MISMATCH', `The bytes sent for ${sha1} have SHA-1 ${staged.sha1}; nothing was stored`);
    }
    await staged.commit();
    return reply.code(201).send({ sha1, size: staged.size });
  });

  app.delete<{ Params: { sha1: string } }>(`${PREFIX}/binaries/:sha1`, route, async (request, reply) => {
    const removed = await local().local.delete(sha1Param(request));
    return reply.code(removed ? 204 : 404).send();
  });

  app.get<{ Querystring: { after?: string; limit?: string } }>(`${PREFIX}/binaries`, route, async (request) => {
    const after = request.query.after ?? '';
    if (after !== '' && !isSha1(after)) throw new ArcaError('BAD_REQUEST', `'after' is a SHA-1 checksum, got '${after}'`);
    const limit = request.query.limit === undefined ? 1000 : Number(request.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new ArcaError('BAD_REQUEST', `'limit' is a whole number from 1 to ${MAX_PAGE}`);
    const now = ctx.clock.now();
    // A listing starts without `after`: that takes a fresh snapshot; later pages reuse it.
    if (after === '' || !snapshot || now - snapshot.at > SNAPSHOT_MS) {
      const entries: Entry[] = [];
      for await (const e of local().local.list()) entries.push({ sha1: e.sha1, mtimeMs: e.mtimeMs });
      entries.sort((a, b) => (a.sha1 < b.sha1 ? -1 : a.sha1 > b.sha1 ? 1 : 0));
      snapshot = { at: now, entries };
    }
    const start = firstAfter(snapshot.entries, after);
    const items = snapshot.entries.slice(start, start + limit);
    const more = start + limit < snapshot.entries.length;
    return more ? { items, next: items[items.length - 1].sha1 } : { items };
  });

  app.get(`${PREFIX}/check`, route, async () => {
    await local().local.check();
    return { ok: true, nodeId: local().nodeId };
  });
}
